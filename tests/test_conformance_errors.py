"""The suite's exceptions live in conformance/errors.py (issue 19), but for private control flow that
never leaves its module; each is the same class wherever it is imported from."""

from __future__ import annotations

import ast
from pathlib import Path

from ._conformance_helpers import ROOT

PACKAGE = ROOT / "conformance"
# Control flow private to one module: raised and caught there, never seen by another.
PRIVATE = {"_Stop": "cases/search.py", "CheckFailure": "cases/search.py", "_TooManyUnknowns": "judging/diagnosis.py"}
_EXCEPTION_BASES = {"Exception", "BaseException", "ValueError", "TypeError", "RuntimeError", "KeyError"}


def exception_classes(source: str, known: set[str]) -> list[str]:
    """The classes defined in ``source`` whose base is a built-in exception or one of ``known``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
            if bases & (_EXCEPTION_BASES | known):
                found.append(node.name)
    return found


def _sources() -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py") if p.name != "errors.py"}


def test_the_scanner_finds_a_planted_exception() -> None:
    """The negative control: a class deriving from an exception, or from one of the suite's, is found."""
    planted = "class Oops(ValueError):\n    pass\n\nclass Worse(LoadError):\n    pass\n\nclass Fine:\n    pass\n"
    assert exception_classes(planted, {"LoadError"}) == ["Oops", "Worse"]


def test_every_exception_class_is_in_errors_but_the_private_control_flow() -> None:
    ours = set(exception_classes((PACKAGE / "errors.py").read_text(encoding="utf-8"), set()))
    assert {"LoadError", "InternalError", "SuiteError", "StructureError", "Unusable"} <= ours
    outside = {
        (str(path.relative_to(PACKAGE)), name)
        for path, source in _sources().items()
        for name in exception_classes(source, ours)
    }
    assert outside == {(where, name) for name, where in PRIVATE.items()}


def test_the_private_ones_never_leave_their_module() -> None:
    for name, where in PRIVATE.items():
        users = {str(path.relative_to(PACKAGE)) for path, source in _sources().items() if name in source}
        assert users == {where}, (name, users)


def test_the_old_homes_still_name_the_same_classes() -> None:
    """An ``except`` that imported from a module's old home still catches the same class."""
    from conformance import errors
    from conformance.implementations import capabilities, loader, safejson
    from conformance.judging import structure, tolerances
    from conformance.reporting import casefile

    assert tolerances.Unusable is errors.Unusable and structure.StructureError is errors.StructureError
    assert capabilities.CapabilitiesError is errors.CapabilitiesError and loader.LoadError is errors.LoadError
    assert safejson.JSONInputError is errors.JSONInputError and casefile.CaseFileError is errors.CaseFileError
    assert issubclass(errors.SuiteError, BaseException) and not issubclass(errors.SuiteError, Exception)
    assert issubclass(errors.InternalError, Exception)
