"""Reading caps set in settings.yaml: the shipped values are the code's, a --mappings folder
overrides them for a real import, bad values are refused naming file and line, and the mail
parts a cap skipped are counted in run.json."""

from __future__ import annotations

import csv
import json
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from aiinventory.cli import main
from aiinventory.errors import ConfigError
from aiinventory.mail.limits import MailLimits
from aiinventory.mappings import default_mappings_dir, load_mappings
from aiinventory.spreadsheets.preflight import Limits

from .conftest import write_workbook


def _message(path: Path, name: str, attachments: int = 0, filler: int = 2000) -> Path:
    msg = EmailMessage()
    msg["From"] = "Dana Ruiz <dana.ruiz@example.org>"
    msg["To"] = "ai-intake@example.org"
    msg["Subject"] = f"New AI use case request: {name}"
    msg["Date"] = "Tue, 04 Mar 2025 09:15:00 +0000"
    msg["Message-ID"] = f"<{name.replace(' ', '-')}@example.org>"
    body = f"Use case: {name}\nDepartment: Finance\nStage: Pilot\n" + "x " * filler
    msg.set_content(body + "\n")
    for i in range(attachments):
        msg.add_attachment(f"note {i}\n".encode(), "text", "plain", filename=f"note{i}.txt")
    path.write_bytes(msg.as_bytes())
    return path


def _import(*args: str) -> tuple[int, str, dict[str, object]]:
    result = CliRunner().invoke(main, ["import", *args])
    out = Path(args[args.index("--out") + 1])
    summary = json.loads((out / "run.json").read_text()) if (out / "run.json").exists() else {}
    return result.exit_code, result.output, summary


def _rejects(out: Path) -> list[dict[str, str]]:
    with (out / "rejects.csv").open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_the_shipped_settings_list_every_cap_with_the_code_default() -> None:
    settings = load_mappings().settings
    assert settings.spreadsheet_limits() == Limits()
    assert settings.mail_limits() == MailLimits()
    assert set(settings.spreadsheet_limit_values) == set(Limits.__dataclass_fields__)
    assert set(settings.mail_limit_values) == set(MailLimits.__dataclass_fields__)
    assert "limits:" in (default_mappings_dir() / "settings.yaml").read_text(encoding="utf-8")


def test_a_mappings_folder_lowers_the_caps_of_a_real_import(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    _message(inputs / "big.eml", "Invoice OCR")
    _message(inputs / "small.eml", "Call summaries", filler=10)
    workbook = write_workbook(
        inputs / "tracker.xlsx", {"S": [["Use case"]] + [[f"Case {i}"] for i in range(40)]}
    )

    code, output, summary = _import(str(inputs), "--out", str(tmp_path / "plain"))
    assert code == 0, output
    assert summary["counts"]["records"] == 42  # type: ignore[index]

    maps = tmp_path / "maps"
    maps.mkdir()
    cap = workbook.stat().st_size - 1
    (maps / "settings.yaml").write_text(
        f"limits:\n  spreadsheet:\n    max_file_bytes: {cap}\n"
        "  mail:\n    max_message_bytes: 2000\n",
        encoding="utf-8",
    )
    code, output, summary = _import(
        str(inputs), "--out", str(tmp_path / "capped"), "--mappings", str(maps)
    )
    assert code == 3, output
    rejects = {Path(r["source_path"]).name: r for r in _rejects(tmp_path / "capped")}
    assert set(rejects) == {"big.eml", "tracker.xlsx"}
    assert {r["reason_code"] for r in rejects.values()} == {"too_large"}
    size = (inputs / "big.eml").stat().st_size
    assert f"it is {size / 1024:,.0f} KB, over the cap of 2 KB" in rejects["big.eml"]["message"]
    assert "limits.mail.max_message_bytes in settings.yaml" in rejects["big.eml"]["message"]
    assert (
        "raise limits.spreadsheet.max_file_bytes in the mappings folder's settings.yaml"
        in (rejects["tracker.xlsx"]["message"])
    )
    assert summary["counts"]["records"] == 1  # type: ignore[index]


def test_parts_a_cap_skipped_are_counted_in_run_json(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    _message(inputs / "notes.eml", "Invoice OCR", attachments=5)
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "settings.yaml").write_text(
        "limits:\n  mail:\n    max_attachments: 1\n", encoding="utf-8"
    )
    code, output, summary = _import(
        str(inputs), "--out", str(tmp_path / "out"), "--mappings", str(maps)
    )
    assert code == 0, output
    assert summary["counts"]["parts_skipped"] == 4  # type: ignore[index]
    # One note names them, not one note each (a message may have hundreds).
    notes = [w["message"] for w in summary["warnings"] if "not read" in w["message"]]  # type: ignore[attr-defined]
    assert len(notes) == 1
    assert notes[0].endswith(
        "4 attachments not read ('note1.txt', 'note2.txt', 'note3.txt', …): the message has "
        "more than 1 attachments (MailLimits.max_attachments)"
    )
    code, output, summary = _import(str(inputs), "--out", str(tmp_path / "default"))
    assert summary["counts"]["parts_skipped"] == 0  # type: ignore[index]


BAD = [
    ("limits:\n  spreadsheet:\n    max_rowz: 10\n", 3, "limits.spreadsheet.max_rowz: unknown cap"),
    ("limits:\n  mail:\n    max_attachments: 0\n", 3, "must be a positive whole number (got 0)"),
    ("limits:\n  mail:\n    max_text_chars: 2.5\n", 3, "must be a positive whole number"),
    ("day_first: false\nlimits:\n  pst: {}\n", 3, "limits.pst: unknown section"),
    (
        "limits:\n  spreadsheet:\n    max_sheets: 5\n    max_compression_ratio: yes\n",
        4,
        "must be a positive number (got True)",
    ),
    ("limits: 7\n", 1, "limits must be a mapping"),
]


@pytest.mark.parametrize(("text", "line", "words"), BAD)
def test_a_bad_cap_is_refused_naming_file_and_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    (tmp_path / "settings.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_mappings(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'settings.yaml'}, line {line}: "), message
    assert words in message


def test_a_bad_cap_stops_the_import_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "settings.yaml").write_text(BAD[1][0], encoding="utf-8")
    book = write_workbook(tmp_path / "t.xlsx", {"S": [["Use case"], ["Alpha"]]})
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["import", str(book), "--out", str(out), "--mappings", str(tmp_path / "maps")]
    )
    assert result.exit_code == 2 and "settings.yaml, line 3" in result.stderr
    assert not out.exists()
