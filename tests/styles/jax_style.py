"""A jitted JAX implementation, written the way JAX users write one: a positive control.

The cost is written with jax.numpy on the pre-activations and differentiated by
``jax.jit(jax.value_and_grad(...))``: nothing hand-codes a derivative. The
per-sample errors delta^{x,l} = dC_x/dz^{x,l} are gradients with respect to zero
offsets added to every z^l, of sum_x C_x (samples do not interact, so this is the
contract's per-sample delta, whatever the reduction). The activations, cost and
reduction are static arguments: XLA compiles once per architecture, batch size and
dtype (twice per architecture in the suite: batch_additivity asks for m = 1 too), a
cost the conformance search is designed to pay once per architecture, not per case.

Needs jax (``pip install 'backprop-reference[jax]'``); importing this module without
it raises ImportError, which the tests turn into a skip with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

try:
    import jax
    import jax.numpy as jnp
except ImportError as error:  # pragma: no cover - exercised only without jax
    raise ImportError("tests/styles/jax_style.py needs jax: pip install 'backprop-reference[jax]'") from error

jax.config.update("jax_enable_x64", True)  # float64 cases are computed in float64
jax.config.update("jax_platforms", "cpu")

capabilities: dict[str, list[str]] = {
    "activations": ["sigmoid", "tanh", "relu", "identity", "softplus", "softmax"],
    "costs": ["quadratic", "cross_entropy", "log_likelihood"],
    "reductions": ["mean", "sum"],
    "dtypes": ["float64", "float32"],
    "outputs": ["deltas", "cost"],
}

_ACTIVATIONS: dict[str, Callable[[Any], Any]] = {
    "sigmoid": jax.nn.sigmoid,
    "tanh": jnp.tanh,
    "relu": lambda z: jnp.where(z > 0, z, 0.0),  # relu'(0) = 0, the contract's default
    "identity": lambda z: z,
    "softplus": lambda z: jnp.logaddexp(z, 0.0),
    "softmax": lambda z: jax.nn.softmax(z, axis=1),
}


def _per_sample(cost: str, z_L: Any, a_L: Any, y: Any) -> Any:
    """C_x, computed from z^L where a is a rounded sigmoid or softmax (no ln 0 on saturation)."""
    if cost == "quadratic":
        return 0.5 * jnp.sum((a_L - y) ** 2, axis=1)
    if cost == "cross_entropy":
        return jnp.sum(jnp.logaddexp(z_L, 0.0) - y * z_L, axis=1)
    if cost == "log_likelihood":
        return -jnp.sum(y * jax.nn.log_softmax(z_L, axis=1), axis=1)
    raise ValueError(f"unknown cost {cost!r}")


def _costs(
    params: tuple[list[Any], list[Any]], offsets: list[Any], x: Any, y: Any, activations: tuple[str, ...], cost: str
) -> Any:
    """sum_x C_x, with z^l + offsets[l] in place of z^l (the offsets are zero: their gradient is delta^l)."""
    weights, biases = params
    a = x
    z = a
    for w, b, e, name in zip(weights, biases, offsets, activations, strict=True):
        z = a @ w.T + b + e
        a = _ACTIVATIONS[name](z)
    return _per_sample(cost, z, a, y)


@partial(jax.jit, static_argnames=("activations", "cost", "reduction"))
def _backprop(
    params: tuple[list[Any], list[Any]], x: Any, y: Any, activations: tuple[str, ...], cost: str, reduction: str
) -> tuple[Any, Any, Any]:
    m = x.shape[0]
    offsets = [jnp.zeros((m, b.shape[0]), x.dtype) for b in params[1]]

    def total(p: tuple[list[Any], list[Any]]) -> Any:
        per = _costs(p, offsets, x, y, activations, cost)
        return jnp.mean(per) if reduction == "mean" else jnp.sum(per)

    value, grads = jax.value_and_grad(total)(params)
    deltas = jax.grad(lambda e: jnp.sum(_costs(params, e, x, y, activations, cost)))(offsets)
    return value, grads, deltas


# Each compiled shape holds about 50 memory maps of machine code; a process may have 65530.
# Thousands of shapes (a long search) would exhaust them ("LLVM compilation error: Cannot
# allocate memory"), so the compilation caches are dropped every COMPILED_LIMIT shapes.
COMPILED_LIMIT = 400
_compiled: set[tuple[Any, ...]] = set()


def _bounded_cache(case: Any, static: dict[str, Any]) -> None:
    signature = (tuple(case.sizes), len(case.x), str(case.dtype), *static.values())
    if signature not in _compiled and len(_compiled) >= COMPILED_LIMIT:
        jax.clear_caches()
        _compiled.clear()
    _compiled.add(signature)


def _inputs(case: Any) -> tuple[tuple[list[Any], list[Any]], Any, Any, dict[str, Any]]:
    dtype = np.dtype(case.dtype)
    params = (
        [jnp.asarray(np.asarray(w, dtype=dtype)) for w in case.weights],
        [jnp.asarray(np.asarray(b, dtype=dtype)) for b in case.biases],
    )
    static = {"activations": tuple(case.activations), "cost": str(case.cost), "reduction": str(case.reduction)}
    _bounded_cache(case, static)
    return params, jnp.asarray(np.asarray(case.x, dtype=dtype)), jnp.asarray(np.asarray(case.y, dtype=dtype)), static


def backprop(case: Any) -> dict[str, Any]:
    """grad_weights, grad_biases (of C), deltas (per sample) and the cost, as numpy in the case's dtype."""
    params, x, y, static = _inputs(case)
    value, (grad_w, grad_b), deltas = _backprop(params, x, y, **static)
    return {
        "grad_weights": [np.asarray(g) for g in grad_w],
        "grad_biases": [np.asarray(g) for g in grad_b],
        "deltas": [np.asarray(d) for d in deltas],
        "cost": float(value),
    }


def sgd_step(case: Any, eta: float) -> dict[str, Any]:
    """p - eta dC/dp in the case's dtype, from the jitted gradients.

    The update itself is numpy: a second jitted function would be a second compilation
    per architecture and batch size, for two multiply-adds.
    """
    params, x, y, static = _inputs(case)
    _, (grad_w, grad_b), _ = _backprop(params, x, y, **static)
    dtype = np.dtype(case.dtype)
    step = dtype.type(eta)
    weights = [np.asarray(w, dtype=dtype) - step * np.asarray(g) for w, g in zip(case.weights, grad_w, strict=True)]
    biases = [np.asarray(b, dtype=dtype) - step * np.asarray(g) for b, g in zip(case.biases, grad_b, strict=True)]
    return {"weights": weights, "biases": biases}
