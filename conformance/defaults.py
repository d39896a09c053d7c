"""Default run sizes, in a module light enough for the pytest plugin to import at startup.

150 examples per (dtype, regime) group, 18 groups (9 regimes, 2 dtypes): 2700 cases and
about 31,600 backprop calls (batch_additivity makes m of them per case), some 18-20 s for the
reference engine on a 2-core machine shared with other jobs (load ~1.5; in-process calls,
before worker isolation); --quick: 10 per group, 180 cases, about a second.
"""

DEFAULT_EXAMPLES = 150
QUICK_EXAMPLES = 10
DEFAULT_FAILURES_DIR = ".conformance-failures"

# Isolation (conformance.worker): the first call of each worker process gets WARMUP seconds
# (imports, JIT compilation), later calls TIMEOUT; one answer may be at most MAX_ANSWER_BYTES.
DEFAULT_TIMEOUT = 10.0
DEFAULT_WARMUP_TIMEOUT = 120.0
DEFAULT_MAX_ANSWER_BYTES = 64 * 2**20
