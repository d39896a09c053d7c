"""One thread for every BLAS and for torch, so that the comparison is of code, not of core counts.

threadpoolctl limits every BLAS and OpenMP pool loaded in the process (numpy's OpenBLAS,
torch's OpenMP); torch's intra-op pool is set through its own API, as threadpoolctl cannot see
it. Both are restored on exit. The pools' state inside the pin is reported with the results,
so a reader can see that the limit took effect.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Iterator
from typing import Any

ENV_PINS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _os_threads() -> int | None:
    """Threads of this process (Linux): 1 means no pool thread can spin on the CPU clock."""
    try:
        return len(os.listdir(f"/proc/{os.getpid()}/task"))
    except OSError:
        return None


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


@contextlib.contextmanager
def single_thread() -> Iterator[dict[str, Any]]:
    """Pin BLAS, OpenMP and torch to one thread; yields a description of what was pinned."""
    if importlib.util.find_spec("threadpoolctl") is None:
        yield {
            "method": "not pinned: threadpoolctl is not installed (pip install threadpoolctl)",
            "pools": [],
            "torch_threads": None,
        }
        return
    from threadpoolctl import threadpool_info, threadpool_limits

    torch: Any = None
    previous_torch = None
    if torch_available():
        import torch as torch_module  # imported first so that its OpenMP/MKL pools get limited too

        torch = torch_module
        previous_torch = torch.get_num_threads()
    with threadpool_limits(limits=1):
        if torch is not None:
            torch.set_num_threads(1)
        try:
            yield {
                "method": "threadpoolctl.threadpool_limits(limits=1)"
                + (" + torch.set_num_threads(1)" if torch is not None else ""),
                "pools": [
                    {
                        "user_api": p.get("user_api"),
                        "internal_api": p.get("internal_api"),
                        "num_threads": p.get("num_threads"),
                        "version": p.get("version"),
                        "architecture": p.get("architecture"),
                        "library": str(p.get("filepath", "")).rsplit("/", 1)[-1],
                    }
                    for p in threadpool_info()
                ],
                "torch_threads": torch.get_num_threads() if torch is not None else None,
                "environment": {name: os.environ.get(name) for name in ENV_PINS},
                "os_threads": _os_threads(),
            }
        finally:
            if torch is not None and previous_torch is not None:
                torch.set_num_threads(previous_torch)
