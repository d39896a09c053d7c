"""A check for large models (millions of parameters) that still sees one wrong entry.

Above ``numerical`` and ``gradcheck``: it combines the directional check with gradcheck's
judgement of sampled entries.

Two modes, each seeing what the other cannot:
  directional  <g, d> against d/dt C(p + t d) over all parameters and per tensor (directional):
               a handful of evaluations, blind to nothing *systematic* (a transposed layer, a
               missing 1/m, a flipped sign move <g, d> by a fraction of itself), but one entry off
               by 1e-6 moves <g, d> by only 1e-6 |g_i d_i|: seen on small models for large |g_i|,
               far below the directional derivative's own error bound on millions of entries.
  entrywise    full central differences with the adaptive step (central.central_differences) on
               a sample of entries of every tensor: the ``top`` entries of largest |g| (checked
               with probability 1) and ``random`` others drawn uniformly without replacement
               (each checked with probability random / (n_t - top)). An entry in the sample whose
               analytic value is off by more than its error bound (about 1e-10 relative for a
               smooth float64 cost, so 1e-6 is found with a margin of 10^4) fails.
Detection probability of a single wrong entry i of tensor t (error above its bound): 1 if i is
among the top |g| of t, else random_t / (n_t - top_t), reported per tensor in
``LargeModelResult.probabilities`` and by ``detection_probability(t, i)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .gradcheck import judge_gradient
from .numerical.central import central_differences
from .numerical.directional import DirectionalResult, _problem, directional_check
from .numerical.formatting import count, short_repr
from .numerical.problem import Problem
from .numerical.verdicts import VerdictFlags, worst


@dataclass(frozen=True, eq=False)
class LargeModelResult(VerdictFlags):
    """The directional result, the entrywise result on the sampled entries, and coverage."""

    directional: DirectionalResult
    entrywise: Any  # reference.gradcheck.GradcheckResult (imported lazily: it imports this package)
    top: list[np.ndarray]
    probabilities: list[float]
    sizes: list[int]
    names: list[str]
    evaluations: int
    notes: list[str] = field(default_factory=list)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, bool | np.bool_):
            raise TypeError("a LargeModelResult is not a bool: compare .passed (or .verdict)")
        return self is other

    __hash__ = None  # type: ignore[assignment]

    @property
    def verdict(self) -> str:
        return worst((self.directional.verdict, self.entrywise.verdict))

    def detection_probability(self, tensor: int, index: int) -> float:
        """The probability that entry ``index`` (flat) of ``tensor`` was checked entrywise."""
        if not 0 <= tensor < len(self.sizes):
            raise IndexError(f"tensor must be in 0..{len(self.sizes) - 1}, got {tensor}")
        if not 0 <= index < self.sizes[tensor]:
            raise IndexError(f"index must be in 0..{self.sizes[tensor] - 1} for {self.names[tensor]}, got {index}")
        return 1.0 if index in set(self.top[tensor].tolist()) else self.probabilities[tensor]

    @property
    def message(self) -> str:
        word = {"pass": "passed", "fail": "FAILED", "inconclusive": "INCONCLUSIVE"}[self.verdict]
        cover = ", ".join(
            f"{n}: top {len(t)} of {s} by |g|, others p = {p:.2g}"
            for n, t, s, p in zip(self.names, self.top, self.sizes, self.probabilities, strict=True)
        )
        lines = [
            f"large-model check {word} ({self.evaluations} cost evaluations)",
            f"  entrywise coverage: {cover}",
            "  " + self.directional.message.replace("\n", "\n  "),
            "  " + self.entrywise.message.replace("\n", "\n  "),
        ]
        return "\n".join(lines + ["  note: " + n for n in self.notes])

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        """One line: the verdict and each half's (``str()``: both halves in full)."""
        return short_repr(
            "LargeModelResult",
            self.verdict,
            f"directional {self.directional.verdict}, entrywise {self.entrywise.verdict} "
            f"({count(sum(t.n_entries for t in self.entrywise.tensors), 'entry', 'entries')} sampled), "
            f"{count(self.evaluations, 'evaluation')} of C",
        )

    def __bool__(self) -> bool:
        raise TypeError("a LargeModelResult is not a bool: use .passed, or .raise_for_failure()")

    def raise_for_failure(self, inconclusive_ok: bool = True) -> None:
        if self.failed or (self.inconclusive and not inconclusive_ok):
            raise AssertionError(self.message)


def _sample(g: np.ndarray, top: int, random: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """(top indices by |g|, all chosen indices, probability of any other entry being chosen)."""
    a = np.abs(np.where(np.isfinite(g), g, np.inf)).reshape(-1)  # non-finite entries come first
    n = a.size
    k = min(top, n)
    first = np.argpartition(-a, k - 1)[:k] if 0 < k < n else np.arange(k)
    rest = np.setdiff1d(np.arange(n), first, assume_unique=False)
    r = min(random, rest.size)
    drawn = rng.choice(rest, size=r, replace=False) if r else np.empty(0, dtype=np.int64)
    probability = r / rest.size if rest.size else 1.0
    return np.sort(first), np.union1d(first, drawn), probability


def large_model_check(
    target: Any,
    *,
    top: int = 16,
    random: int = 16,
    directions: int = 2,
    seed: int = 0,
    levels: int = 2,
    **problem_kwargs: Any,
) -> LargeModelResult:
    """Directional check plus central differences on the ``top`` largest-|g| and ``random``
    uniformly drawn entries of every tensor (module docstring: what each mode sees). Cost:
    about 2 levels (top + random) evaluations per tensor plus the directional check's."""
    for name, v in (("top", top), ("random", random)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"{name} must be an int >= 0, got {v!r}")
    problem: Problem = _problem(target, "large_model_check", problem_kwargs)
    directional = directional_check(problem, directions=directions, seed=seed, levels=levels)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 11]))
    tops, entries, probabilities = [], {}, []
    for t, g in enumerate(problem.gradient):
        first, chosen, p = _sample(np.asarray(g, dtype=np.float64), top, random, rng)
        tops.append(first)
        entries[t] = chosen
        probabilities.append(p)
    numeric = central_differences(problem, levels=levels, seed=seed, entries=entries)
    entrywise = judge_gradient(problem, numeric)
    notes = [
        "directional: sees whole-tensor errors (transpose, scale, sign); one entry off by 1e-6 only "
        "when 1e-6 |g_i d_i| clears the bound of <g, d> (not at 1.8 M parameters)",
        "entrywise: sees any sampled entry off by more than its error bound, nothing outside the sample",
    ]
    return LargeModelResult(
        directional,
        entrywise,
        tops,
        probabilities,
        [int(p.size) for p in problem.params],
        list(problem.names),
        directional.evaluations + numeric.evaluations,
        notes,
    )
