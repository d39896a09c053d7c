"""Independent implementations of the seed's backpropagation that the reference is timed against.

All compute the gradient of the mean quadratic cost of a sigmoid network, from the same
weights (n_l, n_{l-1}), biases (n_l,) and batch x (m, n_1), y (m, n_L), and return
(grad_weights, grad_biases) in the engine's layout, so that their results can be compared
with the reference's (tests/test_benchmarks_smoke.py does).
"""
