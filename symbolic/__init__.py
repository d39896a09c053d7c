"""Symbolic derivation and proof of the backpropagation equations (SymPy).

For one architecture (sizes, an activation per layer, a cost, a reduction), every delta and
gradient is derived from the chain rule with ``sympy.diff`` and compared with the seed's four
equations; the numeric engine is then held against the same derivatives.

    >>> from symbolic import prove
    >>> proof = prove([2, 3, 2], ["sigmoid", "sigmoid"], "quadratic")
    >>> proof.verdict
    'proven'

Modules: spec (validation), functions (activations and costs, defined and differentiated by
hand), network (symbols, forward pass), derive (chain rule), formulas (the equations),
zero (zero test, rational points), renaming (the other entries of a layer as renamings of
one), proof (checks and verdicts), prove (building proofs),
disprove (the seed's typo on a concrete network), numeric (lambdify vs the engine), render (Markdown), cli, bench.
"""

from typing import TYPE_CHECKING, Any

try:  # SymPy is the symbolic extra's, not a dependency of the package: say so in one line
    import sympy  # noqa: F401
except ImportError:
    # name=__name__: ``python -m symbolic`` then prints this message as its one line (runpy).
    raise ImportError(
        "symbolic needs SymPy, which is not installed: pip install 'backprop-reference[symbolic]'", name=__name__
    ) from None

from .proof import Check, Proof, Verdict
from .prove import prove, prove_spec
from .render import render_proof
from .spec import ACTIVATIONS, COSTS, HIDDEN_RULES, REDUCTIONS, Spec, make_spec

if TYPE_CHECKING:
    from .numeric import CrossCheck, cross_check, random_case

_NUMERIC = frozenset({"CrossCheck", "cross_check", "random_case"})


def __getattr__(name: str) -> Any:
    """The numeric cross-check's names, imported on first use: ``numeric`` imports numpy and the
    reference engine (about 0.15 s), which ``python -m symbolic prove`` never uses."""
    if name in _NUMERIC:
        from . import numeric  # noqa: PLC0415 - lazy, for start-up time (see the docstring)

        return getattr(numeric, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ACTIVATIONS",
    "COSTS",
    "HIDDEN_RULES",
    "REDUCTIONS",
    "Check",
    "CrossCheck",
    "Proof",
    "Spec",
    "Verdict",
    "cross_check",
    "make_spec",
    "prove",
    "prove_spec",
    "random_case",
    "render_proof",
]
