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
import pickle
import shlex
import sys
import types
from collections.abc import Hashable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol, Unpack

from conformance.errors import CannotRecreate, CapabilitiesError, LoadError
from conformance.implementations.binding import Bound, bind, check_bindable
from conformance.implementations.calls import Answer, Fault, Outcome, ThreadCaller, describe_exception
from conformance.implementations.capabilities import Capabilities, parse_capabilities, shape_of
from conformance.implementations.forking import fork_available
from conformance.implementations.isolation import IsolationKeywords, IsolationSettings, isolation_settings
from conformance.implementations.protocol import ForkedImplementation, SubprocessImplementation, WorkerImplementation


class Implementation(Protocol):
    """The suite's uniform view of code under test, in this process or behind --impl-cmd."""

    name: str
    replay_args: str
    in_process: bool  # the suite can see the arrays it passed (and so judge no_mutation itself)
    reports_mutation: bool  # a worker compares the arrays for it and reports a change
    isolation: str  # how the code runs, for the report header
    capabilities: Capabilities
    capabilities_note: str | None  # where the capabilities came from, when not from the object
    has_sgd_step: bool

    def backprop(self, case: Any) -> Outcome: ...

    def backprop_each(self, cases: Iterable[Any], judged: int = 0) -> Iterator[Outcome]:
        """backprop on each case in turn, as if asked one by one, ending after the first Fault.

        The first ``judged`` calls' effect on their input is compared (their outcomes carry the
        mutation report, as backprop's), the others' is not. A worker pipelines them. Iterate it
        to the end, or stop and make no other call before dropping it: the next call reads and
        throws away the answers sent ahead.
        """
        ...

    def sgd_step(self, case: Any, eta: float) -> Outcome: ...

    def close(self) -> None: ...


class PythonImplementation:
    """In process (``--in-process``): an object with ``backprop(case)``, or a callable.

    No isolation: a hang abandons a thread, a crash ends the suite, and the code can reach
    the suite's own modules. For debugging with breakpoints; see docs/validating.md.
    """

    in_process = True
    reports_mutation = False

    def __init__(
        self,
        obj: Any,
        *,
        name: str,
        replay_args: str,
        settings: IsolationSettings,
        module: types.ModuleType | None = None,
        isolation: str = "none (in process)",
    ) -> None:
        bound = bind(obj, name, module)
        self._backprop = bound.backprop
        self._sgd_step = bound.sgd_step
        self.has_sgd_step = self._sgd_step is not None
        try:
            self.capabilities = parse_capabilities(bound.raw_capabilities)
        except CapabilitiesError as error:
            raise LoadError(f"{name}: {error}") from None
        self.capabilities_note = bound.capabilities_from
        self.name = name
        self.replay_args = replay_args
        self.isolation = isolation
        self._caller = ThreadCaller(settings.timeout, settings.warmup_timeout)

    def _key(self, op: str, case: Any) -> Hashable | None:
        """Under "shapes": "few", the kind of call at the case's shape: its first call gets the warm-up budget."""
        return (op, shape_of(case)) if self.capabilities.shapes == "few" else None

    def backprop(self, case: Any) -> Outcome:
        return self._caller.call("backprop", lambda: self._backprop(case), self._key("backprop", case))

    def backprop_each(self, cases: Iterable[Any], judged: int = 0) -> Iterator[Outcome]:
        for case in cases:  # one at a time: each call made only once the one before it has returned
            outcome = self.backprop(case)
            yield outcome
            if isinstance(outcome, Fault):
                return

    def sgd_step(self, case: Any, eta: float) -> Outcome:
        if self._sgd_step is None:
            return Fault("unsupported", "the implementation has no sgd_step method")
        step = self._sgd_step
        outcome = self._caller.call("sgd_step", lambda: step(case, eta), self._key("sgd_step", case))
        if isinstance(outcome, Fault) and outcome.message.startswith("raised NotImplementedError"):
            return Fault("unsupported", f"the implementation's sgd_step {outcome.message}")
        return outcome

    @property
    def reasked(self) -> int:
        """Calls that timed out once and were given more time (the report prints it)."""
        return self._caller.reasked

    def close(self) -> None:
        pass


def _import_module(module_name: str) -> types.ModuleType:
    if module_name.endswith(".py") or os.sep in module_name or "/" in module_name:
        path = Path(module_name)
        if not path.is_file():
            raise LoadError(f"cannot load {module_name}: no such file")
        # Like `python path/to/file.py`: the modules beside it are importable.
        folder = str(path.resolve().parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise LoadError(f"cannot load {module_name} as a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules.setdefault(path.stem, module)
        try:
            spec.loader.exec_module(module)
        except Exception as error:  # noqa: BLE001 - importing runs the user's code
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
    except Exception as error:  # noqa: BLE001 - importing runs the user's code
        raise LoadError(f"importing {module_name!r} failed: {describe_exception(error)}") from None


def load_spec(spec: str) -> tuple[Any, types.ModuleType | None]:
    """The Python object a spec names (module, function, instance or class), and the module that
    holds it when the spec named an attribute (None when it named the module itself)."""
    if spec == "reference":
        return _import_module("reference"), None
    module_name, sep, attr = spec.rpartition(":") if ":" in spec else (spec, "", "")
    if not module_name:
        raise LoadError(f"{spec!r} is not a spec; expected package.module:attr, package.module or reference")
    module = _import_module(module_name)
    if not sep:
        return module, None
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
        except Exception as error:  # noqa: BLE001 - the user's constructor
            raise LoadError(f"{spec} is a class, and {spec}() failed: {describe_exception(error)}") from None
    return obj, module


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
    impl: Any = None,
    *,
    impl_cmd: str | None = None,
    isolation: IsolationSettings | None = None,
    **keywords: Unpack[IsolationKeywords],
) -> Implementation:
    """An Implementation from a spec string, an object or callable, or a command (``impl_cmd``).

    ``isolation`` (or its fields as keywords: timeout, warmup_timeout, max_answer_bytes,
    max_memory_mb, in_process) says how it runs. Python code runs in a worker process unless
    ``in_process``: a spec in
    ``python -m conformance.implementations.worker``, which imports it; an object, a callable or a module in a
    worker forked from this process (conformance.implementations.forking), so that what is judged is the object
    as the caller holds it, run-time state included. Where this process cannot fork (no fork
    on the platform, or jax / tensorflow loaded), the object goes to the spec worker as a
    pickled copy, or, when it cannot be pickled, runs in process; the report's header says
    which, and what is lost.
    """
    if impl is None and impl_cmd is None:
        raise LoadError(
            "no implementation selected: pass --impl package.module:attr (or reference), "
            "--impl-cmd 'COMMAND', or set BACKPROP_IMPL"
        )
    if impl is not None and impl_cmd is not None:
        raise LoadError("give either an implementation (--impl) or a command (--impl-cmd), not both")
    chosen = isolation_settings(isolation, keywords)
    if impl_cmd is not None:
        if chosen.in_process:
            raise LoadError("--in-process (in_process=True) is for Python implementations (--impl), not --impl-cmd")
        return SubprocessImplementation(impl_cmd, settings=chosen)
    if isinstance(impl, PythonImplementation | SubprocessImplementation | WorkerImplementation):
        return impl
    if isinstance(impl, str):
        spec = impl.strip()
        replay = f"--impl {shlex.quote(spec)}"
        if chosen.in_process:
            obj, module = load_spec(spec)
            return PythonImplementation(obj, name=spec, replay_args=replay, module=module, settings=chosen)
        return WorkerImplementation(spec=spec, name=spec, replay_args=replay, settings=chosen)
    spec_found = _spec_for(impl)
    name = (
        spec_found or getattr(impl, "__qualname__", None) or getattr(impl, "__name__", None) or type(impl).__qualname__
    )
    replay = (
        f"--impl {shlex.quote(spec_found)}" if spec_found else "--impl <package.module:attr of your implementation>"
    )
    if chosen.in_process:
        return PythonImplementation(impl, name=name, replay_args=replay, settings=chosen)
    check_bindable(impl, name)  # the same LoadError as in process, before any worker starts
    cannot_fork = fork_available()
    if cannot_fork is None:
        return ForkedImplementation(impl, name=name, replay_args=replay, settings=chosen)
    lost = "state set at run time (attributes, monkeypatches, torch defaults) is not carried over"
    try:
        pickled = pickle.dumps(impl)
    except Exception as error:  # noqa: BLE001 - __reduce__ is the user's code
        why = f"{type(error).__name__}: {str(error)[:100]}"
        return PythonImplementation(
            impl,
            name=name,
            replay_args=replay,
            isolation=f"none: no fork ({cannot_fork}), and the object cannot be sent to a worker ({why})",
            settings=chosen,
        )
    try:
        return WorkerImplementation(
            pickled=pickled,
            name=name,
            replay_args=replay,
            isolation=f"worker process from a pickled copy (no fork: {cannot_fork}); {lost}",
            settings=chosen,
        )
    except CannotRecreate as error:
        return PythonImplementation(
            impl,
            name=name,
            replay_args=replay,
            isolation=f"none: no fork ({cannot_fork}), and the worker cannot recreate the object ({error})",
            settings=chosen,
        )


__all__ = [
    "Answer",
    "Bound",
    "Fault",
    "Implementation",
    "IsolationSettings",
    "LoadError",
    "Outcome",
    "PythonImplementation",
    "bind",
    "load_implementation",
    "load_spec",
]
