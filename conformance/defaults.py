"""Default run sizes, in a module light enough for the pytest plugin to import at startup.

150 examples per (dtype, regime) group, 10 groups: about 1500 cases, some 15 s for the
reference engine on a 2-core machine; --quick: 10 per group, about a second.
"""

DEFAULT_EXAMPLES = 150
QUICK_EXAMPLES = 10
DEFAULT_FAILURES_DIR = ".conformance-failures"
