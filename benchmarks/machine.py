"""What the figures were measured on: cores, CPU model, library versions, the BLAS and kernel."""

from __future__ import annotations

import datetime
import os
import platform
import sys
from typing import Any

import numpy as np

# OpenBLAS reads these at load time; on some machines they are set to force an older kernel.
OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_pools() -> list[dict[str, Any]]:
    """numpy's BLAS as threadpoolctl sees it (library, version, kernel architecture)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []

    return [
        {
            "internal_api": p.get("internal_api"),
            "version": p.get("version"),
            "architecture": p.get("architecture"),
            "library": str(p.get("filepath", "")).rsplit("/", 1)[-1],
        }
        for p in threadpool_info()
        if p.get("user_api") == "blas"
    ]


def torch_version() -> str | None:
    try:
        import torch
    except ImportError:
        return None
    return str(torch.__version__)


def describe() -> dict[str, Any]:
    return {
        "date_utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "blas": blas_pools(),
        "torch": torch_version(),
        "openblas_environment": {name: os.environ.get(name) for name in OPENBLAS_VARIABLES},
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
