"""The conformance checks as pytest tests:
``pytest --pyargs conformance --impl package.module:attr``.

One test per (dtype, regime) group; each runs every check on that group's cases
(see conformance.frontends.plugin for the options and conformance.judging.checks for the checks).
The groups come from the reference's dtypes and regimes, read here, at collection
time, so that the plugin that every pytest run loads never imports Hypothesis.
"""

from __future__ import annotations

import pytest

from conformance.frontends.plugin import ConformanceSession
from reference import DTYPES

try:
    from reference.strategies import REGIMES
except ModuleNotFoundError as error:  # no Hypothesis: the plugin ends the run at collection, saying what to install
    if error.name != "hypothesis":
        raise
    REGIMES = ()

GROUPS: list[tuple[str, str]] = [(dtype, regime) for dtype in DTYPES for regime in REGIMES]


@pytest.mark.parametrize(("dtype", "regime"), GROUPS, ids=[f"{d}-{r}" for d, r in GROUPS])
def test_conformance(
    conformance_session: ConformanceSession, dtype: str, regime: str, request: pytest.FixtureRequest
) -> None:
    conformance_session.check_group(dtype, regime, request.node)
