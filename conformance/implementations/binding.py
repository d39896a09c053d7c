"""What the suite calls on a Python object: its backprop, sgd_step and capabilities, found once.

Shared by the suite's process (in process), the spec worker (``python -m conformance.implementations.worker``)
and a worker forked from the caller (conformance.implementations.forking), so that all three see the same
methods and the same capabilities. It imports nothing that starts processes: a forked child
uses it without pulling the loader in.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.errors import LoadError
from conformance.implementations.calls import describe_exception


@dataclass(frozen=True)
class Bound:
    """What the suite calls on a Python object: found once, the same way in process and in a worker."""

    backprop: Callable[[Any], Any]
    sgd_step: Callable[[Any, float], Any] | None
    raw_capabilities: Any
    capabilities_from: str | None = None


def check_bindable(obj: Any, name: str) -> None:
    """LoadError when ``obj`` has no backprop; touches nothing else (no capabilities() call)."""
    method = getattr(obj, "backprop", None)
    if not callable(method) and (not callable(obj) or isinstance(obj, types.ModuleType)):
        raise LoadError(
            f"{name} has no backprop(case) method and is not callable; the contract needs an "
            "object with a backprop method, or a plain function backprop(case)"
        )


def bind(obj: Any, name: str, module: types.ModuleType | None = None) -> Bound:
    """The object's backprop, sgd_step and capabilities; LoadError when it has no backprop.

    ``module`` is where a ``module:attr`` spec found the object: a plain function carries no
    capabilities of its own, so the module's ``capabilities`` apply (and the report says so).
    """
    check_bindable(obj, name)
    method = getattr(obj, "backprop", None)
    backprop = method if callable(method) else obj
    sgd = getattr(obj, "sgd_step", None)
    raw = getattr(obj, "capabilities", None)
    source = None
    if raw is None and module is not None and module is not obj:
        raw = getattr(module, "capabilities", None)
        source = f"capabilities declared by the module {module.__name__}" if raw is not None else None
    try:
        raw = raw() if callable(raw) else raw
    except Exception as error:  # noqa: BLE001 - the implementation's own code
        raise LoadError(f"{name}: capabilities() {describe_exception(error)}") from None
    return Bound(backprop, sgd if callable(sgd) else None, raw, source)
