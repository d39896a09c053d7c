"""Benchmarks of the reference engine and its checks, as ratios against peers run alongside.

Run ``python -m benchmarks --quick`` (a smoke run of seconds) or ``python -m benchmarks --full``.
Every figure is a median over interleaved rounds: each round runs every peer once, in a shuffled
order, so that machine noise (other processes on a shared 2-core machine) hits all peers alike, and
ratios are taken round by round before their median is reported.
"""

import os
import sys

# One thread from the start, before numpy or torch is imported: threadpoolctl's limit (threads.py)
# stops OpenBLAS from splitting work, but its worker thread, started at import, still spins now and
# then, and process CPU time (the benchmarks' clock) counts it: measured here, 1.4 ms of work read
# as 1.3-5.4 ms. Only variables the user left unset are set, and the conformance section's
# subprocesses (default threading) get them removed again (conformance_time._env).
PINNED_ENV: tuple[str, ...] = tuple(
    name
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    if name not in os.environ and "numpy" not in sys.modules
)
for _name in PINNED_ENV:
    os.environ[_name] = "1"
