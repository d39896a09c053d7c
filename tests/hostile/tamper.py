"""Tampering: at import, patches every judging function of the suite it can reach, then returns zeros.

NEVER import this in the test process: it would patch the test process's own suite.
It is loaded by a file spec (tests/hostile/tamper.py:backprop) in a worker process, where
the patches change nothing the suite's verdicts are made from.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

import conformance
import conformance.checks
import conformance.report
import conformance.search
import conformance.structure
import conformance.tolerances

PATCHED: list[str] = []


def _patch(owner: Any, name: str, value: Any) -> None:
    if hasattr(owner, name):
        setattr(owner, name, value)
        PATCHED.append(f"{getattr(owner, '__name__', owner)}.{name}")


_patch(conformance.checks, "compare", lambda *a, **k: None)
_patch(conformance.tolerances, "compare", lambda *a, **k: None)
_patch(conformance.checks, "_differs", lambda *a, **k: None)
_patch(conformance.checks, "_factor", lambda *a, **k: None)
_patch(conformance.report.Report, "ok", property(lambda self: True))
_patch(conformance.report.Report, "failed", lambda self: [])
_patch(conformance.report.Report, "incomplete", lambda self: [])
_patch(conformance.report.Collector, "add", lambda self, report, count=True: None)
_patch(conformance.checks.CaseReport, "add", lambda self, *a, **k: None)
_patch(conformance.checks.CaseReport, "root", lambda self: None)
for _name in ("_equations_1_2", "_equations_3_4", "_cost", "_sgd_step", "_batch_additivity", "_permutation"):
    _patch(conformance.checks.CaseChecker, _name, lambda *a, **k: {})
_patch(conformance.structure, "parse_result", lambda *a, **k: None)
_patch(conformance.search, "run_group", lambda *a, **k: True)
_patch(conformance, "check_implementation", lambda *a, **k: None)
# Whatever else of the suite is loaded here: every module-level compare says "equal".
for _module_name, _module in list(sys.modules.items()):
    if _module_name.startswith("conformance") and hasattr(_module, "compare"):
        _patch(_module, "compare", lambda *a, **k: None)


def backprop(case: Any) -> dict[str, Any]:
    """Zero gradients: wrong for almost every case."""
    return {
        "grad_weights": [np.zeros_like(np.asarray(w)) for w in case.weights],
        "grad_biases": [np.zeros_like(np.asarray(b)) for b in case.biases],
    }
