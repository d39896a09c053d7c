"""The four equations of backpropagation, numbered as in the seed.

Batch layout: one sample per row, so z^l and delta^l are (m, n_l) arrays whose
row x is the seed's column vector z^{x,l} or delta^{x,l}. In that layout the
seed's column-vector products become row-vector products:
(w^{l+1})^T delta^{l+1} for every sample at once is delta^{l+1} @ w^{l+1}, and
sum_x delta^{x,l} (a^{x,l-1})^T is delta^l.T @ a^{l-1}.
"""

from __future__ import annotations

from ._ops import Array
from .activations import softmax_jacobian_t_dot


def equation_1(nabla_a_C: Array, sigma_prime_L: Array | None, a_L: Array, sigma_L: str) -> Array:
    """Equation 1 (output layer):  delta^L = nabla_a C (.) sigma'(z^L).

    For a softmax output sigma'(z^L) is the Jacobian da^L/dz^L (pass None), and the
    product becomes (da^L/dz^L)^T nabla_a C.
    """
    if sigma_L == "softmax" or sigma_prime_L is None:
        return softmax_jacobian_t_dot(a_L, nabla_a_C)
    return nabla_a_C * sigma_prime_L


def equation_2(w_next: Array, delta_next: Array, sigma_prime_l: Array) -> Array:
    """Equation 2 (hidden layers, back to front):  delta^l = ((w^{l+1})^T delta^{l+1}) (.) sigma'(z^l).

    The seed's printed form has sigma^{l+1} where delta^{l+1} belongs
    (erratum 1 in docs/derivation.md, "Errata in the seed").
    """
    return (delta_next @ w_next) * sigma_prime_l


def equation_3(delta: Array, scale: object) -> Array:
    """Equation 3:  dC/db^l_j = delta^l_j, summed over the batch and scaled by the reduction (1/m or 1)."""
    return delta.sum(axis=0) * scale


def equation_4(delta: Array, a_prev: Array, scale: object) -> Array:
    """Equation 4:  dC/dw^l_jk = a^{l-1}_k delta^l_j, i.e. sum_x delta^{x,l} (a^{x,l-1})^T, scaled."""
    m, n_prev = a_prev.shape
    if m <= n_prev:  # same product; scale whichever factor is smaller
        return (delta * scale).T @ a_prev
    return (delta.T @ a_prev) * scale
