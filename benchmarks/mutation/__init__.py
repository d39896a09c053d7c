"""The mutation score of the conformance suite: the share of one-token bugs it rejects.

``python -m benchmarks.mutation`` (or the mutation section of ``python -m benchmarks --full``) changes
correct implementations one operator, constant, comparison, index, transpose, axis, argument order,
sign or statement at a time (mutate.py), classifies every mutant as wrong or equivalent with an oracle
that never asks the suite (oracle.py), and runs the suite on each (run.py). survivors.py holds the
reason for every wrong mutant the suite is allowed to miss; a survivor without one is a gap to close.
"""
