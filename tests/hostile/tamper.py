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
import conformance.cases.search
import conformance.judging.checks
import conformance.judging.findings
import conformance.judging.structure
import conformance.judging.tolerances
import conformance.reporting.report

PATCHED: list[str] = []


def _patch(owner: Any, name: str, value: Any) -> None:
    if hasattr(owner, name):
        setattr(owner, name, value)
        PATCHED.append(f"{getattr(owner, '__name__', owner)}.{name}")


_patch(conformance.reporting.report.Report, "ok", property(lambda self: True))
_patch(conformance.reporting.report.Report, "failed", lambda self: [])
_patch(conformance.reporting.report.Report, "incomplete", lambda self: [])
_patch(conformance.reporting.report.Collector, "add", lambda self, report, count=True: None)
_patch(conformance.judging.findings.CaseReport, "add", lambda self, *a, **k: None)
_patch(conformance.judging.findings.CaseReport, "root", lambda self: None)
for _name in ("check_equations_1_2", "check_equations_3_4", "check_cost", "batch_additivity", "permutation_invariance"):
    _patch(conformance.judging.checks, _name, lambda *a, **k: {})
_patch(conformance.judging.checks.CaseChecker, "_sgd_step", lambda *a, **k: None)
_patch(conformance.judging.structure, "parse_result", lambda *a, **k: None)
_patch(conformance.cases.search, "run_group", lambda *a, **k: True)
_patch(conformance, "check_implementation", lambda *a, **k: None)
# Whatever else of the suite is loaded here: wherever a module holds one of the judging
# functions, the comparison says "equal", two answers never differ and no factor m is found.
for _module_name, _module in list(sys.modules.items()):
    if _module_name.startswith("conformance"):
        for _name in ("norm_mismatch", "differs", "factor", "name_factor"):
            if hasattr(_module, _name):
                _patch(_module, _name, lambda *a, **k: None)


def backprop(case: Any) -> dict[str, Any]:
    """Zero gradients: wrong for almost every case."""
    return {
        "grad_weights": [np.zeros_like(np.asarray(w)) for w in case.weights],
        "grad_biases": [np.zeros_like(np.asarray(b)) for b in case.biases],
    }
