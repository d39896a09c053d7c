"""Default run sizes, in a module light enough for the pytest plugin to import at startup.

150 examples per (dtype, regime) group, 18 groups (9 regimes, 2 dtypes): 2700 cases, drawn as
several value sets per architecture (search.py). Measured 2026-11-30 on a 2-core machine at
load ~1.2: 25.3 s for the reference engine in its worker process (14.6 s with --in-process);
--quick: 10 per group, 180 cases, about a second.
"""

DEFAULT_EXAMPLES = 150
QUICK_EXAMPLES = 10
DEFAULT_FAILURES_DIR = ".conformance-failures"

# Isolation (conformance.implementations.worker): the first call of each worker process gets WARMUP seconds
# (imports, JIT compilation), later calls TIMEOUT; one answer may be at most MAX_ANSWER_BYTES.
DEFAULT_TIMEOUT = 10.0
DEFAULT_WARMUP_TIMEOUT = 120.0
DEFAULT_MAX_ANSWER_BYTES = 64 * 2**20

# The memory a Python worker may allocate beyond what it holds when it starts (RLIMIT_DATA, Linux),
# in MiB; 0 lifts the cap. The suite's cases are networks of at most 64-wide layers: the
# reference needs well under 100 MiB, torch's import a few hundred; 4 GiB stops a runaway
# allocation long before it takes the machine down.
DEFAULT_MAX_MEMORY_MB = 4096
