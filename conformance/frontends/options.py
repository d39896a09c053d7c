"""Every option of ``python -m conformance`` and of the pytest plugin, declared once.

One spelling rule: an option is ``--NAME`` on the command line and ``--conformance-NAME``
under pytest, whose option namespace every installed plugin shares (``--timeout`` there
would collide with pytest-timeout's). The plugin also adds ``--impl`` and ``--impl-cmd``
where no other plugin or conftest has taken them. Each option's text is parsed and checked
here, once, against the bounds in conformance.defaults (the ones the Python API's
IsolationSettings and search_settings check): a bad value is argparse's usage error naming
the option, "argument --timeout: expected a positive number of seconds, got '-1'", on
either front end.

Light on purpose: the pytest plugin imports it at startup (no NumPy, Hypothesis or engine).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.cases.seeds import parse_seed
from conformance.defaults import (
    ANSWER_BYTES,
    DEFAULT_EXAMPLES,
    DEFAULT_FAILURES_DIR,
    DEFAULT_MAX_ANSWER_BYTES,
    DEFAULT_MAX_MEMORY_MB,
    DEFAULT_TIMEOUT,
    DEFAULT_WARMUP_TIMEOUT,
    EXAMPLES,
    MEMORY_MB,
    QUICK_EXAMPLES,
    SECONDS,
    Bound,
)

PYTEST_PREFIX = "--conformance-"
# In a help text, {opt} stands for the front end's prefix, so that "{opt}quick" reads --quick
# on the command line and --conformance-quick under pytest.
_OPT = "{opt}"


@dataclass(frozen=True)
class Option:
    """One option: its name, how its text becomes a value (None: a switch), default and help.

    ``pytest``: also an option of the pytest plugin (as --conformance-NAME); ``replay``: also
    an option of ``python -m conformance replay``; ``old_pytest_names``: earlier spellings under
    pytest that keep working; ``short``: the command line's one-letter spelling.
    """

    name: str
    help: str
    parse: Callable[[str], Any] | None = None
    default: Any = None
    metavar: str | None = None
    pytest: bool = True
    replay: bool = False
    old_pytest_names: tuple[str, ...] = ()
    short: str | None = None

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    @property
    def pytest_name(self) -> str:
        return PYTEST_PREFIX + self.name

    @property
    def pytest_dest(self) -> str:
        return "conformance_" + self.dest

    def help_for(self, prefix: str) -> str:
        return self.help.replace(_OPT, prefix)

    def arguments(self, prefix: str) -> dict[str, Any]:
        """The keyword arguments of argparse's (and pytest's) ``add_argument`` for this option."""
        if self.parse is None:
            return {"action": "store_true", "default": False, "help": self.help_for(prefix)}
        return {"type": self.parse, "default": self.default, "metavar": self.metavar, "help": self.help_for(prefix)}


def _bounded(convert: Callable[[str], Any], bound: Bound) -> Callable[[str], Any]:
    """A text parser that accepts what ``bound`` accepts: "expected ..., got '<text>'" otherwise."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not bound.accepts(value):
            raise argparse.ArgumentTypeError(f"expected {bound.expected}, got {text!r}")
        return value

    return parse


def writable_file(path: str) -> str:
    """A report's path, checked before a run that may take minutes."""
    target = os.path.abspath(path)
    if os.path.isdir(target):
        raise argparse.ArgumentTypeError(f"expected a file name, got the directory {path!r}")
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(
            f"expected a file in an existing folder, got {path!r} ({folder} does not exist)"
        )
    if not os.access(folder, os.W_OK) or (os.path.exists(target) and not os.access(target, os.W_OK)):
        raise argparse.ArgumentTypeError(f"expected a writable file, got {path!r}")
    return path


def writable_dir(path: str) -> str:
    """A folder for the failing cases: existing, or creatable under a writable folder."""
    target = os.path.abspath(path)
    if os.path.exists(target) and not os.path.isdir(target):
        raise argparse.ArgumentTypeError(f"expected a directory, got {path!r}, which exists and is not one")
    probe = target
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe) or not os.access(probe, os.W_OK):
        raise argparse.ArgumentTypeError(
            f"expected a directory that can be created or written, got {path!r} ({probe} is not a writable folder)"
        )
    return path


def selection_problem(impl: str | None, impl_cmd: str | None, impl_option: str, cmd_option: str) -> str | None:
    """What is wrong with the implementation a front end was given (with $BACKPROP_IMPL read in), or None.

    ``impl_option`` and ``cmd_option``: the options' spellings in that front end.
    """
    if impl and impl_cmd:
        return f"give either {impl_option} or {cmd_option}, not both"
    if not impl and not impl_cmd:
        return (
            f"no implementation: pass {impl_option} package.module:attr (or reference), {cmd_option} 'COMMAND', "
            "or set BACKPROP_IMPL"
        )
    return None


SECONDS_TEXT = _bounded(float, SECONDS)

OPTIONS: tuple[Option, ...] = (
    Option(
        "impl",
        "the implementation: package.module:attr, package.module, path/to/file.py:attr, or 'reference' "
        "(default: $BACKPROP_IMPL)",
        parse=str,
        metavar="SPEC",
        replay=True,
    ),
    Option(
        "impl-cmd",
        "a command that speaks the JSON-lines protocol (any language), started once",
        parse=str,
        metavar="COMMAND",
        replay=True,
    ),
    Option(
        "examples",
        f"Hypothesis examples per (dtype, regime) group "
        f"(default {DEFAULT_EXAMPLES}, {QUICK_EXAMPLES} with {_OPT}quick)",
        parse=_bounded(int, EXAMPLES),
        metavar="N",
    ),
    Option(
        "seed",
        "Hypothesis seed (default 0: runs repeat exactly), or 'random': a fresh seed, printed in the report's "
        "header with the command that repeats the run",
        parse=parse_seed,
        default=0,
        metavar="SEED",
    ),
    Option("quick", "a few seconds: fewer and smaller cases"),
    Option(
        "first-failure",
        "stop at the first failing case: the same pass/fail verdict, sooner, without the later findings "
        "or a smallest case",
        short="-x",
        pytest=False,
    ),
    Option(
        "timeout",
        f"per-call timeout: a call that takes longer is a failing verdict (default {DEFAULT_TIMEOUT:g})",
        parse=SECONDS_TEXT,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        replay=True,
    ),
    Option(
        "warmup-timeout",
        "time allowed for loading and for the first call of each kind in each process: imports, "
        f"JIT compilation (default {DEFAULT_WARMUP_TIMEOUT:g})",
        parse=SECONDS_TEXT,
        default=DEFAULT_WARMUP_TIMEOUT,
        metavar="SECONDS",
        replay=True,
    ),
    Option(
        "in-process",
        "run a Python implementation in the suite's own process (for breakpoints); no isolation: "
        "a hang, a crash or tampering with the suite is not contained",
        replay=True,
    ),
    Option(
        "max-answer-bytes",
        f"the longest answer line accepted from an implementation's process (default {DEFAULT_MAX_ANSWER_BYTES})",
        parse=_bounded(int, ANSWER_BYTES),
        default=DEFAULT_MAX_ANSWER_BYTES,
        metavar="N",
        replay=True,
    ),
    Option(
        "max-memory-mb",
        "memory a Python worker may allocate beyond what it holds at its start (RLIMIT_DATA, Linux); "
        f"an allocation past it fails the call, naming this option; 0: no cap (default {DEFAULT_MAX_MEMORY_MB})",
        parse=_bounded(int, MEMORY_MB),
        default=DEFAULT_MAX_MEMORY_MB,
        metavar="MIB",
        replay=True,
    ),
    Option(
        "report",
        "also write the report as JSON (under pytest: the merged report, in the same format)",
        parse=writable_file,
        metavar="FILE",
    ),
    Option(
        "failures-dir",
        f"where failing cases are saved (default {DEFAULT_FAILURES_DIR}, or $BACKPROP_CONFORMANCE_FAILURES)",
        parse=writable_dir,
        metavar="DIR",
        old_pytest_names=("--conformance-failures",),
    ),
    Option("regimes", "only these regimes (comma-separated; default all)", parse=str, metavar="R,R", pytest=False),
    Option("dtypes", "only these dtypes (float64,float32)", parse=str, metavar="D,D", pytest=False),
    Option("verbose", "also list blocked and not covered verdicts", short="-v", pytest=False, replay=True),
    Option("quiet", "no progress lines on stderr", short="-q", pytest=False),
)

BY_NAME: dict[str, Option] = {option.name: option for option in OPTIONS}


def add_to_argparse(parser: argparse.ArgumentParser, *, replay: bool = False) -> None:
    """The command line's options (``replay``: only those of ``python -m conformance replay``)."""
    for option in OPTIONS:
        if replay and not option.replay:
            continue
        flags = [option.short] if option.short else []
        parser.add_argument(*flags, f"--{option.name}", dest=option.dest, **option.arguments("--"))


def add_to_pytest(group: Any) -> None:
    """The pytest plugin's options, into its option group (a pytest.OptionGroup)."""
    for option in OPTIONS:
        if option.pytest:
            group.addoption(
                option.pytest_name, *option.old_pytest_names, dest=option.pytest_dest, **option.arguments(PYTEST_PREFIX)
            )
