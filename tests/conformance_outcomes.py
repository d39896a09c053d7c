"""Implementations for each outcome of a run, for the test that the three front ends agree.

The CLI, the pytest plugin and ``parametrize_with_checks`` must give one verdict and one
exit status for each (tests/test_conformance_front_ends.py): conforms (the reference),
a failed check (tests.broken_impls), incomplete (a planted suite fault there), nothing
checkable (these two), and an implementation that cannot be loaded.
"""

from __future__ import annotations

from .broken_impls import Backprop


class NoDtypes(Backprop):
    """Declares no dtype at all: no case can be asked, so nothing is checked."""

    capabilities = {"dtypes": []}


class LogLikelihoodWithoutSoftmax(Backprop):
    """Declares only the log-likelihood cost, but not the softmax output it needs: nothing can be generated."""

    capabilities = {"costs": ["log_likelihood"], "activations": ["sigmoid", "tanh"]}
