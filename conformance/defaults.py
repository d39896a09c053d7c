"""The run's settings: each one's default and the values it accepts, in a module light enough for
the pytest plugin to import at startup.

150 examples per (dtype, regime) group, 18 groups (9 regimes, 2 dtypes): 2700 cases, drawn as
several value sets per architecture (conformance.cases.search); --quick: 10 per group, 180 cases.
It sits at the package's top, outside the rooms, because every room reads it: the isolation
defaults (implementations), the case counts (cases) and the front ends' options.

The bounds are checked once, where a value enters: a command-line option's text
(conformance.frontends.options) and a Python keyword (runner.search_settings,
conformance.implementations.isolation.IsolationSettings) both ask the same ``Bound``, so the
command line and Python accept the same values and say the same thing about the rest.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_EXAMPLES = 150
QUICK_EXAMPLES = 10
DEFAULT_FAILURES_DIR = ".conformance-failures"

# Isolation (conformance.implementations.worker): the first call of each worker process gets WARMUP seconds
# (imports, JIT compilation), later calls TIMEOUT; one answer may be at most MAX_ANSWER_BYTES.
DEFAULT_TIMEOUT = 10.0
DEFAULT_WARMUP_TIMEOUT = 120.0
DEFAULT_MAX_ANSWER_BYTES = 64 * 2**20

# The memory a Python worker may allocate beyond what it holds when it starts (RLIMIT_DATA, Linux),
# in MiB; 0 lifts the cap. The suite's cases are networks of at most 64-wide layers: the
# reference needs well under 100 MiB, torch's import a few hundred; 4 GiB stops a runaway
# allocation long before it takes the machine down.
DEFAULT_MAX_MEMORY_MB = 4096

# A channel line must hold at least a capabilities answer and an error message.
MIN_ANSWER_BYTES = 1024


@dataclass(frozen=True)
class Bound:
    """The values a setting accepts: ``expected`` says which, in the words of its error message."""

    expected: str
    accepts: Callable[[Any], bool]

    def problem(self, value: Any) -> str | None:
        """None when ``value`` is accepted, else "expected ..., got ..." for the error naming the setting."""
        return None if self.accepts(value) else f"expected {self.expected}, got {value!r}"


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# A budget in seconds: infinity is refused (a deadline of now + inf overflows the waits).
SECONDS = Bound("a positive number of seconds", lambda v: _number(v) and 0 < v < math.inf)
EXAMPLES = Bound("a whole number of at least 1", lambda v: _whole(v) and v >= 1)
ANSWER_BYTES = Bound(f"a whole number of at least {MIN_ANSWER_BYTES}", lambda v: _whole(v) and v >= MIN_ANSWER_BYTES)
MEMORY_MB = Bound("a whole number of MiB (0: no cap)", lambda v: _whole(v) and v >= 0)
