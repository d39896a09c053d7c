"""Which cases are judged: the Hypothesis search over each (dtype, regime) group, its seeds and its
count budgets, and the default run sizes.
"""
