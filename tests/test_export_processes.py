"""The export's helper processes: their errors reach the caller, and they leave no half file."""

from __future__ import annotations

import csv
import gc
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from aiinventory.api import run_import
from aiinventory.errors import AIInventoryError
from aiinventory.export import outputs as outputs_module
from aiinventory.export import records as records_module
from aiinventory.export.atomic import atomic_path
from aiinventory.export.records import (
    RecordsHere,
    RecordsProcess,
    _read_at,
    read_stage_histories,
    render_records,
    write_records,
    write_stage_histories,
)
from aiinventory.export.writers import (
    EXPORT_PROCESSES_ENV,
    REPORT_OPTIONS,
    WorkbookHere,
    WorkbookProcess,
    XlsxSheet,
    XlsxSheets,
    table_cells,
    write_csv,
)
from aiinventory.schema import RECORD_COLUMNS
from aiinventory.store import Store
from aiinventory.time_in_stage import iter_stage_histories

from .conftest import child_pids, ctrl_c_as_from_a_terminal

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def test_records_process_reports_an_unusable_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    state.write_text("not a database, but notes someone saved here\n" * 100, encoding="utf-8")
    process = RecordsProcess(state, tmp_path)
    process.write(tmp_path / "records.csv", tmp_path / "records.jsonl")
    with pytest.raises(AIInventoryError, match="not a usable aiinventory state file"):
        process.result()
    assert list(tmp_path.glob(".records-*.tmp")) == []  # its rendered lines are gone with it


def _imported(tmp_path: Path) -> Path:
    """The state file of the sample data, imported."""
    out = tmp_path / "out"
    assert run_import([SAMPLE], out).exit_code in (0, 3)
    return out / "state.sqlite"


def test_records_rendered_before_the_use_cases_are_written_in_use_case_order(
    tmp_path: Path,
) -> None:
    state = _imported(tmp_path)
    with Store(state) as store:
        rendered = tmp_path / "rendered"
        rendered.mkdir()
        where = render_records(store, rendered)
        # The use cases change after the lines were made (as matching gives them): the files
        # carry the use cases as they are when written.
        store.conn.execute("UPDATE records SET use_case_id = 'UC-' || substr(record_id, 3)")
        count = write_records(
            store, rendered, where, tmp_path / "records.csv", tmp_path / "records.jsonl"
        )
        expected = [
            (r["record_id"], r["use_case_id"], r["name"], r["extras"]) for r in store.iter_records()
        ]
    assert count == len(expected) > 50
    with (tmp_path / "records.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == RECORD_COLUMNS
    name_at = RECORD_COLUMNS.index("name")
    assert [(r[0], r[1], r[name_at]) for r in rows[1:]] == [e[:3] for e in expected]
    lines = (tmp_path / "records.jsonl").read_text(encoding="utf-8").splitlines()
    objects = [json.loads(line) for line in lines]
    assert [(o["record_id"], o["use_case_id"], o["name"], o["extras"]) for o in objects] == [
        tuple(e) for e in expected
    ]
    assert list(objects[0]) == [*RECORD_COLUMNS, "extras"]


def test_records_that_changed_after_rendering_stop_the_export(tmp_path: Path) -> None:
    state = _imported(tmp_path)
    with Store(state) as store:
        where = render_records(store, tmp_path)
        store.conn.execute("DELETE FROM records WHERE rowid = (SELECT max(rowid) FROM records)")
        with pytest.raises(RuntimeError, match="the records changed"):
            write_records(store, tmp_path, where, tmp_path / "a.csv", tmp_path / "a.jsonl")
        where = render_records(store, tmp_path)
        where.pop(next(iter(where)))  # a record the rendering did not see
        with pytest.raises(RuntimeError, match="the records changed"):
            write_records(store, tmp_path, where, tmp_path / "a.csv", tmp_path / "a.jsonl")


def test_records_process_stopped_before_the_export_leaves_nothing(tmp_path: Path) -> None:
    state = _imported(tmp_path)
    process = RecordsProcess(state, tmp_path)
    assert len(list(tmp_path.glob(".records-*.tmp"))) == 1
    process.abort()
    assert list(tmp_path.glob(".records-*.tmp")) == []
    process.abort()  # twice is harmless


@pytest.mark.parametrize("writer", [WorkbookProcess, WorkbookHere], ids=["process", "here"])
def test_workbook_process_streams_sheets_at_once_and_reports_an_error(
    tmp_path: Path, writer: type[WorkbookProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "report.xlsx"
    book = writer(path, REPORT_OPTIONS)
    report = XlsxSheets(book.workbook(), [XlsxSheet("A", ("x", "y")), XlsxSheet("B", ("z",))])
    # More rows than the queue holds, alternating between the sheets.
    for n in range(20_000):
        report.add(n % 2, [f"=row {n}", n] if n % 2 == 0 else [True])
    assert report.finish() == {"A": 10_000, "B": 10_000}
    book.close()
    workbook = openpyxl.load_workbook(path, read_only=True)
    rows = list(workbook["A"].iter_rows(values_only=True))
    assert rows[0] == ("x", "y")
    assert rows[1] == ("=row 0", 0)  # text stays text, never a formula
    assert rows[-1] == ("=row 19998", 19998)
    assert len(list(workbook["B"].iter_rows(values_only=True))) == 10_001
    workbook.close()

    # A workbook that fails is not written: the files of its sheets' rows, which xlsxwriter
    # keeps in the temporary folder until then, are removed all the same.
    temporary = tmp_path / "temporary"
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))  # the process's
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))  # this one's
    with pytest.raises(Exception, match="Same"), atomic_path(tmp_path / "bad.xlsx") as tmp:
        book = writer(tmp, REPORT_OPTIONS)
        try:
            sheet = book.workbook().add_worksheet("Same")
            sheet.write_string(0, 0, "fine")
            book.workbook().add_worksheet("Same")  # xlsxwriter refuses a second sheet so named
            book.close()
        finally:
            book.abort()
    assert not (tmp_path / "bad.xlsx").exists()
    assert list(tmp_path.glob(".bad.xlsx*")) == []
    assert list(temporary.iterdir()) == []


@pytest.mark.parametrize("writer", [WorkbookProcess, WorkbookHere], ids=["process", "here"])
def test_workbook_process_makes_cells_of_values_and_their_csv(
    tmp_path: Path, writer: type[WorkbookProcess]
) -> None:
    rows = [
        ["UC-1", "=cmd|' /C calc'!A0", ["a", "b"], None, 3],
        ["UC-2", "Détection", [], "x", True],
    ]
    book = writer(tmp_path / "book.xlsx", REPORT_OPTIONS)
    sheet = book.workbook().add_worksheet("Rows")
    header = ["id", "text", "list", "blank", "number"]
    sheet.mirror_csv(tmp_path / "rows.csv", header)
    for r, row in enumerate(rows, 1):
        sheet.write_values(r, row, table_cells)
    book.finish()  # written by the process from here; close() waits for it
    book.close()
    written = openpyxl.load_workbook(tmp_path / "book.xlsx", read_only=True)
    cells = list(written["Rows"].iter_rows(min_row=2, values_only=True))
    written.close()
    assert cells == [
        ("UC-1", "=cmd|' /C calc'!A0", "a; b", None, 3),
        ("UC-2", "Détection", None, "x", True),
    ]
    # The CSV is the one write_csv writes of the same rows.
    write_csv(tmp_path / "expected.csv", header, rows)
    assert (tmp_path / "rows.csv").read_bytes() == (tmp_path / "expected.csv").read_bytes()


@pytest.mark.parametrize("writer", [WorkbookProcess, WorkbookHere], ids=["process", "here"])
def test_workbook_process_reports_an_error_making_cells(
    tmp_path: Path, writer: type[WorkbookProcess]
) -> None:
    book = writer(tmp_path / "book.xlsx", REPORT_OPTIONS)
    try:
        sheet = book.workbook().add_worksheet("Rows")
        sheet.write_values(1, ["fine"], table_cells)
        sheet.write_values(2, ["not", "a", "number"], int)  # int() of a list: TypeError
        with pytest.raises(TypeError):
            book.close()
    finally:
        book.abort()


@pytest.mark.parametrize(
    "steps",
    [
        "",  # the run is killed before its export
        # killed while the pairs are explained: the files are being written
        "process.start_writing()\n",
        # killed after the files were written and answered, before the export took them
        "process.start_writing()\npickle.load(process._proc.stdout)\n",
    ],
    ids=["before_writing", "while_writing", "after_writing"],
)
def test_records_process_of_a_killed_run_cleans_up_after_itself(tmp_path: Path, steps: str) -> None:
    state = _imported(tmp_path)
    folder = tmp_path / "out"
    script = (
        "import os, pickle, sys\n"
        "from pathlib import Path\n"
        "from aiinventory.export.records import RecordsProcess\n"
        "process = RecordsProcess(Path(sys.argv[1]), Path(sys.argv[2]))\n"
        + steps
        + "os.kill(os.getpid(), 9)\n"
    )
    killed = subprocess.run([sys.executable, "-c", script, str(state), str(folder)], timeout=120)
    assert killed.returncode == -9
    deadline = time.monotonic() + 60
    while list(folder.glob(".records-*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(folder.glob(".records-*.tmp")) == []


def test_records_written_early_go_to_the_places_given_later(tmp_path: Path) -> None:
    state = _imported(tmp_path)
    folder = tmp_path / "again"
    folder.mkdir()
    process = RecordsProcess(state, folder)
    process.start_writing()
    process.start_writing()  # once is enough; twice is harmless
    process.write(folder / "a.csv", folder / "a.jsonl")
    with Store(state) as store:
        assert process.result() == store.count("records")
    assert list(process.stage_histories())
    assert (folder / "a.csv").read_bytes() == (state.parent / "records.csv").read_bytes()
    assert (folder / "a.jsonl").read_bytes() == (state.parent / "records.jsonl").read_bytes()
    assert list(folder.glob(".records-*.tmp")) == []


def test_what_a_killed_run_left_is_removed_by_the_next(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    old = time.time() - 2 * 3600
    stale_file = out / ".inventory.xlsx.k3j4h5.tmp"
    stale_file.write_bytes(b"half a workbook")
    stale_folder = out / ".records-abc123.tmp"
    stale_folder.mkdir()
    (stale_folder / "records.csv.part").write_bytes(b"lines")
    for path in (stale_folder / "records.csv.part", stale_folder, stale_file):
        os.utime(path, (old, old))
    fresh = out / ".records.csv.x1y2z3.tmp"  # another run writing it now
    fresh.write_bytes(b"being written")
    mine = out / ".notes.txt.tmp"  # not a file of ours
    mine.write_bytes(b"keep")
    os.utime(mine, (old, old))

    result = run_import([SAMPLE], out)
    assert not stale_file.exists() and not stale_folder.exists()
    assert fresh.exists() and mine.exists()
    removed = [w for w in result.summary.warnings if w.code == "stale_temporary_removed"]
    assert len(removed) == 2, removed
    assert (out / "inventory.xlsx").exists()


def test_records_process_makes_the_stage_histories_the_evidence_gives(tmp_path: Path) -> None:
    state = _imported(tmp_path)
    folder = tmp_path / "again"
    folder.mkdir()
    process = RecordsProcess(state, folder)
    process.write(folder / "records.csv", folder / "records.jsonl")
    with Store(state) as store:
        expected = list(iter_stage_histories(store.iter_stage_evidence()))
        assert process.result() == store.count("records")
    made = list(process.stage_histories())
    assert made == expected
    assert any(h.entries for h in made)  # the sample's trackers say when stages began
    assert list(folder.glob(".records-*.tmp")) == []  # read, and removed


@pytest.mark.parametrize("writer", [WorkbookProcess, WorkbookHere], ids=["process", "here"])
def test_no_call_after_a_workbook_is_finished(
    tmp_path: Path, writer: type[WorkbookProcess]
) -> None:
    book = writer(tmp_path / "book.xlsx", REPORT_OPTIONS)
    try:
        sheet = book.workbook().add_worksheet("Rows")
        sheet.write_values(0, ["one"], table_cells)
        book.finish()
        with pytest.raises(RuntimeError, match="finished"):
            sheet.write_values(1, ["two"], table_cells)
        book.close()
    finally:
        book.abort()
    assert openpyxl.load_workbook(tmp_path / "book.xlsx")["Rows"]["A1"].value == "one"


def test_stage_histories_cut_short_are_an_error(tmp_path: Path) -> None:
    state = _imported(tmp_path)
    with Store(state) as store:
        write_stage_histories(store, tmp_path / "histories")
        whole = list(read_stage_histories(tmp_path / "histories"))
    data = (tmp_path / "histories").read_bytes()
    (tmp_path / "cut").write_bytes(data[: data.rindex(b".")])  # without the end mark
    assert whole
    with pytest.raises(OSError, match="end too soon"):
        list(read_stage_histories(tmp_path / "cut"))


@pytest.mark.parametrize("pread", [True, False], ids=["pread", "seek and read"])
def test_rendered_lines_are_read_exactly_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pread: bool
) -> None:
    if not pread:  # as on a platform without os.pread
        monkeypatch.setattr(records_module, "_pread_at", records_module._pread)
    path = tmp_path / "lines"
    path.write_bytes(b"first line\nsecond line\n")
    with path.open("rb", buffering=0) as fh:
        assert _read_at(fh.fileno(), 11, 23) == b"second line\n"
        assert _read_at(fh.fileno(), 0, 5) == b"first"
        with pytest.raises(OSError, match="ends at 23, before 30"):
            _read_at(fh.fileno(), 11, 30)


def _imported_once(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A folder of one tracker imported once: (folder, tracker, output folder)."""
    folder = tmp_path / "in"
    folder.mkdir()
    tracker = folder / "tracker.csv"
    tracker.write_text("Use case,Stage\nInvoice bot,Pilot\n", encoding="utf-8")
    out = tmp_path / "out"
    run_import([folder], out)
    return folder, tracker, out


def test_an_export_that_fails_late_leaves_the_last_exports_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiinventory.export import outputs
    from aiinventory.export.overview import OverviewPage

    folder, tracker, out = _imported_once(tmp_path)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.name in outputs.OUTPUT_FILES}
    assert set(before) == set(outputs.OUTPUT_FILES)

    tracker.write_text("Use case,Stage\nInvoice bot,Live\nChat triage,Idea\n", encoding="utf-8")

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    # The page is the last file written: the others are whole by then.
    monkeypatch.setattr(OverviewPage, "write", disk_full)
    with pytest.raises(OSError, match="No space left"):
        run_import([folder], out)
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.name in outputs.OUTPUT_FILES}
    assert after == before
    left = [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert left == []

    monkeypatch.undo()  # the disk has room again: the next run writes the new set
    run_import([folder], out)
    assert b"Chat triage" in (out / "inventory.csv").read_bytes()


def test_a_folder_in_an_exports_place_stops_the_set_before_any_rename(tmp_path: Path) -> None:
    from aiinventory.export import outputs

    folder, tracker, out = _imported_once(tmp_path)
    (out / "overview.html").unlink()
    (out / "overview.html").mkdir()
    (out / "overview.html" / "x").write_text("x", encoding="utf-8")
    before = {n: (out / n).read_bytes() for n in outputs.OUTPUT_FILES if n != "overview.html"}
    tracker.write_text("Use case,Stage\nInvoice bot,Live\nChat triage,Idea\n", encoding="utf-8")
    with pytest.raises(IsADirectoryError) as raised:
        run_import([folder], out)
    assert raised.value.filename == str(out / "overview.html")
    assert {n: (out / n).read_bytes() for n in before} == before
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == []


def _command_lines(pid: int) -> list[str]:
    """The command lines of the processes a process started."""
    found = []
    for kid in child_pids(pid):
        try:
            found.append(Path(f"/proc/{kid}/cmdline").read_bytes().decode(errors="replace"))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc")
def test_ctrl_c_at_a_terminal_stops_the_helpers_and_only_the_command_speaks(
    tmp_path: Path,
) -> None:
    # A terminal's Ctrl-C goes to the command's process group; the helpers, in groups of their
    # own, hear nothing of it while their interpreters start (where it printed a traceback).
    env = {**os.environ, "PYTHONPATH": str(SAMPLE.parent / "src"), EXPORT_PROCESSES_ENV: "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiinventory", "import", str(SAMPLE), "--out", str(tmp_path / "o")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=ctrl_c_as_from_a_terminal,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if any("export.writers" in c or "export.records" in c for c in _command_lines(proc.pid)):
            break
        time.sleep(0.01)
    time.sleep(0.2)  # into the helpers' start-up, where an interrupt printed a traceback
    assert proc.poll() is None, "the run ended before its export's helpers started"
    helpers = child_pids(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err.decode()
    assert b"Traceback" not in err and b"KeyboardInterrupt" not in err, err.decode()
    # The command stopped them itself.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in helpers):
        time.sleep(0.05)
    assert helpers and not [pid for pid in helpers if Path(f"/proc/{pid}").exists()]


def test_the_export_leaves_the_objects_made_before_it_out_of_the_collectors_walks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Objects made before the export (the match result) are frozen while it runs, and thawed
    after it, also when it fails."""
    seen: list[int] = []
    real = outputs_module.build_golden_record

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.get_freeze_count())
        return real(*args, **kwargs)

    monkeypatch.setattr(outputs_module, "build_golden_record", watched)
    made_before = [object() for _ in range(1000)]
    assert run_import([SAMPLE], tmp_path / "out").exit_code in (0, 3)
    assert seen and min(seen) >= len(made_before)
    assert gc.get_freeze_count() == 0

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a golden record that cannot be made")

    monkeypatch.setattr(outputs_module, "build_golden_record", failing)
    with pytest.raises(RuntimeError, match="cannot be made"):
        run_import([SAMPLE], tmp_path / "again")
    assert gc.get_freeze_count() == 0
    # Objects a caller froze stay frozen: the caller thaws them.
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert outputs_module._heap_so_far_left_alone(gc.get_freeze_count)() == frozen
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_a_small_export_is_written_here_to_the_bytes_the_processes_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below AIINVENTORY_EXPORT_PROCESSES records (5,000 by default) no interpreter is started
    for the export, which writes the very files its processes write."""
    monkeypatch.setenv(EXPORT_PROCESSES_ENV, "0")  # processes for any export
    assert run_import([SAMPLE], tmp_path / "processes").exit_code in (0, 3)
    monkeypatch.delenv(EXPORT_PROCESSES_ENV)

    def no_interpreter(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"an interpreter was started: {args!r}")

    monkeypatch.setattr(outputs_module.WorkbookProcess, "__init__", no_interpreter)
    monkeypatch.setattr(records_module.RecordsProcess, "__init__", no_interpreter)
    result = run_import([SAMPLE], tmp_path / "here")
    assert result.exit_code in (0, 3) and result.summary.counts["records"] > 50
    for name in outputs_module.OUTPUT_FILES:
        if name != "run.json":
            processes = (tmp_path / "processes" / name).read_bytes()
            assert (tmp_path / "here" / name).read_bytes() == processes, name
    assert [p.name for p in (tmp_path / "here").iterdir() if p.name.startswith(".")] == []


def test_a_records_export_that_fails_here_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = _imported(tmp_path)
    folder = tmp_path / "again"
    folder.mkdir()

    def disk_full(*args: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(records_module, "write_records", disk_full)
    with Store(state) as store:
        here = RecordsHere(store, folder)
        here.start_writing()
        here.write(folder / "records.csv", folder / "records.jsonl")
        with pytest.raises(OSError, match="No space left"):
            here.result()
        assert list(folder.iterdir()) == []
        stopped = RecordsHere(store, folder)
        stopped.abort()  # a run stopped before its export
        assert list(folder.iterdir()) == []


@pytest.mark.parametrize("setting", ["many", "-1", "5k"])
def test_a_wrong_export_processes_setting_stops_the_run_before_it_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    from aiinventory.errors import ConfigError

    monkeypatch.setenv(EXPORT_PROCESSES_ENV, setting)
    with pytest.raises(ConfigError, match=f"{EXPORT_PROCESSES_ENV} must be a whole number"):
        run_import([SAMPLE], tmp_path / "out")
    assert not (tmp_path / "out" / "state.sqlite").exists()


_KILLED_WHILE_WRITING = """
import os, signal, sys
from pathlib import Path
from aiinventory import api
from aiinventory.export import records
def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
records.write_records = killed
api.run_import([Path(sys.argv[1])], Path(sys.argv[2]))
"""


def test_a_small_export_killed_midway_leaves_nothing_in_the_temporary_folder(
    tmp_path: Path,
) -> None:
    """xlsxwriter keeps rows in files of their own until it writes the workbook; a small export
    has them made in a hidden folder of the output folder, which a later run removes once it
    is an hour old, not in the temporary folder, which nothing cleans."""
    temporary = tmp_path / "temporary"
    temporary.mkdir()
    env = {**os.environ, "TMPDIR": str(temporary), "PYTHONPATH": str(SAMPLE.parent / "src")}
    env.pop(EXPORT_PROCESSES_ENV, None)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_WHILE_WRITING, str(SAMPLE), str(out)],
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert list(temporary.iterdir()) == []
    assert list(out.glob(".records-*.tmp"))  # what the next runs remove once it is stale
