"""What a quick (smoke) run and a full run measure: sizes, rounds, and which sections run."""

from __future__ import annotations

from dataclasses import dataclass

from .backprop import Size

SEED_NET = (784, 30, 10)
MEDIUM = (784, 100, 100, 10)
LARGE = (784, 1000, 1000, 10)  # 1,796,010 parameters


@dataclass(frozen=True)
class Settings:
    mode: str
    min_sample_s: float
    backprop: tuple[Size, ...]
    overhead: tuple[tuple[tuple[int, ...], int, str], ...]  # (sizes, batch, dtype)
    overhead_rounds: int
    training: tuple[tuple[tuple[int, ...], int], ...]  # (sizes, mini-batch size)
    training_samples: int
    training_rounds: int
    gradcheck_full: tuple[tuple[int, ...], ...]
    gradcheck_directional: tuple[tuple[int, ...], ...]
    gradcheck_rounds: int
    torch_slow_max_params: int
    conformance: bool
    symbolic_depths: tuple[int, ...]  # L at width 2
    symbolic_widths: tuple[int, ...]  # width at 3 and at 4 layers
    memory: tuple[tuple[tuple[int, ...], int, str], ...]
    mutation_per_subject: int | None  # mutants per subject judged by the suite (None: all); 0: not run


QUICK = Settings(
    mode="quick (smoke run: few rounds, small sizes; figures are indicative only)",
    min_sample_s=0.004,
    backprop=(Size(SEED_NET, 10, rounds=5), Size(MEDIUM, 64, rounds=5)),
    overhead=((SEED_NET, 10, "float64"),),
    overhead_rounds=5,
    training=((SEED_NET, 10),),
    training_samples=200,
    training_rounds=3,
    gradcheck_full=((4, 3, 2),),
    gradcheck_directional=((4, 3, 2), (50, 20, 10)),
    gradcheck_rounds=1,
    torch_slow_max_params=500,
    conformance=False,
    symbolic_depths=(2, 3),
    symbolic_widths=(),
    memory=((MEDIUM, 64, "float64"),),
    mutation_per_subject=0,
)

FULL = Settings(
    mode="full",
    min_sample_s=0.01,
    backprop=(
        Size(SEED_NET, 10, rounds=31),
        Size(SEED_NET, 100, rounds=31),
        Size(MEDIUM, 64, rounds=31),
        Size(LARGE, 256, rounds=5),
    ),
    overhead=(
        (SEED_NET, 10, "float64"),
        (SEED_NET, 100, "float64"),
        (MEDIUM, 64, "float64"),
        (LARGE, 256, "float64"),
    ),
    overhead_rounds=21,
    training=((SEED_NET, 10), (MEDIUM, 64)),
    training_samples=2000,
    training_rounds=9,
    gradcheck_full=((4, 3, 2), (10, 8, 4), (20, 16, 10), (50, 20, 10), (100, 30, 10)),
    gradcheck_directional=((10, 8, 4), (50, 20, 10), SEED_NET, MEDIUM, LARGE),
    gradcheck_rounds=3,
    torch_slow_max_params=5000,
    conformance=True,
    symbolic_depths=(2, 3, 4, 5),
    symbolic_widths=(1, 2, 3, 4),
    memory=((LARGE, 256, "float64"), (LARGE, 256, "float32")),
    mutation_per_subject=60,
)
