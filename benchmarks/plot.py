"""An optional PNG of the scaling curves, when matplotlib is installed (it is not a dependency)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any


def available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def write(results: dict[str, Any], path: Path) -> bool:
    """Draw what the results hold; return False (and draw nothing) without matplotlib."""
    if not available():
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    ax = axes[0]
    rows = results.get("backprop", [])
    peers = list(rows[0]["timings"]) if rows else []
    for peer in peers:
        xs = [r["n_params"] * r["batch"] for r in rows if peer in r["timings"]]
        ys = [r["timings"][peer]["median_s"] for r in rows if peer in r["timings"]]
        ax.loglog(xs, ys, marker="o", label=peer)
    ax.set(title="one backprop pass", xlabel="parameters x batch", ylabel="seconds (median)")
    ax.legend(fontsize=7)
    ax = axes[1]
    grad = results.get("gradcheck", {}).get("rows", [])
    methods = sorted({m for r in grad for m in r["timings"]})
    for method in methods:
        xs = [r["n_params"] for r in grad if method in r["timings"]]
        ys = [r["timings"][method]["median_s"] for r in grad if method in r["timings"]]
        ax.loglog(xs, ys, marker="o", label=method)
    ax.set(title="gradient checking", xlabel="parameters", ylabel="seconds (median)")
    ax.legend(fontsize=7)
    ax = axes[2]
    sym = results.get("symbolic", {}).get("rows", [])
    for name in sorted({r["series"] for r in sym}):
        pts = [r for r in sym if r["series"] == name]
        xs = [sum(r["sizes"]) for r in pts]
        ax.semilogy(xs, [r["seconds"] for r in pts], marker="o", label=name)
    ax.set(title="symbolic proofs", xlabel="total units (sum of sizes)", ylabel="seconds")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
