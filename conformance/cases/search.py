"""Driving the checks with Hypothesis, one search per (dtype, regime) group.

An example is an architecture with several value sets. Hypothesis draws a case (the
architecture, batch size m, reduction and dtype, with its values), and then
``values_per_architecture`` value sets on that same architecture and m: the drawn
case's own values and new weights, biases, x and y from ``make_case`` with drawn
seeds, each with its own learning rate and sample order. Every check runs on every
value set, and each value set is one judged case. Why: an implementation that
compiles per shape (jax.jit, torch.compile, custom kernels) compiles once per
architecture and batch size, so a search that made every case a new architecture
made it compile on every call (a jitted JAX adapter: 16 minutes for a default run, and
out of memory maps). The regimes whose point is a size (wide, deep, big_batch) use
fewer value sets per architecture, ``size_values_per_architecture``, so that the
large sizes and their boundaries are still met in many architectures. An implementation
that declares ``"shapes": "few"`` goes further: its examples are drawn at a small pool of
shapes (conformance.cases.pool), so that it compiles a handful of times in a whole run.

A search has two phases with the same seed. The explore pass judges and records
every value set until the group's requested number of cases is judged, and never
fails, so that the summary covers all the cases even for a broken implementation.
Each failing case is filed under its root cause (report.cause_key: its first failed
check and what that check's message says, numbers aside). Then, per root cause, in
the order first seen (at most ``shrink_causes``), a shrink pass replays the search
and raises on the first value set with that cause; Hypothesis shrinks it towards the
smallest network that still shows *that* cause, and only the shrunk case is recorded
(the candidates tried on the way are odd corners of the same cause, such as a network
whose top hidden delta happens to be right, that would stand as the smallest case of
verdicts they do not represent). A saved case file is still one
value set, replayed exactly.

What a shrink pass does not ask again (issue 22: a failing run took several times a passing one's
time, most of it shrinking). A value set already judged in the group, met again (the
replay up to the cause's first case, a candidate tried twice), keeps its verdict when it does not
show the cause being shrunk: nothing is asked of the implementation (GroupCount.shrink_reused);
one that does show it is judged again, for its full report. And a value set judged while
shrinking stops at its root cause once that is settled and is another one (CaseChecker.run's
``enough``), or, when nothing has failed, once it has passed the check the cause belongs to
(``through``): a later failure would be a later root. Most candidates of a cause at the SGD step
are of that kind, and the batch properties after it (m + 2 calls) were most of their cost. What
such a partial judging learnt ("passed up to the SGD step") is reused by a later cause's pass only
for a cause of that check or an earlier one (``_passes_over``). All of this counts against the
budget exactly as before, so the cases tried, the causes and the smallest cases are the same.

Three things stop a pass early, by raising an exception Hypothesis does not catch: a
hang of the implementation (retrying would only wait out the timeout again), the
group's shrinking budget, ``shrink_cases``, shared by its causes, and a case at the floor
(``floor_size``): a network no other network is smaller than that can show the cause, where
all that is left to shrink is its values, never its size (issue 22: of the value sets two
failing stand-ins judged while shrinking, 17% and 33% came after such a case). The cause's
smallest case is then the first failing value set met at that size, not Hypothesis's simplest
one: the same size, other numbers. The budget it leaves goes to the group's later causes.

Counts, not clocks (issue 17): the shrinking budget is a number of value sets judged (the
replay up to the cause's first case included), never seconds. A budget in seconds made the
smallest network, and the layers a cause explains, depend on how busy the machine was: the
same seed gave layer 3 with 0.2 s and layer 2 with 20 s, and a loaded machine (load 10 on 2
cores) stopped shrinking at (9, 3, 1). Hypothesis's own clock (it gives up shrinking after
five minutes) is switched off for the search (``_counts_only``), so the budget here is the
only limit: the same seed gives the same cases, causes and smallest cases under any load.
A cause whose shrinking used up its share is counted (GroupCount.shrink_budget_hit) and
the report says its smallest case may not be minimal.
"""

from __future__ import annotations

import contextlib
import hashlib
import traceback
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, reject, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException

try:  # a private module (see _seed_only)
    from hypothesis.internal.conjecture import providers
except ImportError:  # pragma: no cover - a Hypothesis without it
    providers = None  # type: ignore[assignment]
try:  # a private module (see _counts_only)
    from hypothesis.internal.conjecture import engine as hypothesis_engine
except ImportError:  # pragma: no cover - a Hypothesis without it
    hypothesis_engine = None  # type: ignore[assignment]

from conformance.cases.pool import Pool, draw_pool, pooled_cases
from conformance.errors import SuiteError
from conformance.implementations.capabilities import Capabilities
from conformance.judging.checks import CaseChecker
from conformance.judging.findings import CHECKS, FLOAT32_PRECISION, CaseReport, Finding
from conformance.reporting.report import Collector, case_size, cause_key
from reference import Case
from reference.costs import REQUIRED_OUTPUT
from reference.strategies import HIDDEN_ACTIVATIONS, SIZE_REGIMES, Architecture, cases, learning_rates, make_case

# Why a group (and the run) ended early under --first-failure: the verdict is known, the rest is not judged.
FIRST_FAILURE = "stopped at the first failure (--first-failure): the rest is not judged, the case not shrunk"

# The fewest architectures a group draws when it asks for at least as many cases.
MIN_ARCHITECTURES = 4

# One group's shrinking budget, in value sets judged while shrinking (shared by its causes).
# It replaced a budget of 20 seconds (5 with --quick, runner.QUICK_SHRINK_CASES): measured
# 2026-12-07 on the 2-core machine, idle, shrinking judged 50 to 170 value sets a second
# (the small networks of --quick about 110), so 1600 is about what 20 s allowed there.
# Every catalogue bug measured needed at most 1564 in one group (SeedTypo, scaled: two
# causes, 390 + 1174), so they still shrink to the end.
DEFAULT_SHRINK_CASES = 1600


@dataclass(frozen=True)
class SearchSettings:
    """How many cases per group and how large (reference.strategies, "Sizes").

    Most draws stay within the common bounds, where shrinking works and calls are cheap
    (batch_additivity makes m calls per case); a ``large_share`` of each size is drawn up
    to the maximum, often at a boundary (15/16/17, 31/32/33, 64) where kernels change path.
    The learning rate of every sgd_step is drawn log-uniform on [eta_low, eta_high].
    ``max_examples`` counts cases (value sets); each architecture carries
    ``values_per_architecture`` of them (``size_values_per_architecture`` in the size
    regimes), the last one of a group possibly fewer. ``shrink_cases`` is one group's
    shrinking budget, in value sets judged (a count, never seconds: see the module
    docstring), shared by at most ``shrink_causes`` root causes. ``pool_architectures``: the
    common shapes per dtype when the implementation declares ``"shapes": "few"``
    (conformance.cases.pool).
    """

    max_examples: int
    seed: int = 0
    max_layers: int = 16
    max_width: int = 64
    max_batch: int = 64
    shrink_cases: int = DEFAULT_SHRINK_CASES
    first_failure: bool = False  # stop at the first failing case, unshrunk (--first-failure)
    common_layers: int = 8
    common_width: int = 8
    common_batch: int = 8
    large_share: float = 0.1
    eta_low: float = 1e-3
    eta_high: float = 10.0
    values_per_architecture: int = 10
    size_values_per_architecture: int = 5
    shrink_causes: int = 4
    pool_architectures: int = 3

    def values_for(self, regime: str, requested: int) -> int:
        """Value sets per architecture in this regime, leaving at least MIN_ARCHITECTURES per group.

        Hypothesis's first example is always the simplest network (sizes (1, 1), m = 1), so a
        group of very few architectures would be little more than that one.
        """
        k = self.size_values_per_architecture if regime in SIZE_REGIMES else self.values_per_architecture
        return max(1, min(k, -(-requested // MIN_ARCHITECTURES)))


@dataclass
class GroupCount:
    """How many cases of one (dtype, regime) group were requested, asked, answered and judged.

    A case is one value set (an architecture carries several). asked: sent to the
    implementation (cases the reference cannot judge fairly are never sent); answered:
    its first backprop call returned a value, right or wrong; judged: every check ran on
    it. A run that judged fewer cases than it requested, for any reason, does not conform.
    """

    dtype: str
    regime: str
    requested: int
    asked: int = 0
    answered: int = 0
    judged: int = 0
    stopped: str | None = None  # why the search ended before judging every requested case
    architectures: int = 0  # distinct examples (architecture and m) that had a case judged
    shrink_judged: int = 0  # value sets judged while shrinking (against SearchSettings.shrink_cases)
    shrink_budget_hit: int = 0  # causes whose shrinking stopped at their share of the budget
    # Of shrink_judged, the value sets met before in the group (the replay up to a cause's first case,
    # a candidate tried again) that did not show the cause being shrunk: their verdict reused, nothing asked.
    shrink_reused: int = 0


@dataclass(frozen=True)
class _Seen:
    """A value set already judged, as much as a shrink pass needs: its root cause and whether it was fatal.

    Kept instead of the CaseReport, whose arrays a group's hundreds of value sets would hold in memory.
    """

    key: str | None  # report.cause_key of its root finding; None: it passed (up to ``through``)
    fatal: bool
    # None: judged to the end. Otherwise a shrink pass judged it only up to this check (CaseChecker.run's
    # ``through``) and it passed that far: what it shows at a later check is not known.
    through: str | None = None


def _seen(report: CaseReport | None, through: str | None = None) -> _Seen | None:
    """What a shrink pass keeps of a judged value set (None: it could not be judged fairly)."""
    if report is None:
        return None
    root = report.root()
    if root is not None:
        return _Seen(cause_key(root), report.fatal)
    return _Seen(None, report.fatal, through)


def _cause_check(root: Finding) -> str | None:
    """The check a cause is the root finding of; None when it can be any (float32 precision, as cause_key files it)."""
    return None if FLOAT32_PRECISION in root.message else root.check


def floor_size(check: str | None) -> tuple[int, int, int]:
    """The smallest case (report.case_size) any network can show a cause of ``check`` on: layers of
    width 1 and m = 1, so a weight and a bias per layer after the first, and one number of x and of y;
    two layers, or three for equation 2, which is judged only below the output layer (None, a cause of
    any check: two). A lower bound: a cause that needs more (a batch property, m >= 2) never meets it
    and is shrunk as before."""
    layers = 3 if check == "equation2" else 2
    return (2 * (layers - 1) + 2, layers, 1)


def _passes_over(seen: _Seen | None, target: str | None, check: str | None) -> bool:
    """A value set met before does not show the cause being shrunk: its verdict stands, nothing is asked.

    One that does is asked again, as before: its full report is the smallest case so far. One judged
    only partway, up to a check, is known not to show a cause of that check or an earlier one
    (``check``, the target's); of a later check, or of any (None), it is asked again.
    """
    if seen is None:
        return True
    if seen.key is not None or seen.through is None:
        return seen.key != target
    return check is not None and CHECKS.index(check) <= CHECKS.index(seen.through)


@dataclass
class _State:
    alive: bool = True
    # Cause keys in the order first seen, each with the check it is a root finding of (_cause_check).
    causes: dict[str, str | None] = field(default_factory=dict)
    target: str | None = None  # the cause being shrunk (None: exploring)
    spent: int = 0  # value sets judged while shrinking, all causes of the group
    allowed: int = 0  # the value of ``spent`` at which the current cause's shrinking stops
    hit: bool = False  # the current cause's shrinking stopped at its budget
    shrunk: CaseReport | None = None  # the target's latest failing case: the smallest so far
    # Every value set judged in the group, by ``_identity``: what a shrink pass needs of it (None: not judgeable).
    known: dict[tuple[object, ...], _Seen | None] = field(default_factory=dict)


class _Stop(BaseException):
    """Ends a search at once: Hypothesis lets BaseExceptions other than its own through."""


class CheckFailure(Exception):
    """A value set showed the root cause being shrunk (one class, raised from one line: one bug)."""


# Other value sets tried on the same architecture when one cannot be judged fairly.
_RETRIES = 3


def group_problem(caps: Capabilities) -> str | None:
    """Why no case can be generated from these capabilities, if that is so."""
    if not caps.activations or not caps.costs or not caps.reductions:
        return "the capabilities leave no activation, cost or reduction to test"
    if not any(REQUIRED_OUTPUT[c] in (None, *caps.activations) for c in caps.costs):
        return "no declared cost has the output activation it needs among the declared activations"
    return None


def shape_pool(options: SearchSettings, caps: Capabilities, dtype: str) -> Pool:
    """The shapes of ``dtype``'s cases under ``"shapes": "few"`` (conformance.cases.pool), from the seed."""
    return draw_pool(
        options.seed,
        dtype,
        architectures=options.pool_architectures,
        layered=bool(caps.hidden_activations),
        common_layers=options.common_layers,
        common_width=options.common_width,
        common_batch=options.common_batch,
        max_layers=options.max_layers,
        max_width=options.max_width,
        max_batch=options.max_batch,
    )


@contextlib.contextmanager
def _counts_only() -> Iterator[None]:
    """Hypothesis's shrinking without its clock: the budget is ours, in value sets.

    Hypothesis stops shrinking after ``MAX_SHRINKING_SECONDS`` (five minutes) of wall
    time, so on a machine slow or busy enough the smallest case would depend on the load.
    Our count budget (``shrink_cases``) ends long before that on any machine where the run
    is worth waiting for; the clock is set out of reach for the search and restored after.
    A private API: when it is gone, nothing is patched.
    """
    if hypothesis_engine is None or not hasattr(hypothesis_engine, "MAX_SHRINKING_SECONDS"):
        yield  # pragma: no cover - a Hypothesis without it
        return
    original = hypothesis_engine.MAX_SHRINKING_SECONDS
    hypothesis_engine.MAX_SHRINKING_SECONDS = 10**9
    try:
        yield
    finally:
        hypothesis_engine.MAX_SHRINKING_SECONDS = original


@contextlib.contextmanager
def _seed_only() -> Iterator[None]:
    """Cases from the seed alone, whoever imported what.

    Hypothesis mixes number literals of the local modules already imported into some of
    its draws (``providers._get_local_constants``), so the same seed gave different cases
    under pytest (which imports conftests and plugins) than from the command line. That
    pool is emptied for the search and restored after it. It is a private API: when it is
    gone, nothing is patched (and the test comparing the CLI with pytest says so).
    """
    if providers is None:  # pragma: no cover - a Hypothesis without it
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


def value_set(case: Case, regime: str, value_seed: int, index: int, attempt: int, targets: str = "any") -> Case:
    """Value set ``index`` on the drawn case's architecture, batch size, reduction and dtype.

    Value set 0 is the drawn case itself. The others, and every retry (``attempt`` > 0,
    when the reference cannot judge a value set fairly), take new weights, biases, x and
    y from ``make_case``, put into a copy of the drawn case, so that whatever else a case
    carries stays as drawn. Their seed mixes the drawn seed with the index and attempt:
    Hypothesis draws all-zero seeds in its first, simplest examples, and equal seeds would
    make the value sets of an architecture equal.
    """
    if index == 0 and attempt == 0:
        return case
    seed_ = zlib.crc32(f"{value_seed}/{index}/{attempt}".encode())
    arch = Architecture(tuple(case.sizes), tuple(case.activations), case.cost)
    extra = {"targets": targets} if targets != "any" else {}
    fresh = make_case(arch, regime, case.m, case.reduction, case.dtype, seed_, **extra)
    return case.replace(weights=fresh.weights, biases=fresh.biases, x=fresh.x, y=fresh.y)


def _permutation(m: int, order: int, index: int) -> tuple[int, ...]:
    """The sample order of value set ``index``'s permutation check: never the identity when m > 1."""
    permutation = np.random.default_rng([order, index]).permutation(m)
    if m > 1 and (permutation == np.arange(m)).all():
        permutation = permutation[::-1]
    return tuple(int(p) for p in permutation)


def _identity(case: Case, eta: float, permutation: tuple[int, ...]) -> tuple[object, ...]:
    """What makes two value sets the same question: the network, its values, the batch, eta and the order."""
    digest = hashlib.blake2b(digest_size=16)
    for array in (*case.weights, *case.biases, case.x, case.y):
        values = np.ascontiguousarray(array)
        digest.update(f"{values.dtype}{values.shape}".encode())
        digest.update(values.tobytes())
    return (
        tuple(case.sizes),
        tuple(case.activations),
        case.cost,
        case.reduction,
        case.dtype,
        eta,
        permutation,
        digest.digest(),
    )


def _judge(
    checker: CaseChecker,
    case: Case,
    eta: float,
    permutation: tuple[int, ...],
    target: str | None = None,
    check: str | None = None,
) -> CaseReport | None:
    """Every check on one value set; None when it cannot be judged fairly. SuiteError on our own faults.

    ``target``: the cause being shrunk, a root finding of ``check`` (None: of any check). A value set
    whose root cause is settled and is another, or that passed ``check`` and every check before it,
    is judged no further (CaseChecker.run's ``enough`` and ``through``): the shrink pass needs only
    whether it shows its cause.
    """
    try:
        if target is None:
            return checker.run(case, eta, permutation)
        return checker.run(case, eta, permutation, enough=lambda root: cause_key(root) != target, through=check)
    except Exception:  # noqa: BLE001 - the implementation's faults are verdicts; this is ours
        detail = traceback.format_exc(limit=8)
        raise SuiteError(case, eta, permutation, detail) from None


def _pooled(caps: Capabilities, dtype: str, regime: str, options: SearchSettings) -> st.SearchStrategy[Case]:
    """The group's cases at the few shapes of its dtype's pool (``"shapes": "few"``)."""
    return pooled_cases(
        shape_pool(options, caps, dtype).for_regime(regime),
        regime,
        dtype,
        caps.costs,
        caps.hidden_activations,
        caps.output_activations,
        caps.reductions,
        caps.targets,
    )


def run_group(
    checker: CaseChecker,
    caps: Capabilities,
    dtype: str,
    regime: str,
    options: SearchSettings,
    collector: Collector,
    count: GroupCount | None = None,
    on_case: Callable[[GroupCount], None] | None = None,
) -> bool:
    """Search one group; returns False when the implementation stopped responding.

    ``on_case`` is told after every value set judged, exploring or shrinking (``count.judged``
    and ``count.shrink_judged`` are then up to date), so that a long group can show progress;
    it only reads. Raises SuiteError when the suite's own code fails on a case (the case is attached).
    """
    count = count if count is not None else GroupCount(dtype, regime, options.max_examples)
    hidden = [a for a in caps.activations if a in HIDDEN_ACTIVATIONS]
    strategy = (
        _pooled(caps, dtype, regime, options)
        if caps.shapes == "few"
        else cases(
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
            hidden_activations=list(caps.hidden_activations),
            output_activations=list(caps.output_activations),
            targets=caps.targets,
        )
    )
    k = options.values_for(regime, count.requested)
    values = st.lists(
        st.tuples(st.integers(0, 2**32 - 1), learning_rates(options.eta_low, options.eta_high), st.integers(0, 2**16)),
        min_size=k,
        max_size=k,
    )
    targets = str(getattr(caps, "targets", "any"))
    state = _State()
    architectures = 1 + -(-(count.requested - 1) // k)  # the simplest network carries one case (below)

    @seed(zlib.crc32(f"{options.seed}/{dtype}/{regime}".encode()))
    @settings(
        # The explore pass stops once the requested cases are judged; the margin is room for
        # architectures with value sets that could not be judged fairly. Kept small: Hypothesis
        # runs its first max_examples // 10 examples with all but the first choices minimal.
        max_examples=architectures + max(2, architectures // 10),
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        print_blob=False,
    )
    @given(case=strategy, values=values)
    def body(case: Case, values: list[tuple[int, float, int]]) -> None:
        shrinking = state.target is not None
        check = state.causes[state.target] if state.target is not None else None  # the target's (_cause_check)
        judged = False
        if not any(value_seed or order for value_seed, _, order in values):
            # Every seed 0: Hypothesis's first example, the simplest network, or a shrink that
            # reached it. One value set is enough there; the cases go to other architectures.
            values = values[:1]
        for index, (value_seed, eta, order) in enumerate(values):
            report: CaseReport | None = None
            seen: _Seen | None = None
            permutation = _permutation(case.m, order, index)
            for attempt in range(_RETRIES + 1):
                if shrinking:
                    if state.spent >= state.allowed:
                        state.hit = True
                        raise _Stop
                    state.spent += 1
                    count.shrink_judged = state.spent
                values_case = value_set(case, regime, value_seed, index, attempt, targets)
                identity = _identity(values_case, eta, permutation)
                met = shrinking and identity in state.known
                if met and _passes_over(state.known[identity], state.target, check):
                    seen = state.known[identity]  # the replay, or a candidate met before: nothing asked
                    count.shrink_reused += 1
                else:
                    report = _judge(checker, values_case, eta, permutation, state.target, check)
                    seen = state.known[identity] = _seen(report, check)
                if shrinking and on_case is not None:
                    on_case(count)
                if seen is not None:
                    break
            if seen is None:
                continue
            key = seen.key
            if not shrinking:
                assert report is not None  # the explore pass judges every value set
                count.asked += 1
                count.answered += report.answered
                count.judged += 1
                count.architectures += not judged
                collector.add(report)
                if on_case is not None:
                    on_case(count)
                if key is not None:
                    root = report.root()
                    assert root is not None  # a key is a root finding's
                    state.causes.setdefault(key, _cause_check(root))
                    if options.first_failure:
                        count.stopped = FIRST_FAILURE
                        raise _Stop
            elif key == state.target:
                state.shrunk = report  # the shrinker keeps a failing candidate only when it is smaller
            judged = True
            if seen.fatal:
                state.alive = False
                count.stopped = count.stopped or "the implementation stopped responding"
                raise _Stop
            if shrinking and key == state.target:
                if case_size(values_case) <= floor_size(check):  # no smaller network can show it: done
                    raise _Stop
                raise CheckFailure(key)
            if not shrinking and count.judged >= count.requested:
                raise _Stop
        if not judged:
            reject()

    # Explore: every case recorded, nothing raised but _Stop and SuiteError. A Hypothesis
    # report here (unsatisfiable, a health check) means cases went unjudged: it is counted.
    try:
        with _seed_only(), _counts_only():
            body()
    except _Stop:
        pass
    except HypothesisException as error:
        first_line = (str(error).strip().splitlines() or [""])[0][:200]
        count.stopped = f"{type(error).__name__}: {first_line}"
    if count.judged < count.requested and count.stopped is None:
        count.stopped = f"only {count.judged} of {count.requested} cases could be generated and judged"
    # Shrink each root cause in turn: its failure is already recorded; Hypothesis replays
    # the search and shrinks the first case that shows it. Its own reports (a flaky replay
    # of a stateful implementation) cannot undo the verdict.
    # Each cause gets an equal share of what the causes before it left of the group's budget.
    causes = [] if options.first_failure else list(state.causes)[: max(0, options.shrink_causes)]
    for index, target in enumerate(causes):
        left = options.shrink_cases - state.spent
        if not state.alive or left <= 0:
            break
        state.target, state.shrunk, state.hit = target, None, False
        state.allowed = state.spent + left // (len(causes) - index)
        try:
            with _seed_only(), _counts_only():
                body()
        except _Stop:
            pass
        except BaseException as error:
            if not _only_ours(error):
                raise
        count.shrink_budget_hit += state.hit
        if state.shrunk is not None:  # only the shrunk case: the candidates on the way are not findings
            collector.add(state.shrunk, count=False)
    count.shrink_judged = state.spent
    return state.alive
