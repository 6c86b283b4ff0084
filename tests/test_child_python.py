"""Second interpreters (the isolated reader, the export's writing processes) run the same copy of
the package as the process that starts them, not whichever copy comes first on their path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import aiinventory
from aiinventory.child_python import at_low_priority

SRC = Path(aiinventory.__file__).resolve().parent
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "trackers" / "finance"

MARKER = """
import os as _marker_os
if "AIINVENTORY_TEST_MARKS" in _marker_os.environ:
    open(_marker_os.path.join(_marker_os.environ["AIINVENTORY_TEST_MARKS"],
         __name__ + "." + str(_marker_os.getpid())), "w").close()
"""

CHILD_MODULES = (
    "aiinventory.spreadsheets.isolated_reader",
    "aiinventory.export.writers",
    "aiinventory.export.records",
)


def _copy_with_markers(root: Path) -> None:
    """A checkout-like copy (``src/aiinventory`` beside ``mappings/``) whose child-process
    modules leave a mark when imported."""
    shutil.copytree(SRC, root / "aiinventory", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(SRC.parents[1] / "mappings", root.parent / "mappings")
    for module in CHILD_MODULES:
        path = root.joinpath(*module.split(".")).with_suffix(".py")
        path.write_text(path.read_text(encoding="utf-8") + MARKER, encoding="utf-8")


def test_a_copy_found_through_sys_path_runs_its_own_code_in_every_child_process(
    tmp_path: Path,
) -> None:
    root, marks = tmp_path / "copy" / "src", tmp_path / "marks"
    marks.mkdir()
    _copy_with_markers(root)
    script = (
        "import os, sys\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        "from aiinventory.api import run_import\n"
        "print(os.getpid())\n"
        f"result = run_import([{str(SAMPLE)!r}], __import__('pathlib').Path({str(tmp_path / 'out')!r}))\n"
        "print(result.exit_code)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["AIINVENTORY_TEST_MARKS"] = str(marks)
    env["AIINVENTORY_EXPORT_PROCESSES"] = "0"  # the export's processes, however small
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    parent_pid, exit_code = done.stdout.split()
    assert exit_code in ("0", "3")
    by_module: dict[str, set[str]] = {}
    for mark in marks.iterdir():
        module, pid = mark.name.rsplit(".", 1)
        by_module.setdefault(module, set()).add(pid)
    for module in CHILD_MODULES:
        # Imported from the copy by a process other than the one that ran the import.
        assert by_module.get(module, set()) - {parent_pid}, (module, by_module)


def _nice() -> int:
    return os.nice(0)


def test_work_at_low_priority_runs_lower_and_the_caller_keeps_its_own() -> None:
    before = _nice()
    seen = at_low_priority(_nice)
    assert seen == min(before + 10, 19)
    if sys.platform.startswith("linux"):  # a thread's priority is its own there
        assert _nice() == before


def test_work_at_low_priority_raises_what_it_raises() -> None:
    def fail() -> None:
        raise ValueError("the work's own error")

    with pytest.raises(ValueError, match="the work's own error"):
        at_low_priority(fail)


PARENT_KILLED_MID_MESSAGE = """
import os, pickle, signal, subprocess, sys
from aiinventory.child_python import OWN_GROUP, python_command
child = subprocess.Popen(
    python_command(
        "from aiinventory.child_python import serve_quietly as q\\n"
        "from aiinventory.export.writers import serve_calls as s\\nq(s)"
    ),
    stdin=subprocess.PIPE,
    stderr=open(sys.argv[1], "wb"),
    **OWN_GROUP,
)
open(sys.argv[2], "w").write(str(child.pid))
child.stdin.write(pickle.dumps((sys.argv[3], {})))
child.stdin.write(pickle.dumps([("add_worksheet", ("S",), {})] * 1000)[:500])  # cut short
child.stdin.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_helper_whose_parent_is_killed_mid_message_ends_without_a_traceback(
    tmp_path: Path,
) -> None:
    err, pid_file = tmp_path / "helper.err", tmp_path / "helper.pid"
    book = tmp_path / "book.xlsx"
    command = [sys.executable, "-c", PARENT_KILLED_MID_MESSAGE, str(err), str(pid_file), str(book)]
    proc = subprocess.run(command, timeout=60)
    assert proc.returncode == -9
    helper = Path(f"/proc/{pid_file.read_text()}")
    deadline = time.monotonic() + 20
    while helper.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not helper.exists()
    assert err.read_bytes() == b""
