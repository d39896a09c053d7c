"""The pytest plugin: ``pytest --pyargs conformance --impl package.module:attr`` (or ``--impl-cmd``).

Registered through the ``pytest11`` entry point, so pytest loads it in every run
once the package is installed, including runs of unrelated projects. So it only
adds options, each the command line's ``--NAME`` spelled ``--conformance-NAME``
(conformance.frontends.options declares both); everything else happens only when the
conformance tests (conformance/test_conformance.py) are collected. The short
spellings ``--impl`` and ``--impl-cmd`` are added as aliases only where no other
plugin or conftest has taken them: after the initial conftests have registered
their options (pytest_load_initial_conftests), a name already registered is left
alone, and the ``--conformance-`` spelling keeps working there.

The tests are one per (dtype, regime) group, so pytest-xdist spreads the groups
over its workers, each of which loads the implementation once (its own worker
process or ``--impl-cmd`` process); the workers' reports travel back in the test
reports' user_properties and the controller prints the merged root causes and one
check x layer table at the end (and writes it with ``--conformance-report FILE``).

One verdict, one exit status (issue 18): pytest's exit status agrees with the CLI's on
every outcome, here and in ``parametrize_with_checks``. A run that checked nothing (no
declared dtype, no generable case) fails its tests instead of skipping them; an
implementation that cannot be loaded ends the session with 2, a bug of the suite with 3
(the CLI's numbers); and a run whose merged report does not conform never exits 0
(pytest_sessionfinish). The statuses travel in the test reports' user_properties, so the
xdist controller sees its workers' too.
"""

from __future__ import annotations

import argparse
import os
import shlex
from typing import TYPE_CHECKING, Any

import pytest

from conformance.cases.seeds import RANDOM, random_seed
from conformance.defaults import DEFAULT_EXAMPLES, QUICK_EXAMPLES
from conformance.errors import InternalError, LoadError
from conformance.extras import missing_hypothesis
from conformance.frontends.options import add_to_pytest, selection_problem
from conformance.implementations.isolation import SETTING_NAMES, IsolationSettings

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator

    from conformance.implementations.loader import Implementation
    from conformance.reporting.report import Report, Verdict

FIXTURE = "conformance_session"
_PROPERTY = "backprop_conformance_report"
_STATUS = "backprop_conformance_exit_status"  # a user property: the CLI's exit status for an error outcome
_SEED = pytest.StashKey[tuple[int, bool]]()
# The CLI's exit statuses (conformance.frontends.cli) for the outcomes that are not a verdict.
LOAD_ERROR_STATUS = 2
INTERNAL_ERROR_STATUS = 3
_GROUP = "backprop-conformance"
# _LAZY: pytest imports this module in every run of every project once the package is installed,
# so the suite proper (runner, loader, report: NumPy, Hypothesis, the engine, about 0.2 s) is
# imported inside the functions that need it, only when the conformance tests run.
# The short spellings, each an alias of a --conformance- option (its own dest, so that
# the plugin can tell whether the alias is its own or another plugin's option).
_ALIASES: dict[str, str] = {"--impl": "conformance_impl_alias", "--impl-cmd": "conformance_impl_cmd_alias"}
_ALIAS_HELP = {
    "--impl": "same as --conformance-impl (added only when no other plugin or conftest defines --impl)",
    "--impl-cmd": "same as --conformance-impl-cmd (added only when no other plugin or conftest defines --impl-cmd)",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    add_to_pytest(parser.getgroup(_GROUP, "backprop conformance suite (pytest --pyargs conformance)"))


def _taken(parser: pytest.Parser, name: str) -> bool:
    """Whether some plugin or conftest has registered the option string ``name``."""
    for group in getattr(parser, "_groups", [getattr(parser, "_anonymous", None)]):
        for option in getattr(group, "options", ()):
            if name in option.names():
                return True
    return False


def add_short_options(parser: pytest.Parser) -> list[str]:
    """Add --impl and --impl-cmd as aliases where they are free; the names added.

    Idempotent. Called once the initial conftests have registered their options, so
    that a project whose conftest defines its own ``--impl`` keeps it.
    """
    group = parser.getgroup(_GROUP)
    added = []
    for name, dest in _ALIASES.items():
        if _taken(parser, name):
            continue
        try:
            group.addoption(
                name, dest=dest, metavar="SPEC" if name == "--impl" else "COMMAND", default=None, help=_ALIAS_HELP[name]
            )
        except (ValueError, argparse.ArgumentError):  # taken in a way _taken cannot see
            continue
        added.append(name)
    return added


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> Generator[None, None, None]:
    try:
        return (yield)
    finally:
        add_short_options(parser)


def _alias_registered(config: pytest.Config, dest: str) -> bool:
    return config.getoption(dest, default=_MISSING) is not _MISSING


_MISSING: Any = object()


def _selection(config: pytest.Config) -> tuple[str | None, str | None, str]:
    """(impl, impl_cmd, how it was chosen)."""
    impl = config.getoption("conformance_impl") or config.getoption("conformance_impl_alias", default=None)
    cmd = config.getoption("conformance_impl_cmd") or config.getoption("conformance_impl_cmd_alias", default=None)
    if impl or cmd:
        return impl, cmd, "command line"
    env = os.environ.get("BACKPROP_IMPL")
    return (env, None, "BACKPROP_IMPL") if env else (None, None, "")


def _spelling(config: pytest.Config, long: str) -> str:
    """The option's shortest spelling in this run: --impl unless another plugin owns it."""
    short = "--" + long.removeprefix("--conformance-")
    return short if _alias_registered(config, _ALIASES[short]) else long


def _settings_text(config: pytest.Config) -> str:
    examples = config.getoption("--conformance-examples")
    quick = config.getoption("--conformance-quick")
    return (
        f"examples per group {examples if examples is not None else (QUICK_EXAMPLES if quick else DEFAULT_EXAMPLES)}, "
        f"seed {_seed_text(config)}, quick {quick}, "
        f"timeout {config.getoption('--conformance-timeout'):g} s, "
        f"warm-up timeout {config.getoption('--conformance-warmup-timeout'):g} s"
        + (", in process (no isolation)" if config.getoption("--conformance-in-process") else "")
    )


def run_seed(config: pytest.Config) -> tuple[int, bool]:
    """(the run's seed, whether it was drawn at random): drawn once per session when ``random``.

    Under pytest-xdist the controller draws it and hands it to every worker in its
    workerinput (pytest_configure_node), so that all the groups of one run share one seed.
    """
    if _SEED in config.stash:
        return config.stash[_SEED]
    given = getattr(config, "workerinput", {}).get("conformance_seed")
    if isinstance(given, list) and len(given) == 2:
        seed = (int(given[0]), bool(given[1]))
    else:
        value = config.getoption("--conformance-seed")
        seed = (random_seed(), True) if value == RANDOM else (int(value), False)
    config.stash[_SEED] = seed
    return seed


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist (controller): every worker runs with the controller's seed."""
    node.workerinput["conformance_seed"] = list(run_seed(node.config))


def rerun_args(config: pytest.Config, seed: int) -> str:
    """The pytest command line of this session with the drawn seed in place of ``random``."""
    args = list(config.invocation_params.args)
    out: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == "--conformance-seed":
            skip = True
            continue
        if arg.startswith("--conformance-seed="):
            continue
        out.append(arg)
    return shlex.join(["pytest", *out, "--conformance-seed", str(seed)])


def _seed_text(config: pytest.Config) -> str:
    seed, drawn = run_seed(config)
    return f"{seed} (drawn at random: {rerun_args(config, seed)} repeats this run)" if drawn else str(seed)


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    impl, cmd, how = _selection(config)
    if not how:
        return None
    what = (
        f"{_spelling(config, '--conformance-impl')} {impl}"
        if impl
        else (f"{_spelling(config, '--conformance-impl-cmd')} {cmd!r}")
    )
    return [f"backprop conformance: {what} (from the {how}); {_settings_text(config)}"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(FIXTURE in getattr(item, "fixturenames", ()) for item in items):
        return
    impl, cmd, _ = _selection(config)
    impl_opt, cmd_opt = _spelling(config, "--conformance-impl"), _spelling(config, "--conformance-impl-cmd")
    problem = selection_problem(impl, cmd, impl_opt, cmd_opt) or missing_hypothesis("running the conformance tests")
    if problem is not None:
        raise pytest.UsageError(f"the conformance tests: {problem}")


def run_options(config: pytest.Config) -> dict[str, Any]:
    """The check_implementation keyword arguments the command line sets (all but the selection)."""
    options: dict[str, Any] = {
        "max_examples": config.getoption("--conformance-examples"),
        "seed": run_seed(config)[0],
        "quick": config.getoption("--conformance-quick"),
        "isolation": isolation(config),
    }
    failures = config.getoption("--conformance-failures-dir")
    if failures:
        options["failures_dir"] = failures
    return options


def isolation(config: pytest.Config) -> IsolationSettings:
    """The isolation options (checked as they were parsed: conformance.frontends.options)."""
    return IsolationSettings(**{name: config.getoption(f"conformance_{name}") for name in SETTING_NAMES})


def _lines(verdicts: list[Verdict]) -> list[str]:
    lines = []
    for v in verdicts:
        lines.append(v.text())  # pytest prefixes the status: "Failed: equation2 layer 2 ..."
        if v.replay:
            lines.append(f"    replay: {v.replay}")
    return lines


def blocked_reason(what: str, verdicts: list[Verdict]) -> str:
    """The skip reason of a check or group whose verdicts include blocked ones: not judged, and why."""
    blocked = [v for v in verdicts if v.status == "blocked"]
    causes = sorted({v.message for v in blocked})
    where = ", ".join(
        f"{v.check}{f' layer {v.layer}' if v.layer is not None else ''} ({v.dtype})" for v in blocked[:8]
    ) + (f" and {len(blocked) - 8} more" if len(blocked) > 8 else "")
    return f"{what}: not judged at {where}: {'; '.join(causes)}"[:800]


def fail_skip_or_pass(
    what: str,
    verdicts: list[Verdict],
    incomplete: list[dict[str, Any]] | None = None,
    nothing_checked: str | None = None,
) -> None:
    """Fail, skip or return (pass), from verdicts: the rule of the per-group tests and parametrize_with_checks.

    Failed anywhere: fail. Otherwise blocked anywhere: skip naming the blocking cause
    (a blocked verdict means the check was not judged there, and CONFORMS requires
    none). Otherwise cases left unjudged (the implementation stopped answering): fail.
    Otherwise, when the whole run checked nothing (``nothing_checked``: why), fail: the
    CLI says NOTHING WAS CHECKED and exits 1, and a run of skips would exit 0. Otherwise
    nothing passed here: skip with the not-covered reasons.
    """
    failed = [v for v in verdicts if v.status == "failed"]
    if failed:
        pytest.fail("\n".join(_lines(failed)), pytrace=False)
    if any(v.status == "blocked" for v in verdicts):
        pytest.skip(blocked_reason(what, verdicts))
    if incomplete:
        pytest.fail(
            "\n".join(
                f"INCOMPLETE: {g.get('dtype')}/{g.get('regime')}: {g.get('judged')} of {g.get('requested')} "
                f"cases judged" + (f" (stopped: {g['stopped']})" if g.get("stopped") else "")
                for g in incomplete
            ),
            pytrace=False,
        )
    if nothing_checked is not None:
        pytest.fail(f"NOTHING WAS CHECKED: {nothing_checked}"[:800], pytrace=False)
    if not any(v.status == "passed" for v in verdicts):
        reasons = sorted({v.message for v in verdicts}) or ["no verdict"]
        pytest.skip(f"{what}: not covered: " + "; ".join(reasons)[:500])


def nothing_checked_reason(report: Report) -> str | None:
    """Why the whole run checked nothing (the CLI's NOTHING WAS CHECKED), or None when it checked something
    or did not conform for another reason (a failure, a block, an incomplete group)."""
    if any(v.status in ("passed", "failed", "blocked") for v in report.verdicts) or report.incomplete():
        return None
    return "; ".join(report.not_covered) or "no verdict"


class ConformanceSession:
    """One loaded implementation per pytest process (xdist worker), shared by the group tests.

    ``load_error``: why the implementation could not be loaded (then ``implementation`` is None):
    every group test fails with it, and the session exits 2, as the CLI does.
    """

    def __init__(self, config: pytest.Config, implementation: Implementation | None, load_error: str = "") -> None:
        self.config = config
        self.implementation = implementation
        self.load_error = load_error

    def check_group(self, dtype: str, regime: str, node: pytest.Item) -> Report:
        from conformance.cases.search import group_problem  # noqa: PLC0415 - lazy: start-up time (module docstring, _LAZY)
        from conformance.frontends.runner import check_implementation  # noqa: PLC0415 - lazy: start-up time (_LAZY)
        from reference import DTYPES  # noqa: PLC0415 - lazy: start-up time (module docstring, _LAZY)

        if self.implementation is None:
            node.user_properties.append((_STATUS, LOAD_ERROR_STATUS))
            pytest.fail(f"cannot load the implementation: {self.load_error}", pytrace=False)
        caps = self.implementation.capabilities
        declared = [d for d in DTYPES if d in caps.dtypes]
        problem = group_problem(caps)
        if dtype not in caps.dtypes and (declared and not problem):
            pytest.skip(f"not covered: {self.implementation.name} does not declare {dtype}")
        try:
            report = check_implementation(
                self.implementation, regimes=[regime], dtypes=[dtype], **run_options(self.config)
            )
        except InternalError as error:
            node.user_properties.append((_STATUS, INTERNAL_ERROR_STATUS))
            pytest.fail(f"error: {error}", pytrace=False)
        seed, drawn = run_seed(self.config)
        if drawn:
            report.settings["rerun"] = rerun_args(self.config, seed)
        node.user_properties.append((_PROPERTY, report.to_dict()))
        incomplete = report.incomplete()
        # The whole run checks nothing when no dtype of the contract is declared or no case can be
        # generated; a dtype merely left out of several is a skip, as the CLI's not-covered line.
        nothing = None
        if not declared:
            nothing = f"{self.implementation.name} declares none of the dtypes {', '.join(DTYPES)}"
        elif problem:
            nothing = problem
        fail_skip_or_pass(f"{dtype}/{regime}", report.verdicts, incomplete, nothing)
        return report


@pytest.fixture(scope="session")
def conformance_session(request: pytest.FixtureRequest) -> Iterator[ConformanceSession]:
    from conformance.implementations.loader import load_implementation  # noqa: PLC0415 - lazy: start-up time (module docstring, _LAZY)

    config = request.config
    impl, cmd, _ = _selection(config)
    try:
        implementation = load_implementation(impl, impl_cmd=cmd, isolation=isolation(config))
    except LoadError as error:
        # Each group test fails with the reason and carries exit status 2 (check_group).
        yield ConformanceSession(config, None, str(error))
        return
    try:
        yield ConformanceSession(config, implementation)
    finally:
        implementation.close()


class Collected:
    """What one pytest session's conformance tests reported: group reports and error exit statuses.

    One per session (pytest_configure registers it as a plugin of that config), not a module
    global: two ``pytest.main()`` runs in one process each count only their own cases. Its
    pytest_runtest_logreport hook is where reports arrive, in a worker for its own tests and
    in the pytest-xdist controller for every worker's (a TestReport carries no config to find
    the session by, so the hook is bound to the session instead).
    """

    def __init__(self) -> None:
        self.reports: list[dict[str, Any]] = []
        self.statuses: list[int] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for name, value in report.user_properties:
            if name == _PROPERTY and isinstance(value, dict):
                self.reports.append(value)
            elif name == _STATUS and isinstance(value, int):
                self.statuses.append(value)


_COLLECTED = pytest.StashKey[Collected]()


def pytest_configure(config: pytest.Config) -> None:
    collected = Collected()
    config.stash[_COLLECTED] = collected
    config.pluginmanager.register(collected, f"{_GROUP}-collected")


def pytest_unconfigure(config: pytest.Config) -> None:
    collected = config.stash.get(_COLLECTED, None)
    if collected is not None and config.pluginmanager.is_registered(collected):
        config.pluginmanager.unregister(collected)


def _collected(config: pytest.Config) -> Collected:
    """This session's Collected (an empty one when pytest_configure has not run for it)."""
    return config.stash.get(_COLLECTED, None) or Collected()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """A parametrize_with_checks test carries its run's error status (load error 2, suite bug 3).

    Its ``check`` parameter knows the outcome of the shared run (pytest_helpers.ConformanceCheck.
    exit_status); the status goes into the test report, which reaches the xdist controller.
    """
    report = yield
    if call.when == "call":
        params = getattr(getattr(item, "callspec", None), "params", {})
        for value in params.values():
            status = getattr(value, "conformance_exit_status", None)
            code = status() if callable(status) else None
            if code:
                report.user_properties.append((_STATUS, code))
    return report


def in_group_order(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The group reports in the CLI's order (dtype, then regime), whatever order xdist's workers sent them in.

    merge() breaks ties by order (a failed verdict's smallest case among equal sizes, a blocked
    verdict's message), as one run does by the order it meets its cases: so the merged report
    is the CLI's, and the same on every run.
    """
    from reference import DTYPES  # noqa: PLC0415 - lazy: start-up time (module docstring, _LAZY)
    from reference.strategies import REGIMES  # noqa: PLC0415 - lazy: start-up time (module docstring, _LAZY)

    def key(data: dict[str, Any]) -> tuple[int, int]:
        groups = data.get("groups") or [{}]
        dtype, regime = groups[0].get("dtype"), groups[0].get("regime")
        return (
            DTYPES.index(dtype) if dtype in DTYPES else len(DTYPES),
            REGIMES.index(regime) if regime in REGIMES else len(REGIMES),
        )

    return sorted(reports, key=key)


def exit_status(statuses: list[int], reports: list[dict[str, Any]], pytest_status: int) -> int:
    """The session's exit status: the CLI's for the conformance outcomes, pytest's for the rest.

    Only a pytest status of 0 (passed) or 1 (tests failed) is replaced: an interrupted
    session, a usage error or no tests collected keep pytest's own. An error outcome (2: the
    implementation could not be loaded, 3: a bug of the suite) wins over 1, as in the CLI;
    a merged conformance report that does not conform never exits 0.
    """
    if pytest_status not in (0, 1):
        return pytest_status
    status = max([pytest_status, *statuses])
    if status == 0 and reports:
        from conformance.reporting.report import Report, merge  # noqa: PLC0415 - lazy: start-up time (module docstring, _LAZY)

        if not merge([Report.from_dict(d) for d in in_group_order(reports)]).ok:
            status = 1
    return status


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput"):  # an xdist worker: the controller decides
        return
    collected = _collected(config)
    if collected.statuses or collected.reports:
        session.exitstatus = exit_status(collected.statuses, collected.reports, int(session.exitstatus))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    data = _collected(config).reports
    if not data:
        return
    from conformance.reporting.report import Report, merge  # noqa: PLC0415 - lazy: start-up time (module docstring, _LAZY)

    merged = merge([Report.from_dict(d) for d in in_group_order(data)])
    terminalreporter.section("backprop conformance summary")
    terminalreporter.write_line(merged.header())
    if merged.not_covered:
        terminalreporter.write_line("not covered: " + "; ".join(merged.not_covered))
    terminalreporter.write_line("")
    if merged.causes:
        for line in merged.causes_text().splitlines():
            terminalreporter.write_line(line)
        terminalreporter.write_line("")
    for line in merged.table().splitlines():
        terminalreporter.write_line(line)
    terminalreporter.write_line("")
    terminalreporter.write_line(f"{merged.outcome()} ({merged.examples} cases)")
    path = config.getoption("--conformance-report")
    if path and not hasattr(config, "workerinput"):  # the xdist controller writes the merged report
        try:
            merged.write_json(path)
        except OSError as error:
            terminalreporter.write_line(f"cannot write the report {path}: {error.strerror or error}")
        else:
            terminalreporter.write_line(f"report written to {path}")
