"""overview.html: figures, provenance, escaping and reruns; then the page in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import struct
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aiinventory.api import run_import
from aiinventory.export.overview import OVERVIEW_FILE, embed_json

from .chromium_devtools import Browser, chromium_path
from .conftest import REPO, Outputs, write_workbook

HOSTILE = "</script><img src=x onerror=alert(1)>"
HEADER = ["Use case", "Department", "Owner", "Owner email", "Status", "Personal data"]


def page_data(out: Path) -> dict[str, Any]:
    """The JSON document embedded in an overview.html."""
    html = (out / OVERVIEW_FILE).read_text(encoding="utf-8")
    found = re.search(
        r'<script id="overview-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert found, "no data block"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def rows_by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    cols = data["columns"]
    return {uc["v"][cols.index("name")]: uc for uc in data["use_cases"]}


def place(data: dict[str, Any], record_index: int) -> tuple[str, str | None, int | None]:
    rec = data["records"][record_index]
    return data["files"][rec[2]], rec[3], rec[4]


def write_trackers(folder: Path) -> None:
    write_workbook(
        folder / "finance.xlsx",
        {
            "Tracker": [
                HEADER,
                ["Invoice OCR", "Finance", "Ann Lee", "ann@example.org", "Live", "No"],
                ["Cash forecast", "Finance", "Bo Chan", "", "Pilot", "No"],
                [HOSTILE, "Finance", "Eve", "eve@example.org", "Idea", "Yes"],
            ]
        },
    )
    write_workbook(
        folder / "it.xlsx",
        {
            "Register": [
                HEADER,
                ["Invoice OCR", "IT", "Ann Lee", "ann@example.org", "In production", "No"],
                ["Ticket routing", "IT", "Raj Patel", "raj@example.org", "Build", "No"],
            ]
        },
    )


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    """The two test trackers, imported once for the tests that only read the page."""
    folder = tmp_path_factory.mktemp("overview")
    write_trackers(folder / "in")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIINVENTORY_FIXED_NOW", "2026-01-15T09:00:00+00:00")
        return Outputs(run_import([folder / "in"], folder / "out"), folder / "out")


def test_figures_and_sources(imported: Outputs) -> None:
    result = imported
    tmp_path = result.out.parent
    data = page_data(result.out)

    inventory = result.inventory
    assert data["summary"] == {
        "use_cases": len(inventory),
        "records": len(result.records),
        "files": 2,
        "newest_evidence": max(r["last_updated"] for r in inventory),
    }
    ds = data["department_stage"]
    expected = Counter((r["department"], r["stage"]) for r in inventory)
    got = {
        (d, s): n
        for d, counts in zip(ds["departments"], ds["counts"], strict=True)
        for s, n in zip(ds["stages"], counts, strict=True)
        if n
    }
    assert got == dict(expected)
    assert ds["departments"][0] == "Finance"  # most use cases first

    by_name = rows_by_name(data)
    cols = data["columns"]
    several = [data["use_cases"][i]["v"][cols.index("name")] for i in data["several_departments"]]
    shared = [r["name"] for r in inventory if ";" in r["departments_reporting"]]
    assert several == shared
    assert "Invoice OCR" in several

    # Each value points at the record it came from, with the original text when it differs.
    routing = by_name["Ticket routing"]
    stage_ref = routing["p"]["stage"]
    assert place(data, stage_ref[0]) == (str(tmp_path / "in" / "it.xlsx"), "Register", 3)
    assert stage_ref[1] == "Build"
    # One record: a value kept as written needs no reference (the page names the record).
    assert "name" not in routing["p"]
    assert routing["r"] == [stage_ref[0]]
    # The merged use case lists both records; its stage comes from one of them.
    ocr = by_name["Invoice OCR"]
    assert {place(data, r)[1] for r in ocr["r"]} == {"Tracker", "Register"}
    assert ocr["p"]["stage"][0] in ocr["r"]

    assert data["changes"]["first_run"] is True
    assert data["changes"]["tally"]["new"] == len(inventory)

    # Checkpoint failures by department, as the inventory's governance_flags say.
    ck = data["checkpoints"]
    assert ck["evaluated"] is True
    flagged = Counter(
        (r["department"], flag) for r in inventory for flag in r["governance_flags"].split("; ")
    )
    flagged.pop(("Finance", ""), None)
    flagged.pop(("IT", ""), None)
    got_flags = {
        (d, rule): n
        for d, counts in zip(ck["departments"], ck["counts"], strict=True)
        for rule, n in zip(ck["rules"], counts, strict=True)
        if n
    }
    assert got_flags == dict(flagged)
    assert ("Finance", "owner_contact") in got_flags  # Cash forecast: pilot, no e-mail
    assert ("Finance", "impact_assessment") in got_flags  # personal data, no assessment
    assert ck["rule_words"]["owner_contact"]["check"].startswith("A deployed or pilot")
    # No dated deployment in one run of fresh files: no median, and the page says so.
    assert data["time_to_production"]["overall"]["median_days"] is None


def test_hostile_value_stays_text(imported: Outputs) -> None:
    result = imported
    html = (result.out / OVERVIEW_FILE).read_text(encoding="utf-8")
    # Two blocks (data, script), each closed once: the value cannot close the data block.
    assert html.count("</script") == 2
    assert "<img" not in html
    assert HOSTILE in rows_by_name(page_data(result.out))
    # Nothing is loaded from anywhere: the policy allows only the inline style and script.
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html)
    assert csp and "default-src 'none'" in csp.group(1)
    assert "http:" not in csp.group(1) and "https:" not in csp.group(1)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)


def test_embed_json_escapes_every_way_out() -> None:
    value = "</SCRIPT ><!-- <script> \u2028 é &lt;"
    text = embed_json({"v": value})
    assert "<" not in text
    assert json.loads(text) == {"v": value}
    # A lone surrogate cannot be written as UTF-8: then the text is escaped to ASCII.
    hostile = value + " \udc80"
    text = embed_json({"v": hostile})
    assert "<" not in text
    assert text.isascii()
    assert json.loads(text) == {"v": hostile}


def test_reruns_and_changes(tmp_path: Path, run_import_into: Callable[..., Outputs]) -> None:
    """Byte-identical across runs over the same inputs; untouched by a rerun with nothing new;
    the changes of an edited tracker, field by field."""
    folder = tmp_path / "in"
    write_trackers(folder)
    for i, name in enumerate(("finance.xlsx", "it.xlsx")):
        os.utime(folder / name, (1_760_000_000 + i, 1_760_000_000 + i))
    first = run_import_into(folder)
    second = run_import_into(folder)
    page = (first.out / OVERVIEW_FILE).read_bytes()
    assert page == (second.out / OVERVIEW_FILE).read_bytes()

    before = (first.out / OVERVIEW_FILE).stat()
    again = run_import_into(folder, out=first.out)
    assert again.run["counts"]["files_unchanged"] == 2
    after = (first.out / OVERVIEW_FILE).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert (first.out / OVERVIEW_FILE).read_bytes() == page

    write_workbook(
        folder / "it.xlsx",
        {
            "Register": [
                HEADER,
                ["Invoice OCR", "IT", "Ann Lee", "ann@example.org", "In production", "No"],
                ["Ticket routing", "IT", "Raj Patel", "raj@example.org", "Pilot", "No"],
                ["Log anomaly alerts", "IT", "Raj Patel", "raj@example.org", "Idea", "No"],
            ]
        },
    )
    os.utime(folder / "it.xlsx", (1_760_086_400, 1_760_086_400))
    run_import_into(folder, out=first.out)
    changes = page_data(first.out)["changes"]
    assert changes["first_run"] is False
    assert changes["tally"] == {"new": 1, "changed": 1, "gone": 0, "merged": 0}
    items = {item[2]: item for item in changes["items"]}
    assert items["Log anomaly alerts"][0] == "new"
    # Ticket routing moved to pilot; Invoice OCR has newer evidence and nothing else new: no
    # change, as on the Changes sheet and in run.json.
    routing = {f[0]: f[1:] for f in items["Ticket routing"][3]}
    assert routing["stage"] == ["in_development", "pilot"]
    assert set(routing) == {"stage"}  # as the Changes sheet: newer evidence is no change
    assert "Invoice OCR" not in items


def test_snapshot_written_another_way_is_no_change(
    tmp_path: Path, run_import_into: Callable[..., Outputs]
) -> None:
    """A state file whose last inventory was written as JSON with spaces (as older versions
    wrote it) compares by values: the same inventory again is no change."""
    folder = tmp_path / "in"
    write_trackers(folder)
    state = tmp_path / "state.sqlite"
    first = run_import_into(folder, state=state)
    with sqlite3.connect(state) as conn:
        rows = conn.execute("SELECT use_case_id, data FROM inventory_snapshot").fetchall()
        assert rows and all('", "' not in data for _, data in rows)
        conn.executemany(
            "UPDATE inventory_snapshot SET data = ? WHERE use_case_id = ?",
            [(json.dumps(json.loads(data), ensure_ascii=False), uc) for uc, data in rows],
        )
    # A new output folder: everything is written again, from the same state.
    again = run_import_into(folder, state=state)
    changes = page_data(again.out)["changes"]
    assert changes["first_run"] is False
    assert changes["tally"] == {"new": 0, "changed": 0, "gone": 0, "merged": 0}
    assert changes["items"] == []
    assert (again.out / "inventory.json").read_bytes() == (
        first.out / "inventory.json"
    ).read_bytes()


# -- in Chromium --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """A headless Chromium for this module's tests, ended afterwards."""
    executable = chromium_path()
    if executable is None:
        message = (
            "chromium is not installed (Debian: apt-get install chromium; or set "
            "AIINVENTORY_CHROMIUM to the browser)"
        )
        if os.environ.get("AIINVENTORY_REQUIRE_SERVERS") == "1":
            pytest.fail(f"{message}; AIINVENTORY_REQUIRE_SERVERS=1 requires it")
        pytest.skip(message)
    b = Browser(executable, width=1400, height=900)
    try:
        yield b
    finally:
        b.close()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_page_in_chromium(tmp_path: Path, browser: Browser) -> None:
    """The page of a real sample_data import (plus a hostile name) loads without a console
    error or a network request, renders, searches, and shows a value's source on click."""
    write_trackers(tmp_path / "in")
    accented = ["Prévision des coûts", "HR", "Zoë Müller", "zoe@example.org", "Idea", "No"]
    write_workbook(tmp_path / "in" / "hr.xlsx", {"Tracker": [HEADER, accented]})
    out = tmp_path / "out"
    run_import(
        [REPO / "sample_data", tmp_path / "in"], out, mappings_dir=REPO / "sample_data" / "mappings"
    )
    data = page_data(out)
    total = len(data["use_cases"])
    mark = len(browser.events)
    browser.open((out / OVERVIEW_FILE).as_uri())
    assert browser.evaluate("performance.getEntriesByName('overview-rendered').length") == 1

    shot = browser.screenshot(tmp_path / "overview.png")
    assert png_size(shot) == (1400, 900)
    assert len(shot) > 20_000  # a drawn page, not a blank one
    assert browser.evaluate("document.querySelectorAll('#inventory tbody tr').length") == 50
    cards = browser.evaluate("document.querySelector('.cards').textContent")
    # The checkpoint table's last column counts failures, not use cases (the card does).
    checks_head = "document.querySelector('#checks thead').textContent"
    assert browser.evaluate(checks_head).endswith("Failures")
    # A department whose deployed use cases have no idea date is listed, without a median.
    times = browser.evaluate(
        "Array.from(document.querySelectorAll('#time tbody tr')).map(r => r.textContent)"
    )
    listed = {d["department"] for d in data["time_to_production"]["departments"]}
    assert len(times) == len(listed) + 1  # and the total
    assert any(d["median_days"] is None for d in data["time_to_production"]["departments"])
    assert any("\u2013" in t for t in times)
    median = data["time_to_production"]["overall"]["median_days"]
    assert median is not None  # the sample mail dates a deployment
    assert f"Median time to production{median:,g} days" in cards
    assert f"Failing a checkpoint{data['checkpoints']['use_cases_failing']}" in cards
    count = "document.querySelector('#inventory .toolbar .count').textContent"
    assert browser.evaluate(count) == f"{total} of {total} use cases"
    # The checkpoint failures stand where a window of this width shows them.
    assert browser.evaluate(
        "Array.from(document.querySelectorAll('#inventory thead th'))"
        ".find(th => th.textContent.startsWith('Checkpoint failures'))"
        ".getBoundingClientRect().right <= window.innerWidth"
    )
    # Accents and case are ignored by the search: "prevision couts" finds "Prévision des coûts".
    browser.evaluate("document.getElementById('inventory-search').focus()")
    browser.type_text("prevision couts")
    browser.evaluate(
        "new Promise(r => { const t = () => document.querySelector('#inventory .toolbar .count')"
        ".textContent.startsWith('1 of') ? r() : setTimeout(t, 20); t(); })"
    )
    assert "Prévision des coûts" in browser.evaluate(
        "document.querySelector('#inventory tbody').textContent"
    )
    browser.evaluate(
        "(() => { const s = document.getElementById('inventory-search'); s.value = '';"
        " s.dispatchEvent(new Event('input')); })()"
    )
    browser.evaluate(
        f"new Promise(r => {{ const t = () => document.querySelector("
        f"'#inventory .toolbar .count').textContent === '{total} of {total} use cases'"
        f" ? r() : setTimeout(t, 20); t(); }})"
    )

    # Typing in the search box filters the rows.
    browser.evaluate("document.getElementById('inventory-search').focus()")
    browser.type_text("ocr")
    expected = [
        uc
        for uc in data["use_cases"]
        if any("ocr" in json.dumps(v).lower() for v in uc["v"] if v is not None)
    ]
    assert 0 < len(expected) < total
    browser.evaluate(
        f"new Promise(r => {{ const t = () => document.querySelector('#inventory tbody')"
        f".children.length === {len(expected)} ? r() : setTimeout(t, 20); t(); }})"
    )
    assert browser.evaluate(count) == f"{len(expected)} of {total} use cases"

    # Clicking a value opens its use case with the value's source.
    target = min(expected, key=lambda uc: str(uc["v"][0]))
    cell = json.loads(
        browser.evaluate(
            "JSON.stringify(document.querySelector('#inventory tbody tr td.name')"
            ".getBoundingClientRect())"
        )
    )
    assert browser.evaluate("document.querySelector('aside.detail.open')") is None
    browser.click(cell["x"] + 8, cell["y"] + cell["height"] / 2)
    panel = browser.evaluate("document.querySelector('aside.detail.open').textContent")
    sources = {place(data, r)[0] for r in target["r"]}
    assert any(path in panel for path in sources), panel
    rows = {place(data, r)[2] for r in target["r"]}
    assert any(f"row {row}" in panel for row in rows), panel
    focused = "document.querySelector('aside.detail tr.focus').dataset.col"
    assert browser.evaluate(focused) == "name"
    assert (
        browser.evaluate("document.querySelector('aside.detail h3').textContent")
        == (target["v"][1])
    )
    hover = browser.evaluate("document.querySelector('#inventory tbody tr td.name').title")
    assert hover.startswith("Source: ") and any(path in hover for path in sources)

    # The hostile name is shown as text, and nothing ran.
    browser.evaluate("document.querySelector('aside.detail .close').click()")
    browser.evaluate("document.getElementById('inventory-search').select()")
    browser.type_text("onerror")
    browser.evaluate(
        "new Promise(r => { const t = () => document.querySelector('#inventory tbody')"
        ".children.length === 1 ? r() : setTimeout(t, 20); t(); })"
    )
    name = "document.querySelector('#inventory tbody td.name').textContent"
    assert browser.evaluate(name) == HOSTILE
    assert browser.evaluate("document.images.length") == 0
    browser.screenshot(tmp_path / "overview-search.png")
    events = browser.events[mark:]
    assert not [e for e in events if e.get("method") == "Page.javascriptDialogOpening"]
    assert browser.problems() == []
    # Sorting is a button in the header cell (keyboard too), its state said by aria-sort.
    sort_by_name = (
        "Array.from(document.querySelectorAll('#inventory thead th button.sorter'))"
        ".find(b => b.textContent.startsWith('Name'))"
    )
    browser.evaluate(f"{sort_by_name}.focus()")
    browser.evaluate(f"{sort_by_name}.click()")
    assert browser.evaluate(f"{sort_by_name}.parentNode.getAttribute('aria-sort')") in (
        "ascending",
        "descending",
    )
