"""Each cost's record holds the right facts, and every per-cost table lists exactly the records.

The facts are held to values worked out here by hand or measured by finite differences, never
to the record's own formulas. The tables outside reference/costs.py (the suite's error models,
the target checks and draws, the PyTorch adapter, the Node example, SymPy's costs, which stay
an independent derivation) are named when they miss a cost or hold one too many; and a cost
added without an error model fails loudly instead of borrowing another cost's bound.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest
import sympy as sp

from conformance.judging import tolerances
from conformance.vectors import generate
from reference import Case, costs, engine, strategies, validate, validation
from reference.activations import sigma
from reference.costs import COST_RECORDS, TARGET_KINDS, Cost, cost_record
from symbolic import functions, spec

ROOT = Path(__file__).resolve().parents[1]
NODE_EXAMPLE = ROOT / "conformance" / "examples" / "node" / "backprop.js"
LN2 = math.log(2.0)

# Written here, not read from the records: what each cost is.
REQUIRED_OUTPUT = {"quadratic": None, "cross_entropy": "sigmoid", "log_likelihood": "softmax"}
TARGETS = {"quadratic": "real", "cross_entropy": "unit_interval", "log_likelihood": "probability"}
LOGARITHMIC = {"quadratic": False, "cross_entropy": True, "log_likelihood": True}
# An output each cost may be paired with, for the numeric checks below.
OUTPUT_FOR = {"quadratic": "tanh", "cross_entropy": "sigmoid", "log_likelihood": "softmax"}


def c_x(cost: str, output: str, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The record's C_x of each row, at pre-activations z of the output layer."""
    return cost_record(cost).per_sample(output, z, sigma(output, z), y, None)


def test_the_records_are_the_three_costs_in_order() -> None:
    assert tuple(COST_RECORDS) == ("quadratic", "cross_entropy", "log_likelihood")
    assert costs.COSTS == tuple(COST_RECORDS)
    assert dict(costs.REQUIRED_OUTPUT) == REQUIRED_OUTPUT


@pytest.mark.parametrize("name", list(REQUIRED_OUTPUT))
def test_each_record_states_its_output_targets_and_logarithms(name: str) -> None:
    record = COST_RECORDS[name]
    assert record.name == name
    assert record.output == REQUIRED_OUTPUT[name]
    assert record.targets == TARGETS[name]
    assert record.logarithmic == LOGARITHMIC[name]


# Hand-worked values of C_x. quadratic, identity output: 1/2 (0.5^2 + 0.25^2) = 0.15625.
# cross_entropy at z = (0, ln 3), a = (1/2, 3/4), y = (1, 0): -ln(1/2) - ln(1/4) = 3 ln 2.
# log_likelihood at z = (0, ln 3), a = (1/4, 3/4), y = (0, 1): -ln(3/4) = ln 4 - ln 3.
HAND_WORKED = [
    ("quadratic", "identity", [0.5, 0.25], [0.0, 0.0], 0.15625),
    ("quadratic", "identity", [1.5, -2.0], [1.0, 1.0], 0.5 * (0.25 + 9.0)),
    ("cross_entropy", "sigmoid", [0.0, math.log(3.0)], [1.0, 0.0], 3 * LN2),
    ("cross_entropy", "sigmoid", [0.0], [0.5], LN2),  # a soft target: -(1/2) ln(1/4) = ln 2
    ("log_likelihood", "softmax", [0.0, math.log(3.0)], [0.0, 1.0], 2 * LN2 - math.log(3.0)),
    ("log_likelihood", "softmax", [0.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25], 2 * LN2),
]


@pytest.mark.parametrize(("name", "output", "z", "y", "value"), HAND_WORKED)
def test_the_cost_of_one_sample_is_the_hand_worked_value(
    name: str, output: str, z: list[float], y: list[float], value: float
) -> None:
    got = c_x(name, output, np.array([z]), np.array([y]))
    assert got.shape == (1,)
    assert got[0] == pytest.approx(value, rel=1e-15, abs=1e-15)


def test_the_logarithmic_costs_grow_without_bound_where_the_output_saturates_against_the_target() -> None:
    """ln a of an output driven to 0: C_x grows like |z|, which the quadratic cost never does."""
    z = np.array([[40.0]])
    assert c_x("cross_entropy", "sigmoid", -z, np.array([[1.0]]))[0] == pytest.approx(40.0, rel=1e-12)
    assert c_x("log_likelihood", "softmax", np.array([[40.0, 0.0]]), np.array([[0.0, 1.0]]))[0] == pytest.approx(
        40.0, rel=1e-12
    )
    assert c_x("quadratic", "sigmoid", -z, np.array([[1.0]]))[0] <= 0.5


def _dc_dz(name: str, output: str, z: np.ndarray, y: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """dC_x/dz^L by central differences, one entry at a time."""
    grad = np.zeros_like(z)
    for index in np.ndindex(z.shape):
        up, down = z.copy(), z.copy()
        up[index] += h
        down[index] -= h
        grad[index] = (c_x(name, output, up, y) - c_x(name, output, down, y))[index[0]] / (2 * h)
    return grad


CLOSED_FORM_CASES = [
    ("cross_entropy", [[0.3, -1.2, 2.0]], [[1.0, 0.0, 0.4]]),
    ("log_likelihood", [[0.3, -1.2, 2.0]], [[0.0, 1.0, 0.0]]),
    # targets whose sum is not 1: the closed form keeps a sum_j y_j, so it is still the derivative
    ("log_likelihood", [[0.3, -1.2, 2.0], [1.0, 0.5, -0.5]], [[0.2, 0.3, 0.2], [0.5, 0.5, 0.5]]),
]


@pytest.mark.parametrize(("name", "z", "y"), CLOSED_FORM_CASES)
def test_the_closed_form_is_the_derivative_of_the_cost_in_z(
    name: str, z: list[list[float]], y: list[list[float]]
) -> None:
    record = COST_RECORDS[name]
    assert record.closed_form is not None and record.output is not None
    z_arr, y_arr = np.array(z), np.array(y)
    a = sigma(record.output, z_arr)
    closed = record.closed_form(costs.residual(record.output, z_arr, a, y_arr), a, y_arr)
    np.testing.assert_allclose(closed, _dc_dz(name, record.output, z_arr, y_arr), rtol=1e-7, atol=1e-9)


def test_a_closed_form_of_a_minus_y_alone_would_fail_the_derivative_check() -> None:
    """Negative control: targets summing to 0.7 make a - y wrong by a (sum(y) - 1)."""
    z, y = np.array([[0.3, -1.2, 2.0]]), np.array([[0.2, 0.3, 0.2]])
    a = sigma("softmax", z)
    assert not np.allclose(a - y, _dc_dz("log_likelihood", "softmax", z, y), rtol=1e-7, atol=1e-9)


def test_the_quadratic_gradient_in_a_is_the_residual() -> None:
    """nabla_a C = a - y (identity output: z = a), so equation 1 with the residual is delta^L."""
    record = COST_RECORDS["quadratic"]
    assert record.gradient_is_residual and record.closed_form is None
    z, y = np.array([[0.7, -2.5], [3.0, 0.0]]), np.array([[1.0, 0.5], [-4.0, 2.0]])
    np.testing.assert_allclose(_dc_dz("quadratic", "identity", z, y), z - y, rtol=1e-7, atol=1e-9)


# w(y) by hand: 1 for a - y; sum_j |y_j| for a sum(y) - y (0.25 + 0.5 + 0.5 = 1.25, 0 + 1 + 0 = 1).
WEIGHT_TARGETS = np.array([[0.25, 0.5, 0.5], [0.0, 1.0, 0.0]])
HAND_WEIGHTS = {"cross_entropy": [[1.0], [1.0]], "log_likelihood": [[1.25], [1.0]]}


@pytest.mark.parametrize("name", list(HAND_WEIGHTS))
def test_the_closed_form_weight_is_the_hand_worked_one_and_bounds_delta(name: str) -> None:
    """|a| w(y) + |y| >= |delta^L|: the size of the terms delta^L is formed from."""
    record = COST_RECORDS[name]
    assert record.closed_form is not None and record.closed_form_weight is not None and record.output is not None
    weight = np.broadcast_to(record.closed_form_weight(WEIGHT_TARGETS), (2, 1))
    np.testing.assert_array_equal(weight, HAND_WEIGHTS[name])
    z = np.array([[0.3, -1.2, 2.0], [5.0, -3.0, 0.1]])
    a = sigma(record.output, z)
    delta = record.closed_form(costs.residual(record.output, z, a, WEIGHT_TARGETS), a, WEIGHT_TARGETS)
    assert (np.abs(delta) <= np.abs(a) * weight + np.abs(WEIGHT_TARGETS) + 1e-15).all()


def test_the_batch_sum_is_the_sum_of_the_per_sample_costs() -> None:
    record = COST_RECORDS["quadratic"]
    assert record.batch_sum is not None
    rng = np.random.default_rng(0)
    z, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    a = sigma("tanh", z)
    total = float(record.batch_sum("tanh", z, a, y, None))
    assert total == pytest.approx(float(np.sum(0.5 * (a - y) ** 2)), rel=1e-13)


# Targets: the kinds each cost's validation accepts and refuses, and that the drawn ones pass.
REAL_NOT_UNIT = np.array([[-0.5, 1.5]])
UNIT_NOT_PROBABILITY = np.array([[0.3, 0.3]])
PROBABILITY = np.array([[0.25, 0.75]])


@pytest.mark.parametrize("name", list(TARGETS))
def test_the_target_checks_follow_the_kind(name: str) -> None:
    def refused(y: np.ndarray) -> bool:
        """Whether the cost's check refuses y; a refusal must name the cost."""
        check = validation.TARGET_CHECKS[COST_RECORDS[name].targets]
        try:
            check(name, y, "float64")
        except ValueError:
            with pytest.raises(ValueError, match=name):
                check(name, y, "float64")
            return True
        return False

    assert not refused(PROBABILITY)
    assert refused(REAL_NOT_UNIT) == (TARGETS[name] != "real")
    assert refused(UNIT_NOT_PROBABILITY) == (TARGETS[name] == "probability")


@pytest.mark.parametrize("kind", TARGET_KINDS)
def test_drawn_targets_pass_their_own_check(kind: str) -> None:
    name = next(n for n, t in TARGETS.items() if t == kind)
    for seed in range(20):
        rng = np.random.default_rng(seed)
        y = strategies.TARGET_DRAWS[kind](rng, 4, 3)
        validation.TARGET_CHECKS[kind](name, y, "float64")  # raises if a draw broke its kind


def test_a_case_with_targets_outside_its_kind_is_refused_by_validate() -> None:
    w, b = [np.ones((2, 2))], [np.zeros(2)]
    case = Case((2, 2), ("sigmoid",), "cross_entropy", "mean", "float64", w, b, np.ones((1, 2)), REAL_NOT_UNIT)
    with pytest.raises(ValueError, match=r"cross_entropy targets must lie in \[0, 1\]"):
        validate(case)
    validate(case.replace(cost="quadratic"))  # the same targets, a cost that takes any real y


# Unknown costs: a clear error, never another cost's facts.


@pytest.mark.parametrize(
    "call",
    [
        lambda: cost_record("hinge"),
        lambda: costs.per_sample_cost("hinge", "sigmoid", np.zeros((1, 1)), np.zeros((1, 1)), np.zeros((1, 1))),
        lambda: costs.closed_form_output_error("hinge", np.zeros((1, 1)), np.zeros((1, 1)), np.zeros((1, 1))),
        lambda: tolerances.cost_error_model("hinge"),
    ],
)
def test_an_unknown_cost_is_named_with_the_known_ones(call: Callable[[], object]) -> None:
    with pytest.raises(
        ValueError, match=r"^cost: unknown cost 'hinge'; expected one of quadratic, cross_entropy, log_likelihood$"
    ):
        call()


def test_a_record_must_say_how_delta_is_formed() -> None:
    with pytest.raises(ValueError, match="exactly one of gradient_is_residual"):
        Cost("hinge", COST_RECORDS["quadratic"].per_sample, "real")
    with pytest.raises(ValueError, match="closed form holds with one output activation"):
        Cost("hinge", COST_RECORDS["quadratic"].per_sample, "real", closed_form=lambda d, a, y: d)
    with pytest.raises(ValueError, match="targets 'labels'; expected one of"):
        Cost("hinge", COST_RECORDS["quadratic"].per_sample, "labels", gradient_is_residual=True)


# The per-cost tables elsewhere: each lists exactly the records' costs.


def mismatches(table: str, names: Iterable[str], expected: Iterable[str], what: str) -> list[str]:
    """One message per name ``table`` misses or has in excess."""
    got, want = set(names), set(expected)
    return [f"{table} misses {n!r}, one of {what}" for n in sorted(want - got)] + [
        f"{table} has {n!r}, not one of {what}" for n in sorted(got - want)
    ]


def _symbolic_costs() -> list[str]:
    a, y = [sp.Symbol("a1"), sp.Symbol("a2")], [sp.Symbol("y1"), sp.Symbol("y2")]
    covered = []
    for name in COST_RECORDS:
        try:
            functions.cost(name, a, y)
        except ValueError:
            continue
        covered.append(name)
    return covered


def _node_costs() -> list[str]:
    source = NODE_EXAMPLE.read_text(encoding="utf-8")
    listed = re.search(r"^\s*costs: \[([^\]]*)\]", source, re.MULTILINE)
    assert listed is not None, "the Node example's CAPABILITIES has no costs list"
    return re.findall(r'"(\w+)"', listed.group(1))


def _torch(attribute: str) -> Callable[[], Iterable[str]]:
    def read() -> Iterable[str]:
        adapter = pytest.importorskip("conformance.adapters.torch_adapter", exc_type=ImportError)
        return adapter._COSTS if attribute == "_COSTS" else adapter.capabilities["costs"]

    return read


COST_TABLES: dict[str, Callable[[], Iterable[str]]] = {
    "conformance/judging/tolerances.py COST_ERROR_MODELS": lambda: tolerances.COST_ERROR_MODELS,
    "conformance/adapters/torch_adapter.py _COSTS": _torch("_COSTS"),
    "conformance/adapters/torch_adapter.py capabilities['costs']": _torch("capabilities"),
    "conformance/examples/node/backprop.js CAPABILITIES.costs": _node_costs,
    "conformance/vectors/generate.py _TEXTBOOK_FAMILIES": lambda: [c for _, c in generate._TEXTBOOK_FAMILIES],
    "symbolic/spec.py COSTS": lambda: spec.COSTS,
    "symbolic/spec.py ALLOWED_OUTPUT": lambda: spec.ALLOWED_OUTPUT,
    "symbolic/functions.py cost": _symbolic_costs,
}
KIND_TABLES: dict[str, Callable[[], Iterable[str]]] = {
    "reference/validation.py TARGET_CHECKS": lambda: validation.TARGET_CHECKS,
    "reference/strategies.py TARGET_DRAWS": lambda: strategies.TARGET_DRAWS,
}
RECORDS = "the costs of reference.costs.COST_RECORDS"


@pytest.mark.parametrize("table", sorted(COST_TABLES))
def test_the_table_lists_exactly_the_costs(table: str) -> None:
    found = mismatches(table, COST_TABLES[table](), costs.COST_RECORDS, RECORDS)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("table", sorted(KIND_TABLES))
def test_the_table_lists_exactly_the_kinds_of_target(table: str) -> None:
    found = mismatches(table, KIND_TABLES[table](), costs.TARGET_KINDS, "reference.costs.TARGET_KINDS")
    assert not found, "\n".join(found)


def test_symbolic_pairs_each_closed_form_with_the_records_output() -> None:
    for name, record in COST_RECORDS.items():
        allowed = spec.ALLOWED_OUTPUT[name]
        assert (allowed is None) == (record.output is None), name
        assert allowed is None or record.output in allowed, (name, allowed)


# A new cost without an error model: named by the table test, and refused by the model itself.


@pytest.fixture
def fake_cost(monkeypatch: pytest.MonkeyPatch) -> str:
    """A cost "fake" added to the records only (a copy of the quadratic cost's facts)."""
    quadratic = COST_RECORDS["quadratic"]
    fake = Cost("fake", quadratic.per_sample, "real", gradient_is_residual=True)
    monkeypatch.setattr(costs, "COST_RECORDS", MappingProxyType({**COST_RECORDS, "fake": fake}))
    return "fake"


def test_a_cost_without_an_error_model_is_named_by_the_table_test(fake_cost: str) -> None:
    table = "conformance/judging/tolerances.py COST_ERROR_MODELS"
    assert mismatches(table, COST_TABLES[table](), costs.COST_RECORDS, RECORDS) == [
        f"{table} misses 'fake', one of {RECORDS}"
    ]


def _bounds(case: Case) -> tolerances.ErrorBounds:
    p = engine.backpropagate(case, case.x, case.y)
    return tolerances.error_bounds(case, p.z, p.a, p.deltas, tolerances.UNIT_ROUNDOFF["float64"])


def test_a_cost_without_an_error_model_fails_loudly_instead_of_borrowing_one(fake_cost: str) -> None:
    rng = np.random.default_rng(1)
    w, b = [rng.standard_normal((2, 3))], [rng.standard_normal(2)]
    case = Case((3, 2), ("tanh",), "quadratic", "sum", "float64", w, b, rng.standard_normal((4, 3)), np.ones((4, 2)))
    assert _bounds(case).cost > 0  # negative control: a cost with a model gets a bound
    assert cost_record(fake_cost).name == fake_cost  # the record is there ...
    with pytest.raises(
        ValueError, match=r"^cost: 'fake' has no error model in conformance/judging/tolerances\.py COST_ERROR_MODELS"
    ):
        _bounds(case.replace(cost=fake_cost))  # ... the bound is not
