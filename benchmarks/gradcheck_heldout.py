"""Held-out functions for issue 10: detection and false-failure rates of reference.gradcheck,
reference.directional_check and reference.large_model_check against torch.autograd.gradcheck and
jax.test_util.check_grads, plus the speed of central differences against torch's slow mode.

``python -m benchmarks.gradcheck_heldout [--quick]`` prints Markdown tables.

The functions are written here, apart from the project (plain numpy, hand-derived gradients, no
``reference`` code): badly scaled parameters, parameters at 1e-6 varying on their own scale,
parameters spanning 1e-8..1e8, corners (exactly at the point and just inside the first step),
float32, and a [784, 1000, 1000, 10] network (1.8 M parameters). Every checker sees the same
numpy cost and the same numpy gradient: torch through a custom autograd.Function, jax through
custom_vjp around pure_callback, so their verdicts differ only by their numerics. torch and jax
run with their default tolerances (a user's first call).

Protocol: false failures over ``FALSE_SEEDS`` seeds with the right gradient ("fail" counts; an
inconclusive verdict is reported separately and is not a failure); detection over
``DETECT_SEEDS`` seeds with the largest-|g| entry of one tensor multiplied by 1 + 1e-6.
jax (and jax only) is installed for measurement; it is no project dependency.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

Params = list[np.ndarray]
Cost = Callable[[Params], float]
Grad = Callable[[Params], Params]

FALSE_SEEDS = 50
DETECT_SEEDS = 20


@dataclass(frozen=True)
class Held:
    """One held-out function: params for a seed, cost, hand-written gradient, the tensor to plant in."""

    name: str
    make: Callable[[int], Params]
    cost: Cost
    grad: Grad
    plant_tensor: int = 0
    plant_index: int | None = None  # None: the largest-|g| entry of plant_tensor
    wrong: Grad | None = None  # a wrong gradient to detect instead of the 1e-6 plant


def _scaled() -> Held:
    def make(seed: int) -> Params:
        rng = np.random.default_rng(seed)
        return [rng.uniform(1, 2, 4) * 1e6, rng.uniform(1, 2, 3) * 1e-6]

    def cost(ps: Params) -> float:
        return float(np.sum(np.log(ps[0])) + np.sum(np.cos(ps[1] * 1e6)) + np.sum(ps[0] * 1e-6) ** 2)

    def grad(ps: Params) -> Params:
        return [1 / ps[0] + 2e-6 * np.sum(ps[0] * 1e-6), -1e6 * np.sin(ps[1] * 1e6)]

    return Held("tensors at 1e6 and 1e-6", make, cost, grad, plant_tensor=1)


def _small() -> Held:
    def make(seed: int) -> Params:
        return [np.random.default_rng(seed).uniform(0.5, 2.0, 6) * 1e-6]

    def cost(ps: Params) -> float:
        return float(np.sum(np.sin(ps[0] * 1e6) * np.arange(1, 7)))

    def grad(ps: Params) -> Params:
        return [1e6 * np.cos(ps[0] * 1e6) * np.arange(1, 7)]

    return Held("params ~1e-6 varying on their scale", make, cost, grad)


def _wide() -> Held:
    s = 10.0 ** np.arange(-8, 9, 2)

    def make(seed: int) -> Params:
        rng = np.random.default_rng(seed)
        return [np.array([v]) for v in s * rng.uniform(1, 3, s.size)]

    def scale(ps: Params) -> np.ndarray:
        return s * np.array([1e-2, 1.0, 1e2, 1e-2, 1.0, 1e2, 1e-2, 1.0, 1e2])

    def cost(ps: Params) -> float:
        u = np.concatenate(ps) / scale(ps)
        return float(np.sum(np.tanh(u) + 0.1 * u * u))

    def grad(ps: Params) -> Params:
        sc = scale(ps)
        u = np.concatenate(ps) / sc
        return list(((1 - np.tanh(u) ** 2) / sc + 0.2 * u / sc).reshape(-1, 1))

    return Held("params 1e-8..1e8, own scales", make, cost, grad, plant_tensor=4)


def _corner(offset: float) -> Held:
    corners = np.array([0.5, 10.0, 10.0, 10.0, 10.0, 10.0])

    def make(seed: int) -> Params:
        p = np.random.default_rng(seed).standard_normal(6)
        p[0] = 0.5 + offset  # entry 0 on the corner of |p - 0.5| (offset 0) or just beside it
        return [p]

    def cost(ps: Params) -> float:
        return float(np.sum(np.abs(ps[0] - corners)) + np.sum(np.sin(ps[0]) * np.arange(1, 7)))

    def grad(ps: Params) -> Params:  # the right-derivative convention at the corner
        return [np.where(ps[0] - corners >= 0, 1.0, -1.0) + np.cos(ps[0]) * np.arange(1, 7)]

    name = "corner at the point" if offset == 0 else f"corner {offset:g} inside the step"
    return Held(name, make, cost, grad, plant_tensor=0)


def _corner_beside() -> Held:
    """Issue 21, item 1: a corner 1e-8..1e-7 beside p in coordinate 3 (inside the first step, and
    inside the noise measurement's tables); the planted error sits in the smooth coordinate 5."""

    def make(seed: int) -> Params:
        rng = np.random.default_rng(seed)
        p = rng.standard_normal(9)
        p[8] = p[3] + rng.uniform(1e-8, 1e-7)  # the corner's position, carried as a constant
        return [p[:8], p[8:]]

    def cost(ps: Params) -> float:
        x, c = ps[0], ps[1][0]
        return float(np.sum(np.sin(x)) + 0.5 * np.sum(x[:-1] * x[1:]) + 2.0 * abs(x[3] - c))

    def grad(ps: Params) -> Params:
        x, c = ps[0], ps[1][0]
        g = np.cos(x)
        g[:-1] += 0.5 * x[1:]
        g[1:] += 0.5 * x[:-1]
        g[3] += 2.0 * np.sign(x[3] - c)
        return [g, np.array([-2.0 * np.sign(x[3] - c)])]

    return Held("corner 1e-8..1e-7 beside the point", make, cost, grad, plant_tensor=0, plant_index=5)


def _ripple() -> Held:
    """Issue 21, item 2: a ripple 1e-13 sin(1e9 x) whose derivative, 1e-4 cos(1e9 x), is part of
    the exact gradient (float64 central differences at h = 2^-33 confirm it)."""

    def make(seed: int) -> Params:
        return [np.random.default_rng(seed).standard_normal(5)]

    def cost(ps: Params) -> float:
        x = ps[0]
        return float(np.sum(x**3 / 3 + x) + 0.5 * x[0] * x[1] + 1e-13 * np.sum(np.sin(1e9 * x)))

    def grad(ps: Params) -> Params:
        x = ps[0]
        g = x**2 + 1 + 1e-4 * np.cos(1e9 * x)
        g[0] += 0.5 * x[1]
        g[1] += 0.5 * x[0]
        return [g]

    def without_ripple(ps: Params) -> Params:  # the wrong gradient: 1e-4 cos(1e9 x) left out
        return [grad(ps)[0] - 1e-4 * np.cos(1e9 * ps[0])]

    return Held("ripple 1e-13 sin(1e9 x) (wrong: ripple term left out)", make, cost, grad, wrong=without_ripple)


def _mlp32() -> Held:
    def make(seed: int) -> Params:
        rng = np.random.default_rng(seed)
        return [
            (rng.standard_normal((8, 5)) * 0.5).astype(np.float32),
            (rng.standard_normal(8) * 0.1).astype(np.float32),
            (rng.standard_normal((3, 8)) * 0.5).astype(np.float32),
        ]

    x = np.random.default_rng(99).standard_normal((16, 5)).astype(np.float32)
    y = np.random.default_rng(98).standard_normal((16, 3)).astype(np.float32)

    def cost(ps: Params) -> float:
        h = np.tanh(x @ ps[0].T + ps[1])
        r = h @ ps[2].T - y
        return float(np.sum(r * r, dtype=np.float32) / np.float32(2 * len(x)))

    def grad(ps: Params) -> Params:
        h = np.tanh(x @ ps[0].T + ps[1])
        r = (h @ ps[2].T - y) / np.float32(len(x))
        dh = (r @ ps[2]) * (1 - h * h)
        return [(dh.T @ x).astype(np.float32), dh.sum(axis=0).astype(np.float32), (r.T @ h).astype(np.float32)]

    return Held("float32 tanh MLP", make, cost, grad, plant_tensor=0)


def mlp(sizes: tuple[int, ...], batch: int = 10) -> Held:
    """A sigmoid MLP with quadratic cost, mean over the batch, forward and backward by hand."""
    rng0 = np.random.default_rng(7)
    x = rng0.random((batch, sizes[0]))
    y = np.zeros((batch, sizes[-1]))
    y[np.arange(batch), rng0.integers(0, sizes[-1], batch)] = 1.0

    def make(seed: int) -> Params:
        rng = np.random.default_rng(seed)
        out: Params = []
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            out += [rng.standard_normal((b, a)) / np.sqrt(a), rng.standard_normal(b)]
        return out

    def forward(ps: Params) -> list[np.ndarray]:
        acts = [x]
        for i in range(0, len(ps), 2):
            acts.append(1 / (1 + np.exp(-(acts[-1] @ ps[i].T + ps[i + 1]))))
        return acts

    def cost(ps: Params) -> float:
        r = forward(ps)[-1] - y
        return float(0.5 * np.sum(r * r) / batch)

    def grad(ps: Params) -> Params:
        acts = forward(ps)
        delta = (acts[-1] - y) * acts[-1] * (1 - acts[-1]) / batch
        out: Params = [np.empty(0)] * len(ps)
        for i in range(len(ps) - 2, -1, -2):
            layer = i // 2
            out[i], out[i + 1] = delta.T @ acts[layer], delta.sum(axis=0)
            if i:
                delta = (delta @ ps[i]) * acts[layer] * (1 - acts[layer])
        return out

    n = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    return Held(f"sigmoid MLP {list(sizes)} ({n:,} params)", make, cost, grad, plant_tensor=0)


# --- the checkers ------------------------------------------------------------------------------


def ours(held: Held, params: Params, gradient: Params) -> str:
    from reference import gradcheck

    return str(gradcheck(held.cost, params=params, gradient=gradient).verdict)


def ours_directional(held: Held, params: Params, gradient: Params) -> str:
    from reference import directional_check

    return str(directional_check(held.cost, params=params, gradient=gradient).verdict)


def ours_large(held: Held, params: Params, gradient: Params) -> str:
    from reference import large_model_check

    return str(large_model_check(held.cost, params=params, gradient=gradient).verdict)


def torch_check(held: Held, params: Params, gradient: Params, fast: bool = False) -> str:
    import torch

    class Wrapped(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, *ts: Any) -> Any:
            value = held.cost([t.detach().numpy() for t in ts])
            return torch.tensor(value, dtype=ts[0].dtype)

        @staticmethod
        def backward(ctx: Any, out: Any) -> Any:
            # the gradient under test, whatever the point (gradcheck only asks at params)
            return tuple(out * torch.from_numpy(np.array(g, dtype=np.asarray(g).dtype)) for g in gradient)

    inputs = tuple(torch.tensor(p, requires_grad=True) for p in params)
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ok = torch.autograd.gradcheck(Wrapped.apply, inputs, fast_mode=fast, raise_exception=False)
    except Exception:  # noqa: BLE001 - any crash of the checker is its verdict
        return "error"
    return "pass" if ok else "fail"


def jax_check(held: Held, params: Params, gradient: Params) -> str:
    import jax
    import jax.numpy as jnp
    from jax.test_util import check_grads

    jax.config.update("jax_enable_x64", True)
    dtype = params[0].dtype

    @jax.custom_vjp
    def f(*ps: Any) -> Any:
        return jax.pure_callback(
            lambda *a: np.asarray(held.cost([np.asarray(v) for v in a]), dtype=dtype),
            jax.ShapeDtypeStruct((), dtype),
            *ps,
        )

    def fwd(*ps: Any) -> Any:
        return f(*ps), None

    def bwd(_: Any, ct: Any) -> Any:
        return tuple(ct * jnp.asarray(g) for g in gradient)

    f.defvjp(fwd, bwd)
    try:
        check_grads(f, tuple(jnp.asarray(p) for p in params), order=1, modes=["rev"])
    except AssertionError:
        return "fail"
    except Exception:  # noqa: BLE001 - any crash of the checker is its verdict
        return "error"
    return "pass"


NUMDIFFTOOLS_RTOL = 64 * 2.0**-53  # the analytic allowance reference.gradcheck gives a callable


def numdifftools_check(held: Held, params: Params, gradient: Params, allclose: bool = False) -> str:
    """numdifftools.Gradient (adaptive step, Richardson) on the flattened parameters. numdifftools
    has no checker of its own, so two verdicts: by its own error estimate (pass when every
    |g_i - estimate_i| <= error_i + 64 u max|g|, the analytic allowance reference.gradcheck gives a
    callable), or (allclose=True) by numpy.allclose's defaults (rtol 1e-5, atol 1e-8), a user's
    first comparison."""
    import numdifftools as nd

    shapes = [np.shape(p) for p in params]
    sizes = [int(np.size(p)) for p in params]
    dtype = params[0].dtype

    def flat_cost(v: np.ndarray) -> float:
        parts, k = [], 0
        for shape, n in zip(shapes, sizes, strict=True):
            parts.append(np.asarray(v[k : k + n], dtype=dtype).reshape(shape))
            k += n
        return float(held.cost(parts))

    x0 = np.concatenate([np.asarray(p, dtype=np.float64).reshape(-1) for p in params])
    g = np.concatenate([np.asarray(t, dtype=np.float64).reshape(-1) for t in gradient])
    try:
        found = nd.Gradient(flat_cost, full_output=True)(x0)  # EstimateResult(estimate, error_estimate, ...)
    except Exception:  # noqa: BLE001 - any crash of the checker is its verdict
        return "error"
    error = np.asarray(found.error_estimate, dtype=np.float64).reshape(-1)
    estimate = np.asarray(found.estimate, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(g)):
        return "fail"
    if allclose:
        return "pass" if bool(np.allclose(g, estimate)) else "fail"
    ok = np.abs(g - estimate) <= error + NUMDIFFTOOLS_RTOL * float(np.max(np.abs(g)))
    return "pass" if bool(np.all(ok)) else "fail"


def _plant(gradient: Params, tensor: int, index: int | None = None) -> Params:
    out = [np.array(g, copy=True) for g in gradient]
    i = int(np.argmax(np.abs(out[tensor]))) if index is None else index
    out[tensor].flat[i] *= 1 + 1e-6
    return out


def _params(held: Held, seed: int) -> Params:
    return held.make(seed)


def rates(
    held: Held, checker: Callable[[Held, Params, Params], str], false_seeds: int, detect_seeds: int
) -> dict[str, float]:
    """Fractions: false failures, inconclusive (right gradient), detection (planted 1e-6)."""
    false = inconclusive = detected = 0
    for seed in range(false_seeds):
        params = _params(held, seed)
        verdict = checker(held, params, held.grad(params))
        false += verdict == "fail"
        inconclusive += verdict in ("inconclusive", "error")
    for seed in range(detect_seeds):
        params = _params(held, seed)
        wrong = (
            held.wrong(params)
            if held.wrong is not None
            else _plant(held.grad(params), held.plant_tensor, held.plant_index)
        )
        detected += checker(held, params, wrong) == "fail"
    return {
        "false": false / false_seeds,
        "inconclusive": inconclusive / false_seeds,
        "detected": detected / detect_seeds,
    }


# checker -> the module it needs (None: only the reference)
PEERS: dict[str, str | None] = {
    "reference.gradcheck": None,
    "reference.directional_check": None,
    "torch gradcheck (slow)": "torch",
    "torch gradcheck (fast)": "torch",
    "jax check_grads": "jax",
    "numdifftools (own error estimate)": "numdifftools",
    "numdifftools (allclose)": "numdifftools",
}


EXTRAS = {"torch": "torch", "jax": "jax", "numdifftools": "peers"}  # the pyproject extra of each


def _checkers() -> dict[str, Callable[[Held, Params, Params], str]]:
    return {
        "reference.gradcheck": ours,
        "reference.directional_check": ours_directional,
        "torch gradcheck (slow)": torch_check,
        "torch gradcheck (fast)": lambda h, p, g: torch_check(h, p, g, fast=True),
        "jax check_grads": jax_check,
        "numdifftools (own error estimate)": numdifftools_check,
        "numdifftools (allclose)": lambda h, p, g: numdifftools_check(h, p, g, allclose=True),
    }


def unavailable() -> dict[str, str]:
    """Peers whose module is not installed, with the reason printed under the table."""
    return {
        name: f"{module} is not installed (pip install -e '.[{EXTRAS[module]}]')"
        for name, module in PEERS.items()
        if module is not None and importlib.util.find_spec(module) is None
    }


def helds() -> list[Held]:
    """Round one (issue 10) and round two (issue 21) held-out functions."""
    return [
        _scaled(),
        _small(),
        _wide(),
        _corner(0.0),
        _corner(1e-9),
        _corner_beside(),
        _ripple(),
        _mlp32(),
        mlp((20, 10, 1)),
    ]


def measure_table(quick: bool) -> dict[str, Any]:
    """Rates per function and checker; a peer whose module is missing is skipped with the reason."""
    fs, ds = (10, 5) if quick else (FALSE_SEEDS, DETECT_SEEDS)
    checkers = _checkers()
    skipped = unavailable()
    rows = []
    for held in helds():
        cells = {name: rates(held, checker, fs, ds) for name, checker in checkers.items() if name not in skipped}
        rows.append({"function": held.name, "rates": cells})
    return {"false_seeds": fs, "detect_seeds": ds, "checkers": list(checkers), "skipped": skipped, "rows": rows}


def render_table(results: dict[str, Any]) -> list[str]:
    """The Markdown table of ``measure_table``'s results (docs/gradient-checking.md holds it)."""
    names = [n for n in results["checkers"] if n not in results["skipped"]]
    lines = [
        f"False failures / inconclusive with the right gradient ({results['false_seeds']} seeds) and "
        f"detection of one entry off by 1e-6 ({results['detect_seeds']} seeds):",
        "",
        "| function | " + " | ".join(names) + " |",
        "| --- |" + " --- |" * len(names),
    ]
    for row in results["rows"]:
        cells = [
            f"{r['false']:.0%} / {r['inconclusive']:.0%} / {r['detected']:.0%}"
            for r in (row["rates"][n] for n in names)
        ]
        lines.append(f"| {row['function']} | " + " | ".join(cells) + " |")
    lines += ["", "Cells: false failures / inconclusive / detected."]
    lines += [f"Not run: {name}: {why}." for name, why in results["skipped"].items()]
    return lines


def table(quick: bool) -> list[str]:
    return render_table(measure_table(quick))


def large(quick: bool) -> list[str]:
    """The 1.8 M-parameter network: time and detection of a single wrong entry per checker."""
    held = mlp((784, 1000, 1000, 10))
    seeds = 1 if quick else 3
    out = [
        "",
        "[784, 1000, 1000, 10] (1,796,010 parameters), one wrong entry (largest |g| of w^2, 1e-6):",
        "",
        "| checker | right gradient | planted 1e-6 | seconds per check |",
        "| --- | --- | --- | --- |",
    ]
    checkers = {
        "reference.large_model_check": ours_large,
        "reference.directional_check": ours_directional,
        "torch gradcheck (fast)": lambda h, p, g: torch_check(h, p, g, fast=True),
        "jax check_grads": jax_check,
    }
    for name, checker in checkers.items():
        right, planted, seconds = [], [], []
        for seed in range(seeds):
            params = _params(held, seed)
            g = held.grad(params)
            start = time.perf_counter()
            right.append(checker(held, params, g))
            seconds.append(time.perf_counter() - start)
            planted.append(checker(held, params, _plant(g, 0)))
        out.append(f"| {name} | {', '.join(right)} | {', '.join(planted)} | {np.median(seconds):.2f} |")
    return out


def torch_cost(sizes: tuple[int, ...], batch: int = 10) -> Callable[..., Any]:
    """The same sigmoid MLP cost written in torch (torch's own autograd gives its analytic side)."""
    import torch

    rng0 = np.random.default_rng(7)
    x = torch.from_numpy(rng0.random((batch, sizes[0])))
    yy = np.zeros((batch, sizes[-1]))
    yy[np.arange(batch), rng0.integers(0, sizes[-1], batch)] = 1.0
    y = torch.from_numpy(yy)

    def cost(*ps: Any) -> Any:
        a = x
        for i in range(0, len(ps), 2):
            a = torch.sigmoid(a @ ps[i].T + ps[i + 1])
        return 0.5 * ((a - y) ** 2).sum() / batch

    return cost


def speed(quick: bool) -> list[str]:
    """Central differences on a callable against torch's slow mode on the same function, one thread."""
    import torch
    from threadpoolctl import threadpool_limits

    from reference import gradcheck

    torch.set_num_threads(1)
    sizes_list = [(20, 10, 1), (100, 30, 3)] if quick else [(20, 10, 1), (100, 30, 3), (784, 30, 10)]
    out = [
        "",
        "Central differences against torch.autograd.gradcheck's slow mode, same MLP, one thread:",
        "",
        "| network | params | reference.gradcheck (callable) | torch slow | ratio | torch fast |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    with threadpool_limits(1):
        for sizes in sizes_list:
            held = mlp(sizes)
            params = held.make(0)
            g = held.grad(params)
            tcost = torch_cost(sizes)
            tparams = tuple(torch.tensor(p, requires_grad=True) for p in params)
            ts: dict[str, list[float]] = {"ours": [], "slow": [], "fast": []}
            rounds = 1 if quick or sizes[0] > 500 else 3
            for _ in range(rounds):
                start = time.perf_counter()
                gradcheck(held.cost, params=params, gradient=g)
                ts["ours"].append(time.perf_counter() - start)
                start = time.perf_counter()
                torch.autograd.gradcheck(tcost, tparams)
                ts["slow"].append(time.perf_counter() - start)
                start = time.perf_counter()
                torch.autograd.gradcheck(tcost, tparams, fast_mode=True)
                ts["fast"].append(time.perf_counter() - start)
            o, s, f = (min(ts[k]) for k in ("ours", "slow", "fast"))
            n = sum(p.size for p in params)
            out.append(f"| {list(sizes)} | {n:,} | {o:.3f} s | {s:.3f} s | {o / s:.2f} | {f:.4f} s |")
    return out


ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "gradcheck_heldout.json"
DOC = ROOT / "docs" / "gradient-checking.md"
START = (
    "<!-- Generated by `python -m benchmarks.gradcheck_heldout --write` (measures) or `--render` "
    "(from benchmarks/results/gradcheck_heldout.json alone); do not edit by hand. -->"
)
END = "<!-- end of the generated held-out table -->"


def with_table(page: str, results: dict[str, Any]) -> str:
    """The page with the block between START and END replaced by ``render_table(results)``."""
    if START not in page or END not in page:
        raise ValueError(f"{DOC.name} has no generated block (the lines {START!r} ... {END!r})")
    head, rest = page.split(START, 1)
    _, tail = rest.split(END, 1)
    return head + START + "\n\n" + "\n".join(render_table(results)) + "\n\n" + END + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gradcheck_heldout", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer seeds, smaller networks")
    parser.add_argument("--only", choices=["table", "large", "speed"], default=None)
    parser.add_argument(
        "--write", action="store_true", help=f"measure the table, save {RESULTS.name}, regenerate {DOC.name}"
    )
    parser.add_argument("--render", action="store_true", help=f"regenerate {DOC.name} from {RESULTS.name} alone")
    args = parser.parse_args(argv)
    if args.write or args.render:
        if args.write:
            results = measure_table(args.quick)
            RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
        results = json.loads(RESULTS.read_text(encoding="utf-8"))
        DOC.write_text(with_table(DOC.read_text(encoding="utf-8"), results), encoding="utf-8")
        print("\n".join(render_table(results)))
        return 0
    parts = {"table": table, "large": large, "speed": speed}
    for name, part in parts.items():
        if args.only in (None, name):
            print("\n".join(part(args.quick)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
