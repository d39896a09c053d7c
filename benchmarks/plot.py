"""An optional PNG of the scaling curves, when matplotlib is installed (it is not a dependency)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any


def available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def _curves(ax: Any, rows: list[dict[str, Any]], x_of: Callable[[dict[str, Any]], float], names: list[str]) -> None:
    """One log-log curve of median time per peer or method, over the rows that timed it."""
    for name in names:
        timed = [r for r in rows if name in r["timings"]]
        ax.loglog([x_of(r) for r in timed], [r["timings"][name]["median_s"] for r in timed], marker="o", label=name)
    ax.legend(fontsize=7)


def write(results: dict[str, Any], path: Path) -> bool:
    """Draw what the results hold; return False (and draw nothing) without matplotlib."""
    if not available():
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    backprop = results.get("backprop", [])
    _curves(axes[0], backprop, lambda r: r["n_params"] * r["batch"], list(backprop[0]["timings"]) if backprop else [])
    axes[0].set(title="one backprop pass", xlabel="parameters x batch", ylabel="seconds (median)")
    grad = results.get("gradcheck", {}).get("rows", [])
    _curves(axes[1], grad, lambda r: r["n_params"], sorted({m for r in grad for m in r["timings"]}))
    axes[1].set(title="gradient checking", xlabel="parameters", ylabel="seconds (median)")
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
