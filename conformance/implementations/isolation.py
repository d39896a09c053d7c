"""IsolationSettings: how the code under test runs and what it may take, checked once.

The five settings used to travel keyword by keyword through the command line, the pytest
plugin, check_implementation, replay, load_implementation and each kind of process
implementation, and were checked in three places; now each front end builds one frozen
IsolationSettings and passes it down, and its construction is the one check (with the
bounds of conformance.defaults, which the command line's options share).

Light on purpose: the pytest plugin imports it at startup.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TypedDict

from conformance.defaults import (
    ANSWER_BYTES,
    DEFAULT_MAX_ANSWER_BYTES,
    DEFAULT_MAX_MEMORY_MB,
    DEFAULT_TIMEOUT,
    DEFAULT_WARMUP_TIMEOUT,
    MEMORY_MB,
    SECONDS,
    Bound,
)
from conformance.errors import LoadError


@dataclass(frozen=True)
class IsolationSettings:
    """How the code under test is run: in a worker process (or in process) with these budgets.

    ``timeout``: seconds per call (None: no limit); ``warmup_timeout``: seconds for loading and
    the first call of each kind in each process; ``max_answer_bytes``: the longest answer line
    accepted; ``max_memory_mb``: what a Python worker may allocate, in MiB (0 or None: no cap);
    ``in_process``: run Python code in the suite's own process (no isolation, for debugging).
    A value out of bounds raises LoadError naming the setting, expected against given.
    """

    timeout: float | None = DEFAULT_TIMEOUT
    warmup_timeout: float | None = DEFAULT_WARMUP_TIMEOUT
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES
    max_memory_mb: int | None = DEFAULT_MAX_MEMORY_MB
    in_process: bool = False

    def __post_init__(self) -> None:
        for name, bound, may_be_none in _BOUNDS:
            value = getattr(self, name)
            if value is None and may_be_none:
                continue
            problem = bound.problem(value)
            if problem is not None:
                raise LoadError(f"{name}: {problem}" + (" (or None)" if may_be_none else ""))
        if not isinstance(self.in_process, bool):
            raise LoadError(f"in_process: expected True or False, got {self.in_process!r}")


# (setting, its bound, whether None is accepted: no limit)
_BOUNDS: tuple[tuple[str, Bound, bool], ...] = (
    ("timeout", SECONDS, True),
    ("warmup_timeout", SECONDS, True),
    ("max_answer_bytes", ANSWER_BYTES, False),
    ("max_memory_mb", MEMORY_MB, True),
)


class IsolationKeywords(TypedDict, total=False):
    """IsolationSettings' fields as keyword arguments of check_implementation, replay and
    load_implementation (``**settings: Unpack[IsolationKeywords]``), so that type checkers see them."""

    timeout: float | None
    warmup_timeout: float | None
    max_answer_bytes: int
    max_memory_mb: int | None
    in_process: bool


SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in fields(IsolationSettings))


def isolation_settings(given: IsolationSettings | None, keywords: IsolationKeywords) -> IsolationSettings:
    """The settings of a call that takes either ``isolation=IsolationSettings(...)`` or its fields as keywords."""
    unknown = sorted(set(keywords) - set(SETTING_NAMES))
    if unknown:
        accepted = ", ".join(SETTING_NAMES)
        raise TypeError(f"unexpected keyword argument(s) {unknown}; the isolation settings are {accepted}")
    if given is None:
        return IsolationSettings(**keywords)
    if keywords:
        raise TypeError(f"give isolation= or its settings as keywords ({', '.join(sorted(keywords))}), not both")
    if not isinstance(given, IsolationSettings):
        raise TypeError(f"isolation: expected an IsolationSettings, got {type(given).__name__}")
    return given
