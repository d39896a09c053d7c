"""Turning what the user named (a spec, an object, a command) into an Implementation.

Specs: ``reference`` (the engine itself), ``package.module`` (a module with a
``backprop`` function), ``package.module:attr`` or ``path/to/file.py:attr``, where attr
is a callable ``backprop(case)``, an object with a ``backprop`` method, or a class
whose no-argument instance is one. Anything that cannot be loaded raises LoadError
with a message meant for the person who typed the spec.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shlex
import sys
import types
from pathlib import Path
from typing import Any, Protocol

from .calls import Answer, Fault, Outcome, ThreadCaller, describe_exception
from .capabilities import Capabilities, CapabilitiesError, parse_capabilities


class LoadError(Exception):
    """The implementation cannot be loaded or started (exit status 2 of the command line)."""


class Implementation(Protocol):
    """The suite's uniform view of code under test, in this process or behind --impl-cmd."""

    name: str
    replay_args: str
    in_process: bool
    capabilities: Capabilities
    has_sgd_step: bool

    def backprop(self, case: Any) -> Outcome: ...

    def sgd_step(self, case: Any, eta: float) -> Outcome: ...

    def close(self) -> None: ...


class PythonImplementation:
    """An object with ``backprop(case)`` (maybe ``sgd_step``, ``capabilities``), or a callable."""

    in_process = True

    def __init__(self, obj: Any, *, name: str, replay_args: str, timeout: float | None = 10.0) -> None:
        method = getattr(obj, "backprop", None)
        if callable(method):
            self._backprop = method
        elif callable(obj) and not isinstance(obj, types.ModuleType):
            self._backprop = obj
        else:
            raise LoadError(
                f"{name} has no backprop(case) method and is not callable; the contract needs an "
                "object with a backprop method, or a plain function backprop(case)"
            )
        sgd = getattr(obj, "sgd_step", None)
        self._sgd_step = sgd if callable(sgd) else None
        self.has_sgd_step = self._sgd_step is not None
        raw = getattr(obj, "capabilities", None)
        try:
            self.capabilities = parse_capabilities(raw() if callable(raw) else raw)
        except CapabilitiesError as error:
            raise LoadError(f"{name}: {error}") from None
        except Exception as error:
            raise LoadError(f"{name}: capabilities() {describe_exception(error)}") from None
        self.name = name
        self.replay_args = replay_args
        self._caller = ThreadCaller(timeout)

    def backprop(self, case: Any) -> Outcome:
        return self._caller.call("backprop", lambda: self._backprop(case))

    def sgd_step(self, case: Any, eta: float) -> Outcome:
        if self._sgd_step is None:
            return Fault("unsupported", "the implementation has no sgd_step method")
        step = self._sgd_step
        outcome = self._caller.call("sgd_step", lambda: step(case, eta))
        if isinstance(outcome, Fault) and outcome.message.startswith("raised NotImplementedError"):
            return Fault("unsupported", f"the implementation's sgd_step {outcome.message}")
        return outcome

    def close(self) -> None:
        pass


def _import_module(module_name: str) -> types.ModuleType:
    if module_name.endswith(".py") or os.sep in module_name or "/" in module_name:
        path = Path(module_name)
        if not path.is_file():
            raise LoadError(f"cannot load {module_name}: no such file")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise LoadError(f"cannot load {module_name} as a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules.setdefault(path.stem, module)
        try:
            spec.loader.exec_module(module)
        except Exception as error:
            raise LoadError(f"importing {module_name} failed: {describe_exception(error)}") from None
        return module
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        # `pytest` (unlike `python -m`) does not put the working directory on sys.path.
        top = module_name.split(".")[0]
        if error.name == top and os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
            return _import_module(module_name)
        raise LoadError(
            f"cannot import {module_name!r}: {error} (is the package installed, or run from its directory?)"
        ) from None
    except Exception as error:
        raise LoadError(f"importing {module_name!r} failed: {describe_exception(error)}") from None


def load_object(spec: str) -> Any:
    """The Python object a spec names (module, function, instance or class), unwrapped."""
    if spec == "reference":
        return _import_module("reference")
    module_name, sep, attr = spec.rpartition(":") if ":" in spec else (spec, "", "")
    if not module_name:
        raise LoadError(f"{spec!r} is not a spec; expected package.module:attr, package.module or reference")
    module = _import_module(module_name)
    if not sep:
        return module
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            public = sorted(n for n in dir(obj) if not n.startswith("_"))[:20]
            raise LoadError(
                f"{module_name} has no attribute {attr!r} (it has: {', '.join(public) or 'nothing public'})"
            )
        obj = getattr(obj, part)
    if isinstance(obj, type):
        try:
            obj = obj()
        except Exception as error:
            raise LoadError(f"{spec} is a class, and {spec}() failed: {describe_exception(error)}") from None
    return obj


def _spec_for(obj: Any) -> str | None:
    """A spec that loads ``obj`` again (for replay commands), when one can be found."""
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    module = getattr(obj, "__module__", None) or getattr(type(obj), "__module__", None)
    if not module or module == "__main__":
        return None
    namespace = sys.modules.get(module)
    if namespace is None:
        return None
    for name, value in vars(namespace).items():
        if value is obj:
            return f"{module}:{name}"
    qualname = getattr(type(obj), "__qualname__", "")
    if "<" not in qualname and getattr(namespace, qualname.split(".")[0], None) is not None:
        return f"{module}:{qualname}"  # a class: the loader instantiates it
    return None


def load_implementation(
    impl: Any = None, *, impl_cmd: str | None = None, timeout: float | None = 10.0
) -> Implementation:
    """An Implementation from a spec string, an object or callable, or a command (``impl_cmd``)."""
    if impl is None and impl_cmd is None:
        raise LoadError(
            "no implementation selected: pass --impl package.module:attr (or reference), "
            "--impl-cmd 'COMMAND', or set BACKPROP_IMPL"
        )
    if impl is not None and impl_cmd is not None:
        raise LoadError("give either an implementation (--impl) or a command (--impl-cmd), not both")
    if impl_cmd is not None:
        from .protocol import SubprocessImplementation

        return SubprocessImplementation(impl_cmd, timeout=timeout)
    if isinstance(impl, PythonImplementation) or _is_loaded(impl):
        return impl
    if isinstance(impl, str):
        spec = impl.strip()
        return PythonImplementation(
            load_object(spec), name=spec, replay_args=f"--impl {shlex.quote(spec)}", timeout=timeout
        )
    spec_found = _spec_for(impl)
    name = spec_found or getattr(impl, "__qualname__", None) or type(impl).__qualname__
    replay = (
        f"--impl {shlex.quote(spec_found)}" if spec_found else "--impl <package.module:attr of your implementation>"
    )
    return PythonImplementation(impl, name=name, replay_args=replay, timeout=timeout)


def _is_loaded(obj: Any) -> bool:
    from .protocol import SubprocessImplementation

    return isinstance(obj, SubprocessImplementation)


__all__ = [
    "Answer",
    "Fault",
    "Implementation",
    "LoadError",
    "Outcome",
    "PythonImplementation",
    "load_implementation",
    "load_object",
]
