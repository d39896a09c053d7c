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

import contextlib
import time
import traceback
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, reject, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException

from reference.costs import REQUIRED_OUTPUT
from reference.strategies import HIDDEN_ACTIVATIONS, cases, learning_rates

from .capabilities import Capabilities
from .checks import CHECKS, CaseChecker
from .report import Collector


@dataclass(frozen=True)
class SearchSettings:
    """How many cases per group and how large (reference.strategies, "Sizes").

    Most draws stay within the common bounds, where shrinking works and calls are cheap
    (batch_additivity makes m calls per case); a ``large_share`` of each size is drawn up
    to the maximum, often at a boundary (15/16/17, 31/32/33, 64) where kernels change path.
    The learning rate of every sgd_step is drawn log-uniform on [eta_low, eta_high].
    """

    max_examples: int
    seed: int = 0
    max_layers: int = 16
    max_width: int = 64
    max_batch: int = 64
    shrink_seconds: float = 20.0
    common_layers: int = 8
    common_width: int = 8
    common_batch: int = 8
    large_share: float = 0.1
    eta_low: float = 1e-3
    eta_high: float = 10.0


@dataclass
class GroupCount:
    """How many cases of one (dtype, regime) group were requested, asked, answered and judged.

    asked: sent to the implementation (cases the reference cannot judge fairly are never
    sent); answered: its first backprop call returned a value, right or wrong; judged:
    every check ran on it. A run that judged fewer cases than it requested, for any
    reason, does not conform.
    """

    dtype: str
    regime: str
    requested: int
    asked: int = 0
    answered: int = 0
    judged: int = 0
    stopped: str | None = None  # why the search ended before judging every requested case

    @property
    def complete(self) -> bool:
        return self.judged >= self.requested and self.stopped is None

    def line(self) -> str:
        text = (
            f"{self.dtype}/{self.regime}: {self.requested} requested, {self.asked} asked, "
            f"{self.answered} answered, {self.judged} judged"
        )
        return text + (f" (stopped: {self.stopped})" if self.stopped else "")


@dataclass
class _State:
    alive: bool = True
    failed: bool = False
    shrinking_since: float | None = None


class _Stop(BaseException):
    """Ends a search at once: Hypothesis lets BaseExceptions other than its own through."""


class SuiteError(BaseException):
    """The suite's own code raised while judging a case: a bug of the suite, never a verdict.

    A BaseException, so that Hypothesis neither retries nor shrinks it (a retry would
    ask the implementation again and could hide the problem behind a "flaky" report).
    """

    def __init__(self, case: object, eta: float, permutation: tuple[int, ...], detail: str) -> None:
        super().__init__(detail)
        self.case = case
        self.eta = eta
        self.permutation = permutation
        self.detail = detail


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


@contextlib.contextmanager
def _seed_only() -> Iterator[None]:
    """Cases from the seed alone, whoever imported what.

    Hypothesis mixes number literals of the local modules already imported into some of
    its draws (``providers._get_local_constants``), so the same seed gave different cases
    under pytest (which imports conftests and plugins) than from the command line. That
    pool is emptied for the search and restored after it. It is a private API: when it is
    gone, nothing is patched (and the test comparing the CLI with pytest says so).
    """
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - a Hypothesis without it
        yield
        return
    original = getattr(providers, "_get_local_constants", None)
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if original is None or not hasattr(providers, "Constants"):
        yield
        return
    empty = providers.Constants()
    providers._get_local_constants = lambda: empty
    if cache is not None:
        cache.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = original
        if cache is not None:
            cache.cache.clear()


def _only_ours(error: BaseException) -> bool:
    """Hypothesis' own reports and our failure markers: expected while shrinking, not otherwise."""
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
    count: GroupCount | None = None,
) -> bool:
    """Search one group; returns False when the implementation stopped responding.

    Raises SuiteError when the suite's own code fails on a case (the case is attached).
    """
    count = count if count is not None else GroupCount(dtype, regime, options.max_examples)
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
        common_layers=options.common_layers,
        common_width=options.common_width,
        common_batch=options.common_batch,
        large_share=options.large_share,
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
    @given(case=strategy, eta=learning_rates(options.eta_low, options.eta_high), order=st.integers(0, 2**16))
    def body(case: object, eta: float, order: int) -> None:
        m = case.m  # type: ignore[attr-defined]
        permutation = np.random.default_rng(order).permutation(m)
        if m > 1 and (permutation == np.arange(m)).all():
            permutation = permutation[::-1]
        shrinking = state.shrinking_since is not None
        try:
            report = checker.run(case, eta, permutation)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - the implementation's faults are verdicts; this is ours
            detail = traceback.format_exc(limit=8)
            raise SuiteError(case, eta, tuple(int(p) for p in permutation), detail) from None
        if report is None:
            reject()
        assert report is not None
        root = report.root()
        if not shrinking:
            count.asked += 1
            count.answered += report.answered
            count.judged += 1
        if not shrinking or root is not None:
            collector.add(report, count=not shrinking)
        if report.fatal:
            state.alive = False
            count.stopped = count.stopped or "the implementation stopped responding"
            raise _Stop
        if root is None:
            return
        state.failed = True
        if state.shrinking_since is None:
            return
        if time.monotonic() - state.shrinking_since > options.shrink_seconds:
            raise _Stop
        raise _FAILURES[root.check](root.message)

    # Explore: every case recorded, nothing raised but _Stop and SuiteError. A Hypothesis
    # report here (unsatisfiable, a health check) means cases went unjudged: it is counted.
    try:
        with _seed_only():
            body()
    except _Stop:
        pass
    except HypothesisException as error:
        first_line = (str(error).strip().splitlines() or [""])[0][:200]
        count.stopped = f"{type(error).__name__}: {first_line}"
    if count.judged < count.requested and count.stopped is None:
        count.stopped = f"only {count.judged} of {count.requested} cases could be generated and judged"
    if not (state.failed and state.alive):
        return state.alive
    # Shrink: the failure is already recorded; Hypothesis replays and shrinks it. Its own
    # reports (a flaky replay of a stateful implementation) cannot undo the verdict.
    state.shrinking_since = time.monotonic()
    try:
        with _seed_only():
            body()
    except _Stop:
        pass
    except BaseException as error:
        if not _only_ours(error):
            raise
    return state.alive
