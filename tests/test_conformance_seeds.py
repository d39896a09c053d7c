"""``--seed random`` (issue 18): a fresh seed, printed in the report's header, with a command that repeats the run.

And a seed is the whole story of a run: the command printed for a random seed gives the
same report again; under pytest-xdist every worker runs with the controller's one seed.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from conformance import check_implementation
from conformance.cases.seeds import parse_seed, resolve_seed
from conformance.frontends.cli import main
from conformance.reporting.report import Report, merge

from ._conformance_helpers import run_python

_RERUN = re.compile(r"^seed (\d+) was drawn at random; this command repeats the run: (.+)$", re.MULTILINE)


def test_seeds_parse_as_integers_or_random() -> None:
    assert parse_seed("17") == 17 and parse_seed("-3") == -3 and parse_seed(" Random ") == "random"
    assert resolve_seed(5) == (5, False) and resolve_seed("5") == (5, False)
    drawn = {resolve_seed("random") for _ in range(4)}
    assert all(flag for _, flag in drawn) and len({seed for seed, _ in drawn}) > 1  # fresh each time
    for bad in ("1.5", "", "randomly"):
        with pytest.raises(ValueError, match="expected an integer or 'random'"):
            resolve_seed(bad)
    with pytest.raises(ValueError, match="must be an integer or 'random', got True"):
        resolve_seed(True)


@pytest.mark.suite
def test_the_cli_prints_a_random_seed_and_the_command_that_repeats_the_run(tmp_path: Path) -> None:
    impl = "tests.broken_impls:SeedTypo"  # a failing run: its causes and smallest cases depend on the seed
    args = ["--impl", impl, "--quick", "--regimes", "typical", "--dtypes", "float64"]
    first = run_python(["-m", "conformance", *args, "--seed", "random", "--report", "first.json"], tmp_path)
    assert first.returncode == 1, first.stdout + first.stderr
    found = _RERUN.search(first.stdout)
    assert found, first.stdout
    seed, command = int(found[1]), found[2]
    assert json.loads((tmp_path / "first.json").read_text())["settings"]["seed"] == seed
    assert f"seed {seed}," in first.stdout  # also among the settings
    words = shlex.split(command)
    assert words[:3] == ["python", "-m", "conformance"] and "random" not in words
    again = run_python([*words[1:], "--report", "again.json"], tmp_path)
    assert again.returncode == 1, again.stdout + again.stderr
    assert not _RERUN.search(again.stdout)  # a pinned seed: no "drawn at random" line
    assert _report(tmp_path / "again.json") == _report(tmp_path / "first.json")


@pytest.mark.suite
def test_the_default_seed_is_pinned_and_prints_no_rerun_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--impl", "reference", "--quick", "--regimes", "typical", "--dtypes", "float64", "-q"]) == 0
    out = capsys.readouterr().out
    assert "seed 0," in out and not _RERUN.search(out)
    assert main(["--impl", "reference", "--quick", "--seed", "nope"]) == 2
    assert "expected an integer or 'random', got 'nope'" in capsys.readouterr().err


@pytest.mark.suite
def test_check_implementation_takes_seed_random() -> None:
    report = check_implementation(
        "reference", quick=True, regimes=["typical"], dtypes=["float64"], seed="random", failures_dir=None
    )
    assert report.ok
    assert report.settings["rerun"].endswith("--quick --regimes typical --dtypes float64")
    assert f"--seed {report.settings['seed']} " in report.settings["rerun"]
    assert "was drawn at random" in report.header()


@pytest.mark.suite
def test_pytest_xdist_workers_share_the_controllers_random_seed(tmp_path: Path) -> None:
    """Each worker parses the command line itself: without the controller's seed each would draw its own.

    The failing groups' smallest cases depend on the seed, so the two-worker run with the printed
    seed and a one-process run with it give the same report only if every worker used that seed.
    """
    pytest.importorskip("xdist")
    groups = ["-k", "float64-typical or float64-zeros or float64-small or float64-square"]
    base = ["-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "--pyargs", "conformance", "--impl",
            "tests.broken_impls:SeedTypo", "--conformance-quick", *groups]  # fmt: skip
    run = run_python([*base, "--conformance-seed", "random", "-n", "2", "--conformance-report", "r.json"], tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    found = _RERUN.search(run.stdout)
    assert found, run.stdout
    seed = int(found[1])
    assert found[2].endswith(f"--conformance-seed {seed}") and "--conformance-seed random" not in found[2]
    assert json.loads((tmp_path / "r.json").read_text())["settings"]["seed"] == seed
    single = run_python([*base, "--conformance-seed", str(seed), "--conformance-report", "one.json"], tmp_path)
    assert single.returncode == 1, single.stdout + single.stderr
    assert _report(tmp_path / "r.json") == _report(tmp_path / "one.json")


def _report(path: Path) -> str:
    data = merge([Report.from_dict(json.loads(path.read_text()))]).to_dict()
    return json.dumps({"causes": data["causes"], "verdicts": data["verdicts"]}, indent=1)
