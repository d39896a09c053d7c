"""The seed's backpropagation as an exact, importable reference engine.

Where the seed's equations live (one pass, ``engine.backpropagate``, strings them together):
  one pass: z, a, sigma'(z), deltas, gradient, C                      engine.backpropagate
  forward pass            z^l = w^l a^{l-1} + b^l, a^l = sigma(z^l)   engine.feedforward
    its output alone      a^L for x, no y (inference)                 api.predict, Prepared.predict
  C alone (forward only, what finite differences differentiate)       engine.evaluate_cost
  equation 1 (delta^L)    delta^L = nabla_a C (.) sigma'(z^L)         equations.equation_1
    its closed form       delta^L = a^L - y (cross-entropy, log-likelihood)  costs.closed_form_output_error
    which of the two      the closed form where the cost has one      engine.output_error
  equation 2 (delta^l)    delta^l = ((w^{l+1})^T delta^{l+1}) (.) sigma'(z^l)   equations.equation_2
  equation 3 (dC/db)      dC/db^l_j = delta^l_j                       equations.equation_3
  equation 4 (dC/dw)      dC/dw^l_jk = a^{l-1}_k delta^l_j            equations.equation_4
  sigma, sigma_prime                                                   activations
  costs C_x and reductions                                             costs
  gradient descent and training                                        api.sgd_step, api.train
  validate once, run many (training, repeated passes)                  prepared.prepare
  numerical derivatives (central, complex step, mpmath, directional)  numerical/
  gradcheck: a rich verdict per layer and tensor                       gradcheck.gradcheck

The engine's functions take the network as one object (``Network``, ``Case``, ``Prepared``, or
``case.Layers`` for bare parameters) and the batch x, y; ``feedforward`` and ``evaluate_cost``
are forward-only views of ``backpropagate``, bit for bit equal to its z, a and C.
"""

from importlib import metadata

from .activations import ACTIVATIONS, sigma, sigma_prime
from .api import TrainResult, backprop, backprop_mp, cost, cost_mp, forward, predict, sgd_step, train
from .architecture import DTYPES
from .case import Case, Forward, Network
from .costs import COSTS, REDUCTIONS
from .gradcheck import GradcheckResult, TensorReport, gradcheck, judge_gradient
from .large_model import LargeModelResult, large_model_check
from .numerical import (
    DirectionalCheck,
    DirectionalResult,
    MpGroundTruth,
    NumericGradient,
    Problem,
    SlopeResult,
    central_differences,
    complex_step,
    directional_check,
    from_callable,
    from_case,
    mp_ground_truth,
    signed_gaussian_direction,
    taylor_slope_test,
)
from .prepared import Prepared, prepare
from .validation import validate

try:
    __version__ = metadata.version("backprop-reference")  # pyproject.toml is the one place it is written
except metadata.PackageNotFoundError:  # a source tree used without installing it
    __version__ = "unknown"

__all__ = [
    "ACTIVATIONS",
    "DirectionalCheck",
    "DirectionalResult",
    "GradcheckResult",
    "LargeModelResult",
    "MpGroundTruth",
    "NumericGradient",
    "Prepared",
    "Problem",
    "SlopeResult",
    "TensorReport",
    "central_differences",
    "judge_gradient",
    "complex_step",
    "directional_check",
    "from_callable",
    "from_case",
    "gradcheck",
    "large_model_check",
    "mp_ground_truth",
    "signed_gaussian_direction",
    "taylor_slope_test",
    "COSTS",
    "DTYPES",
    "REDUCTIONS",
    "Case",
    "Forward",
    "Network",
    "TrainResult",
    "backprop",
    "backprop_mp",
    "cost",
    "cost_mp",
    "forward",
    "predict",
    "prepare",
    "sgd_step",
    "sigma",
    "sigma_prime",
    "train",
    "validate",
]
