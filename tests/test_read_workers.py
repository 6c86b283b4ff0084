"""Files read in forked reader processes: same results as reading in the main process, a reader
that dies costs one file (with a reason) and nothing else, and a stopped run leaves none behind."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from aiinventory.api import run_import
from aiinventory.cli import main
from aiinventory.read_workers import READERS_ENV, ReaderPool, Reading
from aiinventory.warnings_log import WarningLog

from .conftest import child_pids, ctrl_c_as_from_a_terminal

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="reader processes need fork")


def _run_json(out: Path) -> dict[str, object]:
    summary = json.loads((out / "run.json").read_text(encoding="utf-8"))
    for key in ("timings_s", "started_at", "finished_at", "state"):  # the run's own
        summary.pop(key)
    return summary


def test_readers_give_what_the_main_process_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample = REPO / "sample_data"
    results = {}
    handed_over: list[int] = []  # files a reader process sent back
    take = ReaderPool.take

    def counted(self: ReaderPool, index: int) -> Reading | None:
        reading = take(self, index)
        if reading is not None:
            handed_over.append(index)
        return reading

    monkeypatch.setattr(ReaderPool, "take", counted)
    for readers in ("0", "2"):
        monkeypatch.setenv(READERS_ENV, readers)
        out = tmp_path / f"readers-{readers}"
        results[readers] = run_import([sample], out, mappings_dir=sample / "mappings")
    sequential, parallel = results["0"], results["2"]
    spreadsheets = sum(1 for r in parallel.files if not r.source_path.endswith((".eml", ".mbox")))
    assert len(handed_over) == spreadsheets > 5  # all read by readers in the second run only
    assert parallel.files == sequential.files  # the per-file reports, in the same order
    assert parallel.summary.counts["rows_read"] > 50
    assert _run_json(parallel.out_dir) == _run_json(sequential.out_dir)
    names = sorted(p.name for p in sequential.out_dir.iterdir() if p.is_file())
    assert names == sorted(p.name for p in parallel.out_dir.iterdir() if p.is_file())
    for name in names:
        if name == "run.json" or name.startswith("state.sqlite"):
            continue
        same = (parallel.out_dir / name).read_bytes() == (sequential.out_dir / name).read_bytes()
        assert same, name


def _write_csv(path: Path, prefix: str, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Use case name", "Owner", "Status", "Description"])
        for i in range(rows):
            writer.writerow([f"{prefix} case {i:04d}", "Jane Doe", "Production", f"Row {i}"])


@pytest.mark.parametrize("readers", ["0", "1"])
def test_progress_counts_a_large_files_rows_and_says_the_stages_after_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, readers: str
) -> None:
    folder = tmp_path / "trackers"
    folder.mkdir()
    _write_csv(folder / "a.csv", "Alpha", 30)
    _write_csv(folder / "b.csv", "Bravo", 12_000)
    monkeypatch.setenv(READERS_ENV, readers)
    calls: list[tuple[int, int, str]] = []
    stages: list[str] = []

    run_import(
        [folder],
        tmp_path / "out",
        progress=lambda done, total, label: calls.append((done, total, label)),
        stage=stages.append,
    )

    b = str(folder / "b.csv")
    assert calls == [
        (1, 2, str(folder / "a.csv")),
        (1, 2, f"5,000 rows of {b}"),  # one file done, the second under way
        (1, 2, f"10,000 rows of {b}"),
        (2, 2, b),
    ]
    assert stages == ["matching 12,030 records", "writing the exports"]


def test_a_reader_killed_mid_file_fails_that_file_and_the_next_run_reads_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "trackers"
    folder.mkdir()
    _write_csv(folder / "a.csv", "Alpha", 300)  # one partial batch: sent whole
    _write_csv(folder / "b.csv", "Bravo", 700)  # its first full batch goes out, then the kill
    _write_csv(folder / "c.csv", "Charlie", 10)
    out = tmp_path / "out"
    monkeypatch.setenv(READERS_ENV, "1")
    monkeypatch.setenv("AIINVENTORY_FAILPOINT", "reader_batch:1")

    first = run_import([folder], out)

    counts = first.summary.counts
    assert first.exit_code == 3
    assert counts["files_failed"] == 1 and counts["files_read"] == 2
    assert counts["records"] == 300 + 500 + 10  # c.csv was read by the main process
    with (out / "rejects.csv").open(encoding="utf-8-sig") as fh:
        rejects = list(csv.DictReader(fh))
    assert len(rejects) == 1
    assert rejects[0]["source_path"].endswith("b.csv")
    assert rejects[0]["reason_code"] == "unreadable"
    assert "reader process stopped" in rejects[0]["message"]
    assert "SIGKILL" in rejects[0]["message"]
    assert "reads the file again" in rejects[0]["message"]
    assert [f.failed for f in first.files] == [False, True, False]

    monkeypatch.delenv("AIINVENTORY_FAILPOINT")
    second = run_import([folder], out)

    assert second.exit_code == 0
    assert second.summary.counts["files_changed"] == 1  # b.csv, nothing else
    assert second.summary.counts["files_unchanged"] == 2
    assert second.summary.counts["records"] == 1010
    assert second.summary.counts["rejects"] == 0


def test_a_reader_killed_before_it_begins_a_file_leaves_that_file_to_the_main_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "trackers"
    folder.mkdir()
    for prefix in ("Alpha", "Bravo", "Charlie"):
        _write_csv(folder / f"{prefix.lower()}.csv", prefix, 20)
    monkeypatch.setenv(READERS_ENV, "1")
    # The reader dies as it takes its second file, before it says anything about it.
    monkeypatch.setenv("AIINVENTORY_FAILPOINT", "reader_file:2")

    result = run_import([folder], tmp_path / "out")

    assert result.exit_code == 0
    assert not any(f.failed for f in result.files)
    assert result.summary.counts["records"] == 60
    assert result.summary.counts["rejects"] == 0


def test_warnings_merged_per_file_are_the_warnings_added_one_by_one() -> None:
    one_by_one, merged = WarningLog(), WarningLog()
    added = [("fuzzy_value", "a.csv", r) for r in range(1, 8)]
    later = [("fuzzy_value", "a.csv", r) for r in range(8, 15)] + [("unmapped_value", "b.csv", 3)]
    for code, path, row in added + later:
        one_by_one.add(code, f"{code} text", source_path=path, row=row)
    for code, path, row in added:
        merged.add(code, f"{code} text", source_path=path, row=row)
    other = WarningLog()
    for code, path, row in later:
        other.add(code, f"{code} text", source_path=path, row=row)
    merged.merge(other)
    assert merged.items() == one_by_one.items()
    assert merged.items()[0].count == 14 and len(merged.items()[0].rows) == 10


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc")
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_run_stopped_while_readers_read_ends_cleanly_and_leaves_no_reader(
    tmp_path: Path, signum: int, code: int
) -> None:
    folder = tmp_path / "trackers"
    folder.mkdir()
    for k in range(6):
        _write_csv(folder / f"tracker {k}.csv", f"Dept{k}", 4000)
    env = {**os.environ, READERS_ENV: "2", "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiinventory", "import", str(folder), "--out", str(tmp_path / "o")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=ctrl_c_as_from_a_terminal,
    )
    readers: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        readers = child_pids(proc.pid)
        if len(readers) >= 2:
            break
        time.sleep(0.02)
    assert len(readers) >= 2, "the readers never started"
    time.sleep(0.3)  # well into the first files
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err.decode()
    for pid in readers:
        assert not Path(f"/proc/{pid}").exists(), f"reader {pid} outlived the run"
    assert b"Traceback" not in err


# Ctrl-C reaching a reader the instant it is forked, before it could set its own handlers: run
# by a child Python so that the fork is wrapped there and nowhere else.
_SIGNAL_AT_FORK = """
import os, signal, sys
fork = os.fork
def fork_then_ctrl_c():
    pid = fork()
    if pid == 0:
        os.kill(os.getpid(), signal.SIGINT)
    return pid
os.fork = fork_then_ctrl_c
from aiinventory.cli import main
main(["import", sys.argv[1], "--out", sys.argv[2]])
"""


def test_ctrl_c_the_instant_a_reader_is_forked_is_left_to_the_main_process(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "trackers"
    folder.mkdir()
    for prefix in ("Alpha", "Bravo", "Charlie"):
        _write_csv(folder / f"{prefix.lower()}.csv", prefix, 20)
    env = {**os.environ, READERS_ENV: "2", "PYTHONPATH": str(REPO / "src")}
    env.pop("AIINVENTORY_FAILPOINT", None)
    done = subprocess.run(
        [sys.executable, "-c", _SIGNAL_AT_FORK, str(folder), str(tmp_path / "o")],
        env=env,
        capture_output=True,
        timeout=120,
        preexec_fn=ctrl_c_as_from_a_terminal,  # else an ignored Ctrl-C would test nothing
    )
    # The readers ignore Ctrl-C: the signal neither unwinds the main process's run inside a
    # reader (which would release the run's lock and report an interruption) nor stops it.
    assert b"interrupted" not in done.stderr, done.stderr.decode()
    assert done.returncode == 0, done.stderr.decode()
    assert b"60 records" in done.stdout


def test_a_reader_count_that_is_not_a_number_stops_the_run_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "trackers"
    folder.mkdir()
    _write_csv(folder / "a.csv", "Alpha", 3)
    monkeypatch.setenv(READERS_ENV, "two")
    result = CliRunner().invoke(main, ["import", str(folder), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert "AIINVENTORY_READERS must be a whole number" in result.output
    assert not (tmp_path / "o").exists()
