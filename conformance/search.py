"""Driving the checks with Hypothesis, one search per (dtype, regime) group.

Each generated case runs every check (checks.CaseChecker). A search has two
passes with the same seed. The first records every case and never fails, so that
the summary covers all the examples even for a broken implementation. If it saw
a failure, the second pass raises an exception whose class names the first
failing check, which Hypothesis replays (same seed, same cases up to there) and
shrinks towards the smallest network that fails *that* check; the Collector keeps
the smallest failing case it saw for every (check, layer, dtype).
Two things stop a search early, by raising an exception Hypothesis does not
catch: a hang of the implementation (retrying would only wait out the timeout
again) and a shrinking phase that outlives its time budget.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, reject, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException

from reference.costs import REQUIRED_OUTPUT
from reference.strategies import HIDDEN_ACTIVATIONS, cases

from .capabilities import Capabilities
from .checks import CHECKS, CaseChecker
from .report import Collector

ETAS: tuple[float, ...] = (0.5, 0.1, 2.0, 0.03125)


@dataclass(frozen=True)
class SearchSettings:
    max_examples: int
    seed: int = 0
    max_layers: int = 8
    max_width: int = 8
    max_batch: int = 8
    shrink_seconds: float = 20.0


@dataclass
class _State:
    alive: bool = True
    failed: bool = False
    shrinking_since: float | None = None


class _Stop(BaseException):
    """Ends a search at once: Hypothesis lets BaseExceptions other than its own through."""


class CheckFailure(Exception):
    """Base of the per-check failure classes (distinct classes keep distinct failures apart)."""


_FAILURES: dict[str, type[CheckFailure]] = {
    check: type(f"{check.title().replace('_', '')}Failure", (CheckFailure,), {}) for check in CHECKS
}


def group_problem(caps: Capabilities) -> str | None:
    """Why no case can be generated from these capabilities, if that is so."""
    if not caps.activations or not caps.costs or not caps.reductions:
        return "the capabilities leave no activation, cost or reduction to test"
    if not any(REQUIRED_OUTPUT[c] in (None, *caps.activations) for c in caps.costs):
        return "no declared cost has the output activation it needs among the declared activations"
    return None


def _only_ours(error: BaseException) -> bool:
    if isinstance(error, CheckFailure | HypothesisException):
        return True
    if isinstance(error, BaseExceptionGroup):
        return all(_only_ours(e) for e in error.exceptions)
    return False


def run_group(
    checker: CaseChecker,
    caps: Capabilities,
    dtype: str,
    regime: str,
    options: SearchSettings,
    collector: Collector,
) -> bool:
    """Search one group; returns False when the implementation stopped responding."""
    hidden = [a for a in caps.activations if a in HIDDEN_ACTIVATIONS]
    strategy = cases(
        regimes=[regime],
        max_layers=options.max_layers if hidden else 2,
        max_width=options.max_width,
        max_batch=options.max_batch,
        activations=list(caps.activations),
        costs=list(caps.costs),
        reductions=list(caps.reductions),
        dtypes=[dtype],
    )
    state = _State()

    @seed(zlib.crc32(f"{options.seed}/{dtype}/{regime}".encode()))
    @settings(
        max_examples=options.max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        print_blob=False,
    )
    @given(case=strategy, eta=st.sampled_from(ETAS), order=st.integers(0, 2**16))
    def body(case: object, eta: float, order: int) -> None:
        m = case.m  # type: ignore[attr-defined]
        permutation = np.random.default_rng(order).permutation(m)
        if m > 1 and (permutation == np.arange(m)).all():
            permutation = permutation[::-1]
        report = checker.run(case, eta, permutation)  # type: ignore[arg-type]
        if report is None:
            reject()
        assert report is not None
        root = report.root()
        shrinking = state.shrinking_since is not None
        if not shrinking or root is not None:
            collector.add(report, count=not shrinking)
        if report.fatal:
            state.alive = False
            raise _Stop
        if root is None:
            return
        state.failed = True
        if state.shrinking_since is None:
            return
        if time.monotonic() - state.shrinking_since > options.shrink_seconds:
            raise _Stop
        raise _FAILURES[root.check](root.message)

    for _ in ("explore", "shrink"):
        try:
            body()
        except _Stop:
            pass
        except BaseException as error:
            if not _only_ours(error):
                raise
        if not (state.failed and state.alive) or state.shrinking_since is not None:
            break
        state.shrinking_since = time.monotonic()
    return state.alive
