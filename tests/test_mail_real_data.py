"""Every real message in ../shared/data/mail is parsed or rejected with a reason; none crashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiinventory.mail import MailCounts, extract_mail
from aiinventory.mappings import load_mappings
from aiinventory.normalize import Normalizer
from aiinventory.schema import Reject, SourceRecord
from aiinventory.spreadsheets.extract import FileReport
from aiinventory.warnings_log import WarningLog

MAIL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mail"

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not MAIL.is_dir(), reason="../shared/data/mail is absent"),
]


def _sources() -> list[Path]:
    if not MAIL.is_dir():
        return []
    files = [
        p
        for p in sorted(MAIL.rglob("*"))
        if p.is_file()
        and p.name not in ("README.corpora",)
        and not p.name.endswith("_reply_text")
        and p.suffix != ".html"
    ]
    return files


def test_every_real_message_is_a_record_a_counted_skip_or_a_reject() -> None:
    mappings = load_mappings(None)
    normalizer = Normalizer(mappings, WarningLog())
    read = 0
    file_rejects: dict[str, int] = {}
    for path in _sources():
        counts = MailCounts()
        report = FileReport(source_path=path.as_posix())
        results = list(
            extract_mail(
                path, path.as_posix(), Path(path.name), mappings, normalizer, report, counts
            )
        )
        records = sum(1 for r in results if isinstance(r, SourceRecord))
        rejects = [r for r in results if isinstance(r, Reject)]
        assert all(r.reason_code and r.message for r in rejects)
        if report.failed:
            # A file that is not mail at all (a bare body saved as .txt) is one reject, typed.
            assert counts.messages_read == 0 and len(rejects) == 1, path
            file_rejects[rejects[0].reason_code] = file_rejects.get(rejects[0].reason_code, 0) + 1
            continue
        skipped = sum(counts.messages_skipped.values())
        assert counts.messages_read >= 1, path
        # Each message is accounted for (a message may yield several records).
        assert records + len(rejects) + skipped >= counts.messages_read, path
        read += counts.messages_read
    assert read >= 350
    assert set(file_rejects) <= {"corrupt", "empty_file", "unsupported_format"}
    assert sum(file_rejects.values()) < 80
