def _ordinary_case(dtype: str) -> Case:
    """Small random weights of either sign, nothing arranged to cancel: the common case."""
    rng = np.random.default_rng(7)
    sizes = (3, 5, 4, 2)
    return Case(
        sizes=sizes,
        activations=("tanh", "sigmoid", "sigmoid"),
        cost="quadratic",
        reduction="mean",
        dtype=dtype,
        weights=[rng.normal(0, 0.8, (n, k)).astype(dtype) for k, n in zip(sizes, sizes[1:], strict=False)],
        biases=[rng.normal(0, 0.5, n).astype(dtype) for n in sizes[1:]],
        x=rng.normal(0, 1, (4, 3)).astype(dtype),
        y=rng.uniform(0, 1, (4, 2)).astype(dtype),
    )


def _well_conditioned_case() -> Case:
    """Six layers of width 8 with positive weights, sigmoid (positive a and sigma'), quadratic cost
    with y = 0 and z^L < 0 (the output bias -5 outweighs 8 x 0.5): every term of every sum in the
    backward pass is positive, so nothing cancels."""
    rng = np.random.default_rng(3)
    sizes = (8,) * 6
    biases = [rng.uniform(-0.5, 0.5, 8).astype(np.float32) for _ in sizes[2:]] + [np.full(8, -5, np.float32)]
    return Case(
        sizes=sizes,
        activations=("sigmoid",) * 5,
        cost="quadratic",
        reduction="mean",
        dtype="float32",
        weights=[rng.uniform(0.1, 0.5, (8, 8)).astype(np.float32) for _ in sizes[1:]],
        biases=biases,
        x=rng.uniform(-1, 1, (8, 8)).astype(np.float32),
        y=np.zeros((8, 8), np.float32),
    )


def _planted(got: dict, key: str, layer: int, relative: float) -> dict:
    """The engine's answer with the largest entry of one gradient moved by ``relative`` of itself (a copy)."""
    moved = {k: [np.array(g, copy=True) for g in v] if isinstance(v, list) else v for k, v in got.items()}
    g = moved[key][layer - 2]
    index = np.unravel_index(np.argmax(np.abs(g)), g.shape)
    g[index] = g[index] * (1 + g.dtype.type(relative))
    return moved


def test_the_cancelling_case_passes_and_needed_the_rounding_bound() -> None:
    case = _cancelling_case()
    got, truth = reference.backprop(case), reference.backprop_mp(case, digits=50)
    _assert_accurate(case, got, truth, 1e-5)
    # Without beta the engine would fail here: the case shows what rho misses.
    rho = perturbed_sensitivity(case, truth)
    errors = {(key, layer): rel for key, layer, rel in _relative_layer_errors(got, truth, case.dtype)}
    assert errors[("grad_weights", 2)] > 1e-5 + 100 * rho[("grad_weights", 2)]


def test_a_planted_error_on_the_cancelling_case_still_fails() -> None:
    case = _cancelling_case()
    got, truth = reference.backprop(case), reference.backprop_mp(case, digits=50)
    beta = rounding_bound(case)[("grad_weights", 2)]
    with pytest.raises(AssertionError, match="grad_weights at layer 2"):
        _assert_accurate(case, _planted(got, "grad_weights", 2, 100 * beta), truth, 1e-5)


@pytest.mark.parametrize(("dtype", "target"), [("float32", 1e-5), ("float64", 1e-13)])
def test_a_planted_error_on_an_ordinary_case_fails(dtype: str, target: float) -> None:
    case = _ordinary_case(dtype)
    got, truth = reference.backprop(case), reference.backprop_mp(case, digits=50)
    _assert_accurate(case, got, truth, target)  # the correct answer passes
    for key, layer in [("grad_weights", 2), ("grad_biases", 3), ("grad_weights", 4)]:
        with pytest.raises(AssertionError, match=f"{key} at layer {layer}"):
            _assert_accurate(case, _planted(got, key, layer, 1e-3), truth, target)


def test_the_rounding_bound_is_a_few_u_where_nothing_cancels() -> None:
    # By hand (tests/_conditioning.py's docstring) with n = m = 8 and every term positive, each bound
    # is (sum of k) u |exact| componentwise, to first order: delta^6: gamma_13 (residual) + gamma_5
    # (times sigma'), 18 u; each layer down adds gamma_8 + gamma_5, 13 u: delta^2 at 70 u; dC/db adds
    # gamma_9 (79 u at layer 2), dC/dw gamma_13 (83 u). So every bound is <= 84 u ~ 5e-6 < 1e-5.
    case = _well_conditioned_case()
    beta = rounding_bound(case)
    assert max(beta.values()) <= 84 * U32
    expected = {6: 18, 5: 31, 4: 44, 3: 57, 2: 70}
    for layer, k in expected.items():
        assert beta[("deltas", layer)] == pytest.approx(k * U32, rel=1e-5)
        assert beta[("grad_biases", layer)] == pytest.approx((k + 9) * U32, rel=1e-5)
        assert beta[("grad_weights", layer)] == pytest.approx((k + 13) * U32, rel=1e-5)
    got, truth = reference.backprop(case), reference.backprop_mp(case, digits=50)
    _assert_accurate(case, got, truth, 1e-5)
