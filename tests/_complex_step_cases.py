"""Cases on which the complex step and its tests once went wrong (tests/test_numerical_agreement.py).

Each was found by the random "dev" profile and is kept as an @example, so that CI's derandomized
run meets it every time; tests/test_complex_step_accuracy.py uses two of them as well.
"""

from __future__ import annotations

import numpy as np

from reference import Case


def _case(
    activations: tuple[str, ...],
    weights: list[list[list[float]]],
    biases: list[list[float]],
    x: list[list[float]],
    y: list[list[float]],
) -> Case:
    """A quadratic-cost, mean-reduced float64 case from nested lists (the examples below)."""
    sizes = (len(x[0]), *(len(b) for b in biases))
    arrays = [np.array(v, dtype=np.float64) for v in weights]
    return Case(
        sizes,
        activations,
        "quadratic",
        "mean",
        "float64",
        arrays,
        [np.array(b) for b in biases],
        np.array(x),
        np.array(y),
    )


# Found by the random "dev" profile (the first two were wrong code, the third a wrong bound).
# A tanh output at z^L = 0.0034 with y = 0.0039: a^L - y used to be formed as (1 - y) - (1 - a^L),
# two numbers near 1 (cancellation 1800 u), in the reference and, less accurately still (complex
# exp and division), in the complex step: 2.6e-13 from mpmath.
TANH_OUTPUT_NEAR_ZERO = _case(
    ("tanh",),
    [[[0.0034558419206478603, 0.008216181435011584, 0.003304370761833871, -0.01303157231604361]]],
    [[0.009053558666731177]],
    [[0.4463745723640113, -0.5369532353602852, 0.5811181041963531, 0.36457239618607573]],
    [[0.003903497348226388]],
)
# softplus at z^2 = -7.5: numpy's complex log1p (ln(1 + z), 1 + z rounded first) gave softplus(z^2) =
# 5.3e-4 with a relative error of 9e-14, so the complex step's dC/dw^3 (proportional to it) was off by 5.6e-14.
SOFTPLUS_FAR_BELOW_ZERO = _case(
    ("softplus", "sigmoid", "sigmoid"),
    [[[-0.7836460427713474]], [[-9.158534339261639]], [[7.8055908620249905]]],
    [[-7.398249736597474], [-4.3206765529280196], [5.313251653661184]],
    [[0.1722535801052373]],
    [[193.51671725809533]],
)
# tanh at z^4 = 28, below two identity layers with |w| up to 18: every gradient entry is about
# 1e-294, so Im C = 2^-60 dC/dp is subnormal (4e-312) and the complex step erred by 1e-10 relative.
GRADIENT_NEAR_UNDERFLOW = _case(
    ("identity", "identity", "tanh"),
    [
        [
            [2.827411390568057, 0.9707430165513157, -2.058858441532057],
            [-8.093900721455276, -4.080419966142473, -4.400661998012864],
            [3.416698195558946, 0.11188156688627506, -6.1520941386816785],
            [2.0475592189405063, 5.06585991948468, -1.8197767963318205],
            [5.229105526338476, -5.151458105703495, 8.916781527427919],
        ],
        [[-4.938393612586576, 0.2478339848349793, 3.405413613383888, -6.381743437370867, 3.3589581436590135]],
        [[18.515962014281893], [7.521508359430226], [-10.356323674946267]],
    ],
    [
        [-0.48303085204804397, -4.290314422046093, 17.34617424217338, -10.586580012512245, 1.4032491602466868],
        [12.490367777577951],
        [19.156003108216513, 6.568707180247783, 28.171181683403496],
    ],
    [
        [-1.0507914200572235, -0.1434883000610952, -0.6884805774216437],
        [-0.4962435186380876, 1.5681288810058562, -0.4750320521480491],
    ],
    [
        [0.0033923515176803587, 156.2270852894702, 0.3460846603768004],
        [95.92469909881072, -150.06066335042888, 0.07263997578302317],
    ],
)
# The output layer's weights and biases all 0: three tied softmax units, y = 0, so dC/dw^3 and dC/db^3
# are exactly 0 and the reference and the complex step (1e-17 each) differ by 56% of their noise.
SOFTMAX_OUTPUTS_TIED = _case(
    ("sigmoid", "softmax"),
    [
        [
            [0.0, 0.0, 0.0, 0.0, 0.0],
            [-0.1788568379950575, 0.09390091569032995, 0.08637022135558554, 0.22413526125049799, -0.7529862634710998],
            [0.39401472644358465, -0.25674771278186337, -0.8991283814789798, -0.21662475058707628, 0.6579834512635783],
            [0.0, 0.0, 0.0, 0.0, 0.0],
        ],
        [[0.0] * 4] * 3,
    ],
    [[0.0, -2.129272570790053, 0.4832554212683314, 0.0], [0.0, 0.0, 0.0]],
    [[-0.7616329229827884, 0.0, 0.8779450699926694, 1.7641981131820055, -1.7150292612759985]] * 2,
    [[0.0, 0.0, 0.0]] * 2,
)
