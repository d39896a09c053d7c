"""The conformance checks as pytest tests:
``pytest --pyargs conformance --impl package.module:attr``.

One test per (dtype, regime) group; each runs every check on that group's cases
(see conformance.plugin for the options and conformance.checks for the checks).
"""

from __future__ import annotations

import pytest

from conformance.plugin import GROUPS, ConformanceSession


@pytest.mark.parametrize(("dtype", "regime"), GROUPS, ids=[f"{d}-{r}" for d, r in GROUPS])
def test_conformance(
    conformance_session: ConformanceSession, dtype: str, regime: str, request: pytest.FixtureRequest
) -> None:
    conformance_session.check_group(dtype, regime, request.node)
