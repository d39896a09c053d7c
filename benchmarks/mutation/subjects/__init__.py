"""Correct implementations, in the styles users write, that the mutation harness changes one token at a time.

Each module is self-contained (numpy only, no import of the reference engine) and implements the whole
contract (conformance/CONTRACT.md): every activation, cost, reduction and dtype, the per-sample deltas,
the cost and sgd_step. Unmutated, each one conforms; tests/test_mutation.py holds them to that.
"""
