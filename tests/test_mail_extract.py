"""extract_mail end to end over real mailboxes: intakes, updates, forwards, attachments, skips."""

from __future__ import annotations

import io
import json
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import openpyxl
import pytest

from aiinventory.mail import MailCounts, extract_mail, inspect_mail
from aiinventory.mail.field_extraction import name_from_subject, prose_text
from aiinventory.mappings import load_mappings
from aiinventory.normalize import Normalizer
from aiinventory.schema import Reject, SourceRecord
from aiinventory.spreadsheets.extract import FileReport
from aiinventory.warnings_log import WarningLog

from .mail_messages import message_with_attachment, plain_message

SAMPLE_MAIL = Path(__file__).resolve().parents[1] / "sample_data" / "mail"


def _mbox(path: Path, messages: list[bytes]) -> Path:
    path.write_bytes(
        b"".join(b"From x@y Mon Jan  1 00:00:00 2025\n" + m + b"\n\n" for m in messages)
    )
    return path


def _extract(path: Path) -> tuple[list[SourceRecord], list[Reject], MailCounts]:
    mappings = load_mappings(None)
    counts = MailCounts()
    results = list(
        extract_mail(
            path,
            path.name,
            Path(path.name),
            mappings,
            Normalizer(mappings, WarningLog()),
            FileReport(source_path=path.name),
            counts,
        )
    )
    records = [r for r in results if isinstance(r, SourceRecord)]
    rejects = [r for r in results if isinstance(r, Reject)]
    assert counts.records == len(records) and counts.rejects == len(rejects)
    return records, rejects, counts


INTAKE = plain_message(
    "intake@x",
    "New AI use case: Invoice OCR",
    "Hi board,\n\nUse case: Invoice OCR\nDepartment: Finance\nOwner - Dana Lee\nStatus: Proposed\n"
    "Vendor: ABBYY\n\nThanks,\nPriya\n",
    "Mon, 03 Mar 2025 09:00:00 +0000",
)
PILOT = plain_message(
    "pilot@x",
    "Re: New AI use case: Invoice OCR",
    "Looks good, moving this to pilot next week.\n\n> Use case: Invoice OCR\n> Status: Proposed\n",
    "Mon, 10 Mar 2025 09:00:00 +0000",
    sender="Marcus <m@example.com>",
    refs="<intake@x>",
)
LIVE = plain_message(
    "live@x",
    "RE: New AI use case: Invoice OCR",
    "Status: Deployed\n\nPlease make Sam Okoro the owner from now on.\n",
    "Mon, 02 Jun 2025 09:00:00 +0000",
    refs="<intake@x> <pilot@x>",
)
LUNCH = plain_message("lunch@x", "Lunch?", "Lunch at 12?\n", "Mon, 03 Mar 2025 11:00:00 +0000")


@pytest.mark.parametrize(
    ("body", "stage"),
    [
        ("Status update: Invoice OCR is now deployed.\n", "deployed"),
        ("Good news - the model has been fully deployed.\n", "deployed"),
        ("I can confirm the chatbot is now deployed to all staff.\n", "deployed"),
        ("After a successful pilot, the tool is now deployed across HR.\n", "deployed"),
        ("We said we'd write once it is deployed. Update: it is now deployed.\n", "deployed"),
        # A later retirement in the same reply wins over a past deployment.
        ("It was deployed in 2021 but has been decommissioned since.\n", "retired"),
        # Said by who did it.
        ("We retired Invoice OCR on 2 May.\n", "retired"),
        ("We have retired it as of today.\n", "retired"),
        ("We've decommissioned the OCR tool.\n", "retired"),
        ("We switched off Invoice OCR last Friday.\n", "retired"),
        ("We are no longer pursuing Invoice OCR.\n", "rejected"),
        ("Invoice OCR moved back to development after the audit.\n", "in_development"),
        ("We\u2019ve retired it.\n", "retired"),  # the apostrophe Outlook types
        ("We\u2019re no longer pursuing the chatbot.\n", "rejected"),
        ("They have shelved the OCR project.\n", "rejected"),
        ("We have not retired it yet.\n", None),
        # What someone did to something else, asked, or on a condition: no news of the use case.
        ("Have we decommissioned the old bot yet?\n", None),
        ("If we shut down the legacy tool, who answers the calls?\n", None),
        ("I retired last year, so please contact Sam about Invoice OCR.\n", None),
        ("They've shut down the shared drive, so please send the tracker by mail.\n", None),
        ("I shut down my laptop and will pick this up tomorrow.\n", None),
        ("We have shelved the discussion until next week.\n", None),
        ("We have abandoned the old rules-based approach in favour of this model.\n", None),
        ("We are no longer pursuing that option; Invoice OCR stays as it is.\n", None),
        ("We\u2019ve retired the Invoice OCR.\n", "retired"),
        ("We retired all three models.\n", "retired"),
        ("We've turned off the summarisation feature.\n", "retired"),
        ("After the audit we retired Invoice OCR.\n", "retired"),  # a time, no condition
        # A name that is not the use case's (the reply is about Invoice OCR), or a day.
        ("We shut down Teams for the weekend.\n", None),
        ("We retired Jane from the team.\n", None),
        ("We shut down Dec 24 for the holidays.\n", None),
        # Not a stage change: said of the pilot group or UAT, not done, asked or to come.
        ("It has been deployed to the pilot group for now.\n", None),
        ("It is deployed to UAT only.\n", None),
        ("We have deployed nothing yet, still waiting on security.\n", None),
        ("Can you confirm whether it is deployed?\n", None),
        ("We will update the register once it is deployed.\n", None),
    ],
)
def test_a_reply_saying_it_is_deployed_or_retired_updates_the_stage(
    tmp_path: Path, body: str, stage: str | None
) -> None:
    reply = plain_message(
        "deployed@x",
        "RE: New AI use case: Invoice OCR",
        body,
        "Mon, 02 Jun 2025 09:00:00 +0000",
        refs="<intake@x>",
    )
    records, _, _ = _extract(_mbox(tmp_path / "a.mbox", [INTAKE, reply]))
    updates = [r for r in records if r.message_id == "deployed@x"]
    assert [r.stage for r in updates] == ([stage] if stage else [])


@pytest.mark.parametrize(
    ("body", "stage"),
    [
        ("Hi team, Status: Deployed\n", "deployed"),
        ("Dear all! Stage: Pilot\n", "pilot"),
        ("Hello Marcus - Status: Retired\n", "retired"),
        ("Hallo zusammen, Status: Produktiv\n", "deployed"),
        ("Good morning: status: deployed\n", "deployed"),
        ("All, Status: Deployed\n", "deployed"),
        # A sentence after the greeting, not a label: nothing is read from it.
        ("Hi team, a quick word on the status: pilot it is not, yet.\n", None),
        ("All claims, Status: Deployed\n", None),
    ],
)
def test_a_label_after_a_greeting_on_its_line_is_read(
    tmp_path: Path, body: str, stage: str | None
) -> None:
    reply = plain_message(
        "greeted@x",
        "RE: New AI use case: Invoice OCR",
        body,
        "Mon, 02 Jun 2025 09:00:00 +0000",
        refs="<intake@x>",
    )
    records, _, _ = _extract(_mbox(tmp_path / "a.mbox", [INTAKE, reply]))
    updates = [r for r in records if r.message_id == "greeted@x"]
    assert [(r.name, r.stage) for r in updates] == ([("Invoice OCR", stage)] if stage else [])


def test_an_intake_form_starting_on_its_greetings_line_is_read(tmp_path: Path) -> None:
    raw = plain_message(
        "greeting-form@x",
        "AI use case",
        "Hi board, Use case: Invoice OCR\nDepartment: Finance\nStatus: Pilot\n",
        "Mon, 03 Mar 2025 09:00:00 +0000",
    )
    path = tmp_path / "x.eml"
    path.write_bytes(raw)
    (record,) = _extract(path)[0]
    assert (record.name, record.department, record.stage) == ("Invoice OCR", "Finance", "pilot")


#: Labelled lines of other things that list mail carries, each under a subject of its own.
_LISTINGS = {
    "package": (
        "[R-pkgs] new package: boostr 0.3",
        "Dear useRs,\n\na new package is on CRAN:\n\nPackage: boostr\nVersion: 0.3\n"
        "Title: Gradient Boosting for Machine Learning Models\nAuthor: Jo Bloggs\n"
        "Maintainer: Jo Bloggs <jo@example.org>\nDepends: R (>= 3.5)\n"
        "Description: Fits boosted trees, a machine learning method.\nLicense: GPL-2\n",
    ),
    "program output": (
        "Re: MPI installation fails",
        "Here is what yum says:\n\nName        : openmpi\nArch        : x86_64\n"
        "Version     : 1.10.7\nRelease     : 5.el7\nSize        : 3.0 M\nRepo        : base\n"
        "Summary     : Open Message Passing Interface\n",
    ),
    "process status": (
        "Re: workers use one core only",
        "proc status output:\n\nName:\tR\nState:\tR (running)\nTgid:\t31571\nPid:\t31571\n"
        "PPid:\t7664\nTracerPid:\t0\nVmPeak:\t560904 kB\n",
    ),
    "scrubbed attachment": (
        "Re: plotting trees",
        "See the plot.\n\nPlatform: x86_64-pc-linux-gnu (64-bit)\n"
        "-------------- next part --------------\nA non-text attachment "
        "was scrubbed...\nName: Trees.png\nType: image/png\nSize: 21345 bytes\n"
        "Desc: not available\nURL: <https://lists.example.org/pipermail/attachment.png>\n",
    ),
    "job advert": (
        "[R-sig-Jobs] Research Associate, machine learning",
        "Title: Research Associate\nLocation: New York City\nTerm: Part time, 6 months\n"
        "Contact: Marc Doe <marc@example.org>\n\nWe use machine learning on time series.\n",
    ),
}


@pytest.mark.parametrize("kind", sorted(_LISTINGS))
def test_labelled_lines_that_list_other_things_are_no_intake(tmp_path: Path, kind: str) -> None:
    subject, body = _LISTINGS[kind]
    message = plain_message("list@x", subject, body, "Mon, 03 Mar 2025 09:00:00 +0000")
    records, rejects, counts = _extract(_mbox(tmp_path / "list.mbox", [message]))
    assert (records, rejects) == ([], [])
    assert counts.messages_skipped == {"not_about_a_use_case": 1}


@pytest.mark.parametrize(
    ("subject", "body", "stage"),
    [
        # "Name:" and "Title:" name a use case in a form of one, in mail that speaks of AI.
        (
            "New AI use case",
            "Name: Invoice OCR\nDepartment: Finance\nOwner: Dana Lee\nStatus: Pilot\n",
            "pilot",
        ),
        (
            "Register please",
            "Title: Claims triage\nStatus: Live\nDescription: a machine learning model that "
            "ranks claims.\nBudget: 50k\n",
            "deployed",
        ),
        # A form of a use case's fields with labels of its own, no word of AI in it.
        (
            "Claims triage model - for the register",
            "Name: Claims triage\nDepartment: Claims\nOwner: Dana Lee\nStatus: Pilot\n"
            "Budget: 50k EUR\nCost centre: 4411\nSponsor: Sam Okoro\nGo-live target: Q3\n"
            "Data sources: claims history\n",
            "pilot",
        ),
        (
            "Register please",
            "Title: Claims triage\nOwner: Dana Lee\nStage: Idea\nVendor: Acme\n",
            "idea",
        ),
        # A label that names a use case needs none of that.
        ("Invoice OCR", "Use case: Invoice OCR\nStatus: Idea\nVersion: 2\nBuild: 7\n", "idea"),
    ],
)
def test_a_form_of_a_use_case_under_a_plain_name_label_is_an_intake(
    tmp_path: Path, subject: str, body: str, stage: str
) -> None:
    message = plain_message("form@x", subject, body, "Mon, 03 Mar 2025 09:00:00 +0000")
    records, _, _ = _extract(_mbox(tmp_path / "form.mbox", [message]))
    assert [r.stage for r in records] == [stage]


@pytest.mark.parametrize(("answer", "stage"), [("Yes", "deployed"), ("No", "unknown")])
def test_an_in_production_question_in_mail_says_the_stage(
    tmp_path: Path, answer: str, stage: str
) -> None:
    intake = plain_message(
        "q@x",
        "New AI use case: Invoice OCR",
        f"Use case: Invoice OCR\nIn production?: {answer}\nOwner: Dana Lee\n",
        "Mon, 03 Mar 2025 09:00:00 +0000",
    )
    mappings = load_mappings(None)
    warnings = WarningLog()
    records = [
        r
        for r in extract_mail(
            _mbox(tmp_path / "a.mbox", [intake]),
            "a.mbox",
            Path("a.mbox"),
            mappings,
            Normalizer(mappings, warnings),
            FileReport(source_path="a.mbox"),
            MailCounts(),
        )
        if isinstance(r, SourceRecord)
    ]
    assert [r.stage for r in records] == [stage]
    assert not [w for w in warnings.items() if w.code == "unmapped_value"]


def test_intake_and_updates_become_dated_records_of_one_use_case(tmp_path: Path) -> None:
    records, rejects, counts = _extract(_mbox(tmp_path / "a.mbox", [INTAKE, PILOT, LUNCH, LIVE]))
    assert rejects == []
    assert [r.message_id for r in records] == ["intake@x", "pilot@x", "live@x"]
    assert {r.name for r in records} == {"Invoice OCR"}
    assert len({r.thread_id for r in records}) == 1
    assert len({r.record_id for r in records}) == 3
    intake, pilot, live = records
    assert (intake.stage, intake.department, intake.owner_name, intake.vendor_name) == (
        "idea",
        "Finance",
        "Dana Lee",
        "ABBYY",
    )
    assert pilot.stage == "pilot" and pilot.owner_name is None and pilot.department is None
    assert (live.stage, live.owner_name) == ("deployed", "Sam Okoro")
    assert [r.last_updated.isoformat() for r in records if r.last_updated] == [
        "2025-03-03T09:00:00+00:00",
        "2025-03-10T09:00:00+00:00",
        "2025-06-02T09:00:00+00:00",
    ]
    assert "mail_update_phrase" in pilot.flags
    assert counts.messages_read == 4 and counts.messages_skipped == {"not_about_a_use_case": 1}
    assert (counts.intakes, counts.updates, counts.threads) == (1, 2, 2)


def test_an_owner_change_keeps_name_and_address_together_and_skips_are_named(
    tmp_path: Path,
) -> None:
    from aiinventory import api

    intake = plain_message(
        "i@x",
        "New AI use case: Invoice OCR",
        "Use case: Invoice OCR\nOwner: Priya Shah\nStatus: Proposed\n",
        "Mon, 03 Mar 2025 09:00:00 +0000",
    )  # the sender is the owner: her address is taken
    handover = plain_message(
        "h@x",
        "RE: New AI use case: Invoice OCR",
        "Please make Dana Lee the owner of Invoice OCR from now on.\n",
        "Mon, 10 Mar 2025 09:00:00 +0000",
        refs="<i@x>",
    )
    with_address = handover.replace(b"Dana Lee the", b"Dana Lee (dana.lee@x.example) the")
    # A person's message that may be about a use case, but names none: named in a warning.
    question = plain_message(
        "c@x",
        "AI register",
        "Hi, who is the owner of the register, and which stage is our chatbot at?\n",
        "Mon, 03 Mar 2025 11:00:00 +0000",
    )
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "1.eml").write_bytes(intake)
    (folder / "2.eml").write_bytes(handover)
    (folder / "3.eml").write_bytes(question)
    # Mail of other things, even with labelled lines, is counted only.
    offsite = plain_message(
        "o@x",
        "Team offsite",
        "Status: confirmed\nOwner: Facilities\n",
        "Tue, 04 Mar 2025 09:00:00 +0000",
    )
    (folder / "4.eml").write_bytes(offsite)
    # A Japanese intake, in ISO-2022-JP: no label is known, but "AI" in its subject is seen.
    japanese = EmailMessage(policy=SMTP)
    japanese["From"] = "Sato <sato@x.example>"
    japanese["Subject"] = "AIユースケース登録: 議事録要約"
    japanese["Date"] = "Wed, 05 Mar 2025 09:00:00 +0900"
    japanese["Message-ID"] = "<jp@x>"
    japanese.set_content("ユースケース名: 議事録要約\nステータス: 試行中\n", charset="iso-2022-jp")
    (folder / "5.eml").write_bytes(japanese.as_bytes())
    result = api.run_import([folder], tmp_path / "out")
    inventory = (tmp_path / "out" / "inventory.csv").read_text(encoding="utf-8-sig")
    # Priya's address is none of Dana Lee's.
    assert ",Dana Lee,," in inventory and "priya.shah" not in inventory
    warnings = result.summary.model_dump()["warnings"]
    named = [w["message"] for w in warnings if w["code"] == "message_not_read"]
    assert len(named) == 2 and "(Message-ID <c@x>, subject 'AI register')" in named[0]
    assert "(Message-ID <jp@x>, subject 'AIユースケース登録: 議事録要約')" in named[1]
    (folder / "2.eml").write_bytes(with_address)
    api.run_import([folder], tmp_path / "out")
    inventory = (tmp_path / "out" / "inventory.csv").read_text(encoding="utf-8-sig")
    assert ",Dana Lee,dana.lee@x.example," in inventory


def _with_calendar(method: str) -> bytes:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "AI Governance <gov@x.example>"
    msg["To"] = "jane@x.example"
    msg["Subject"] = "AI Governance Board - review Invoice OCR"
    msg["Date"] = "Tue, 04 Mar 2025 09:00:00 +0100"
    msg["Message-ID"] = f"<cal-{method}@x>"
    msg.set_content("Agenda\n\nUse case: Invoice OCR\nOwner: Jane Smith\nStage: Pilot review\n")
    calendar = (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:{method}\r\nBEGIN:VEVENT\r\n"
        "SUMMARY:Review Invoice OCR\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    msg.add_alternative(calendar, subtype="calendar", params={"method": method})
    return msg.as_bytes()


def test_a_meeting_invitation_is_no_use_case_news(tmp_path: Path) -> None:
    # Its agenda names the use case and a stage: still an invitation, not an update.
    for method in ("REQUEST", "CANCEL"):
        path = tmp_path / f"{method}.eml"
        path.write_bytes(_with_calendar(method))
        records, rejects, counts = _extract(path)
        assert (records, rejects) == ([], [])
        assert counts.messages_skipped == {"calendar_invite": 1}
    # A calendar published as a file is not an invitation: the intake is read.
    path = tmp_path / "publish.eml"
    path.write_bytes(_with_calendar("PUBLISH"))
    records, _, _ = _extract(path)
    assert [r.name for r in records] == ["Invoice OCR"]


@pytest.mark.parametrize(
    ("body", "language", "deployed"),
    [
        # French words: day-first.
        (
            "Bonjour,\n\nVoici un nouveau cas d'usage à inscrire à l'inventaire.\n\n"
            "Cas d'usage : Assistant réclamations\nStatut : En production\n"
            "Date de mise en production : 12/02/2025\n",
            None,
            "2025-02-12",
        ),
        # Said by the message: British English day-first, American English month-first.
        ("Use case: Claims bot\nStatus: Live\nGo-live date: 12/02/2025\n", "en-GB", "2025-02-12"),
        ("Use case: Claims bot\nStatus: Live\nGo-live date: 12/02/2025\n", "en-US", "2025-12-02"),
        # Live on the day it was sent (20 March 2025): 2 December had not come.
        ("Use case: Claims bot\nStatus: Live\nGo-live date: 12/02/2025\n", None, "2025-02-12"),
        # Nothing tells: the setting (month-first), with a warning as before.
        ("Use case: Claims bot\nStatus: Idea\nGo-live date: 12/02/2025\n", None, "2025-12-02"),
    ],
)
def test_a_messages_language_orders_its_dates(
    tmp_path: Path, body: str, language: str | None, deployed: str
) -> None:
    raw = plain_message("d@x", "AI use case", body, "Thu, 20 Mar 2025 15:10:00 +0100")
    if language:
        raw = raw.replace(b"Content-Type:", f"Content-Language: {language}\nContent-Type:".encode())
    path = tmp_path / "d.eml"
    path.write_bytes(raw)
    records, _, _ = _extract(path)
    assert [r.date_deployed for r in records] == [deployed]


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("Quick note: this is still at the idea stage, nothing built yet.", "idea"),
        ("We are in the early concept phase with procurement.", "idea"),
        ("For now it is still just an idea.", "idea"),
        ("The chatbot is still in pilot with two teams.", "pilot"),
        ("It is still in development.", "in development"),
        ("The board approved this today; it moves to pilot.", "pilot"),
        ("Quick update: the pilot has started.", "pilot"),
        ("The pilot is live in two branches.", "pilot"),
        ("FYI we switched it off last week, it is retired.", "retired"),
        ("We have decided not to proceed with this one.", "rejected"),
        ("Once the pilot has started we will report back.", None),
        # The later news wins over a pilot that started before it.
        ("The pilot was launched in March and it went live in June.", "deployed"),
        ("The pilot started in March and the assistant is now in production.", "deployed"),
        # Not a stage: a request declined, data taken in, an idea for a feature.
        ("The vendor asked whether to proceed with a paid add-on; we turned it down.", None),
        ("The model takes in production data every night.", None),
        ("It is just an idea, but the pilot users asked for Teams integration.", None),
        # Not a stage: a proposal named, an idea offered.
        ("Here is an idea for the claims team: summarise calls.", None),
        ("The proposal stage of the process closes on Friday.", None),
    ],
)
def test_a_stage_said_in_prose(text: str, stage: str | None) -> None:
    from aiinventory.mail.field_extraction import update_phrases

    assert update_phrases(text).values.get("stage") == stage


@pytest.mark.parametrize(
    ("text", "owner", "address"),
    [
        ("Please make Dana Lee (dana.lee@x.example) the owner.", "Dana Lee", "dana.lee@x.example"),
        ("Ownership moves to Sam Okoro <sam@x.example> next week.", "Sam Okoro", "sam@x.example"),
        ("The new owner is now Sam Okoro.", "Sam Okoro", None),
        ("Ownership moves to the data team.", None, None),
    ],
)
def test_an_owner_change_in_words_with_its_address(
    text: str, owner: str | None, address: str | None
) -> None:
    from aiinventory.mail.field_extraction import update_phrases

    said = update_phrases(text).values
    assert (said.get("owner_name"), said.get("owner_email")) == (owner, address)


@pytest.mark.parametrize(
    ("body", "sent", "stage", "dates"),
    [
        (
            "Quick update: the invoice OCR pilot went live on 3 March.\n",
            "Mon, 10 Mar 2025 09:00:00 +0000",
            "deployed",
            ("2025-03-03", None),
        ),
        (
            "Status: Deployed. Go-live date: 3 March 2025.\n",
            "Mon, 10 Mar 2025 09:00:00 +0000",
            "deployed",
            ("2025-03-03", None),
        ),
        # A day without its year, after the message's own day: the year before.
        (
            "FYI it was decommissioned on 30 June after the review.\n",
            "Fri, 02 Jan 2026 09:00:00 +0000",
            "retired",
            (None, "2025-06-30"),
        ),
        # The day of something else in another sentence dates nothing.
        (
            "It has been deployed. Training starts on 3 March.\n",
            "Mon, 10 Feb 2025 09:00:00 +0000",
            "deployed",
            (None, None),
        ),
    ],
)
def test_an_update_dates_the_stage_it_states(
    tmp_path: Path, body: str, sent: str, stage: str, dates: tuple[str | None, str | None]
) -> None:
    update = plain_message("u@x", "RE: New AI use case: Invoice OCR", body, sent, refs="<intake@x>")
    records, _, _ = _extract(_mbox(tmp_path / "u.mbox", [INTAKE, update]))
    (record,) = [r for r in records if r.message_id == "u@x"]
    assert (record.stage, record.date_deployed, record.date_retired) == (stage, *dates)
    # The raw value is what the message says, not the day with the year it was given.
    for fname in ("date_deployed", "date_retired"):
        if fname in record.raw:
            assert record.raw[fname] in body, (fname, record.raw[fname])


def test_update_before_its_intake_in_the_file_still_takes_the_thread_name(tmp_path: Path) -> None:
    records, _, _ = _extract(_mbox(tmp_path / "b.mbox", [LIVE, PILOT, INTAKE]))
    assert sorted(r.message_id or "" for r in records) == ["intake@x", "live@x", "pilot@x"]
    assert {r.name for r in records} == {"Invoice OCR"}


def test_reply_read_alone_takes_its_name_from_the_quoted_intake(tmp_path: Path) -> None:
    path = tmp_path / "reply.eml"
    path.write_bytes(PILOT)
    (record,) = _extract(path)[0]
    assert (record.name, record.stage, record.message_id) == ("Invoice OCR", "pilot", "pilot@x")


def test_duplicates_and_chatter_are_counted_skips(tmp_path: Path) -> None:
    _, rejects, counts = _extract(_mbox(tmp_path / "c.mbox", [INTAKE, INTAKE, LUNCH]))
    assert rejects == []
    assert counts.records == 1
    assert counts.messages_skipped == {"duplicate_message": 1, "not_about_a_use_case": 1}


PROSE_INTAKE = plain_message(
    "prose@x",
    "New AI use case for registration - Copilot for claims letters",
    "Hi team,\n\nwe'd like to register a new AI use case. We are piloting Microsoft 365 Copilot"
    "\nin Claims to draft customer letters; a handler reviews each letter.\n\nKind regards,\n"
    "Maria Rossi\nHead of Claims Operations\n",
    "Tue, 04 Mar 2025 09:14:00 +0000",
    sender="Maria Rossi <maria.rossi@example.com>",
)


def test_an_intake_written_in_sentences_is_read_from_its_subject_and_text(
    tmp_path: Path,
) -> None:
    live = plain_message(
        "prose-live@x",
        "RE: New AI use case for registration - Copilot for claims letters",
        "Quick update for the register: Copilot for claims letters is now live for all "
        "handlers.\n\nTom\n",
        "Mon, 02 Jun 2025 16:40:00 +0000",
        sender="Tom Berg <tom.berg@example.com>",
        refs="<prose@x>",
    )
    records, rejects, counts = _extract(_mbox(tmp_path / "p.mbox", [PROSE_INTAKE, live]))
    assert rejects == [] and counts.messages_skipped == {}
    intake, update = sorted(records, key=lambda r: r.last_updated)
    assert intake.name == update.name == "Copilot for claims letters"
    # The text without its greeting and signature is the description; the stage is said in it.
    assert intake.description == (
        "we'd like to register a new AI use case. We are piloting Microsoft 365 Copilot in "
        "Claims to draft customer letters; a handler reviews each letter."
    )
    assert (intake.stage, intake.owner_name) == ("pilot", "Maria Rossi")
    assert "mail_prose" in intake.flags
    assert (update.stage, update.owner_name) == ("deployed", None)


def test_a_request_in_sentences_without_stage_words_or_passed_on_is_still_read(
    tmp_path: Path,
) -> None:
    plain = plain_message(
        "plain@x",
        "AI use case registration: Meeting notes bot",
        "Hello,\n\nThe sales team wants a bot that writes up meeting notes from Teams calls.\n",
        "Mon, 03 Mar 2025 09:00:00 +0000",
        sender="Ana Ruiz <ana.ruiz@example.com>",
    )
    passed_on = plain_message(
        "fw@x",
        "FW: New AI use case request: Contract clause extraction",
        "FYI - for the register.\n\n-----Original Message-----\n"
        "From: Jonas Weber <jonas.weber@example.com>\nSent: Tuesday, March 4, 2025 4:12 PM\n"
        "To: Lena Fischer <lena.fischer@example.com>\n"
        "Subject: New AI use case request: Contract clause extraction\n\nHi Lena,\n\n"
        "Legal would like to try Luminance to extract renewal clauses from contracts.\n\n"
        "Thanks,\nJonas\n",
        "Wed, 05 Mar 2025 10:00:00 +0000",
        sender="Lena Fischer <lena.fischer@example.com>",
    )
    records, _, _ = _extract(_mbox(tmp_path / "r.mbox", [plain, passed_on]))
    got = {r.name: (r.description, r.owner_name, r.owner_email) for r in records}
    assert got == {
        "Meeting notes bot": (
            "The sales team wants a bot that writes up meeting notes from Teams calls.",
            "Ana Ruiz",
            "ana.ruiz@example.com",
        ),
        # Passed on: the request's own text, its writer the owner (not who forwarded it).
        "Contract clause extraction": (
            "Legal would like to try Luminance to extract renewal clauses from contracts.",
            "Jonas Weber",
            "jonas.weber@example.com",
        ),
    }


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        # The subject names no use case.
        ("Copilot for claims letters", "We are piloting Copilot in Claims for letters.\n"),
        # A status update is no request to register one: its sender is not the owner.
        ("Status update: Invoice OCR", "Invoice OCR went live last week for all of AP.\n"),
        # Nothing but a greeting under the subject.
        ("New AI use case: Invoice OCR", "Hi all,\n\nCall me.\n"),
    ],
)
def test_sentences_without_a_use_case_subject_make_no_intake(
    tmp_path: Path, subject: str, body: str
) -> None:
    message = plain_message("m@x", subject, body, "Tue, 04 Mar 2025 09:14:00 +0000")
    records, _, _ = _extract(_mbox(tmp_path / "q.mbox", [message]))
    assert [r.owner_name for r in records if "mail_prose" in r.flags] == []
    assert all(r.owner_name is None for r in records)


@pytest.mark.parametrize(
    ("subject", "name"),
    [
        ("New AI use case for registration - Copilot for claims letters", "Copilot for claims letters"),
        ("Request to register a new AI use case: Contract triage", "Contract triage"),
        ("AI use case registration – Churn model", "Churn model"),
        ("AI intake form: Meeting notes bot", "Meeting notes bot"),
        ("RE: New GenAI idea: Code review assistant", "Code review assistant"),
        # No request: a review of use cases, a use case named without a separator, a data
        # call, a template, a thread about one's scope.
        ("Use case review - next steps", None),
        ("New AI use case for Finance", None),
        ("AI use case inventory - Q3 data call", None),
        ("AI use case request form - please use the new template", None),
        ("Our use case - thoughts on scope", None),
        # A proposal of something that says it is AI; not of anything else, nor a course.
        ("FW: Proposal - AI for recruitment CV screening", "AI for recruitment CV screening"),
        ("Idea: GenAI drafting of claims letters", "GenAI drafting of claims letters"),
        ("Proposal: Q3 budget", None),
        ("Proposal: AI training course for managers", None),
        ("Request - AI licences for the team", None),
    ],
)  # fmt: skip
def test_subjects_that_ask_to_register_a_use_case_name_it(subject: str, name: str | None) -> None:
    assert name_from_subject(subject) == name
    assert name_from_subject(subject, intake_only=True) == name


@pytest.mark.parametrize(
    "subject",
    [
        "AI use case registration - deadline extended to Friday",
        "AI use case submission - reminder",
        "New AI use case: see attached",
        "AI intake form: new version attached",
        "New AI use case: Gartner webinar recap",
    ],
)
def test_the_intake_processs_own_mail_is_no_request(tmp_path: Path, subject: str) -> None:
    message = plain_message(
        "admin@x",
        subject,
        "Please send your updated AI trackers to the governance team by Friday, thanks.\n",
        "Mon, 03 Mar 2025 09:00:00 +0000",
        sender="AI Governance Office <ai-governance@example.com>",
    )
    records, _, _ = _extract(_mbox(tmp_path / "a.mbox", [message]))
    assert records == []


def test_a_newsletter_is_no_request(tmp_path: Path) -> None:
    newsletter = plain_message(
        "news@x",
        "New AI use case: Claims automation at scale",
        "This week: how insurers use AI to automate claims. Read more on our site.\n",
        "Mon, 03 Mar 2025 09:00:00 +0000",
        sender="AI Weekly <newsletter@aiweekly.example>",
    ).replace(b"Content-Type:", b"List-Unsubscribe: <mailto:unsub@aiweekly.example>\nContent-Type:")
    records, _, _ = _extract(_mbox(tmp_path / "n.mbox", [newsletter]))
    assert records == []


def test_an_updates_subject_names_its_use_case_but_asks_for_no_intake() -> None:
    for subject in ("AI use case update: Invoice OCR", "Status update: Invoice OCR - live"):
        assert name_from_subject(subject) == "Invoice OCR"
        assert name_from_subject(subject, intake_only=True) is None
    # "update" in the name itself is no update.
    assert name_from_subject("New AI use case: Policy update bot", intake_only=True) == (
        "Policy update bot"
    )


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("Hi team,\n\nWe want a bot.\nIt drafts letters.\n\nSam\n", "We want a bot. It drafts letters."),
        # A first line that starts like a greeting but is a sentence stays.
        ("All claims letters are drafted by hand\nso we want to pilot Copilot.\n",
         "All claims letters are drafted by hand so we want to pilot Copilot."),
        ("Dear all\n\nThe sales team wants a notes bot.\n", "The sales team wants a notes bot."),
        ("Call me.\n", None),
    ],
)  # fmt: skip
def test_a_requests_text_without_its_greeting_and_sign_off(
    text: str, description: str | None
) -> None:
    assert prose_text(text) == description


def test_html_table_with_several_use_cases_gives_one_record_each(tmp_path: Path) -> None:
    html = (
        "<p>Our two requests:</p><table><tr><th>Use case</th><th>Owner</th><th>Status</th></tr>"
        "<tr><td>Claims triage</td><td>Tom Hughes</td><td>Pilot</td></tr>"
        "<tr><td>Fraud scoring</td><td>Ana Lima</td><td>Live</td></tr></table>"
    )
    raw = (
        plain_message("t@x", "Two requests", "", "Mon, 03 Mar 2025 09:00:00 +0000").replace(
            b"text/plain", b"text/html"
        )
        + html.encode()
    )
    path = tmp_path / "t.eml"
    path.write_bytes(raw)
    records, _, _ = _extract(path)
    assert [(r.name, r.owner_name, r.stage, r.row) for r in records] == [
        ("Claims triage", "Tom Hughes", "pilot", 1),
        ("Fraud scoring", "Ana Lima", "deployed", 2),
    ]
    assert len({r.record_id for r in records}) == 2


@pytest.mark.parametrize("numbered", [True, False])
def test_a_message_listing_several_use_cases_gives_one_record_each(
    tmp_path: Path, numbered: bool
) -> None:
    mark = ["1) ", "2) "] if numbered else ["", ""]
    body = (
        "Hi,\n\nWe have two use cases to add to the inventory.\n\n"
        f"{mark[0]}Use case name: Call summarisation\nOwner: Lucy Grant\n"
        "Department: Customer Service\nStage: Production\n\n"
        f"{mark[1]}Use case name: Email triage\nOwner: Omar Haddad\nStage: Idea\n"
        "Description: Routes customer e-mails to the right queue.\n\nBest,\nLucy\n"
    )
    path = tmp_path / "two.eml"
    path.write_bytes(
        plain_message("two@x", "Two AI use cases", body, "Wed, 12 Mar 2025 09:45:00 +0000")
    )
    records, rejects, _ = _extract(path)
    assert rejects == []
    assert [(r.name, r.owner_name, r.department, r.stage, r.row) for r in records] == [
        ("Call summarisation", "Lucy Grant", "Customer Service", "deployed", 1),
        ("Email triage", "Omar Haddad", None, "idea", 2),
    ]
    assert records[1].description == "Routes customer e-mails to the right queue."
    assert len({r.record_id for r in records}) == 2
    # Another label read as a name ("Project") under one use case says more of it.
    one = body.replace(f"{mark[1]}Use case name: Email triage", "Project: Service transformation")
    path.write_bytes(plain_message("one@x", "A use case", one, "Wed, 12 Mar 2025 09:45:00 +0000"))
    records, _, _ = _extract(path)
    assert [(r.name, r.owner_name) for r in records] == [("Call summarisation", "Lucy Grant")]


def test_spreadsheet_attachment_rows_are_records_and_its_name_never_a_path(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["Use case", "Owner", "Status"])
    wb.active.append(["Copy drafts", "Ella Marsh", "live"])
    data = io.BytesIO()
    wb.save(data)
    path = tmp_path / "att.eml"
    path.write_bytes(message_with_attachment("att@x", data.getvalue(), "../../../../tmp/evil.xlsx"))
    records, _, counts = _extract(path)
    (record,) = records
    assert (record.name, record.stage, record.message_id, record.source_kind) == (
        "Copy drafts",
        "deployed",
        "att@x",
        "email",
    )
    assert record.sheet == "evil.xlsx [Sheet]"
    assert record.last_updated is not None and record.last_updated.year == 2025
    assert counts.attachment_rows == 1
    assert not Path("/tmp/evil.xlsx").exists()


def test_forwarded_intake_is_read_from_the_forward(tmp_path: Path) -> None:
    raw = plain_message(
        "fw@x",
        "FW: Claims triage - intake",
        "Please pick this up.\n\n---------- Forwarded message ---------\n"
        "From: Tom <tom@example.com>\nDate: Mon, 20 Jan 2025\nSubject: Claims triage - intake\n"
        "To: Laura <l@example.com>\n\nUse case: Claims triage model\nStatus: Pilot\n",
        "Mon, 20 Jan 2025 10:00:00 +0000",
        sender="Laura <l@example.com>",
    )
    path = tmp_path / "fw.eml"
    path.write_bytes(raw)
    (record,) = _extract(path)[0]
    assert (record.name, record.stage, record.owner_name) == ("Claims triage model", "pilot", None)
    assert "mail_forwarded" in record.flags


def _forward_attaching(mid: str, to: str, attached: bytes) -> bytes:
    """A forward that carries the message it passes on as an attachment (message/rfc822)."""
    from email import message_from_bytes

    carrier = EmailMessage(policy=SMTP)
    carrier["From"] = "Laura <l@example.com>"
    carrier["To"] = to
    carrier["Subject"] = "FW: New AI use case: Claims triage"
    carrier["Date"] = "Tue, 21 Jan 2025 10:00:00 +0000"
    carrier["Message-ID"] = f"<{mid}>"
    carrier.set_content("For the register.\n")
    carrier.add_attachment(message_from_bytes(attached, policy=SMTP))
    return carrier.as_bytes()


def test_an_intake_forwarded_as_an_attachment_is_traced_to_the_message_that_carried_it(
    tmp_path: Path,
) -> None:
    """The record names the message in the mailbox (the forward), not the one attached to it:
    that is the message a reader finds by its Message-ID. Two forwards of one request in a
    mailbox are two records, each traced to its own forward."""
    request = plain_message(
        "request@x",
        "New AI use case: Claims triage",
        "Use case: Claims triage model\nStatus: Pilot\n",
        "Mon, 20 Jan 2025 09:00:00 +0000",
        sender="Tom <tom@example.com>",
    )
    one = tmp_path / "fw.eml"
    one.write_bytes(_forward_attaching("fw@x", "a@example.com", request))
    (record,) = _extract(one)[0]
    assert (record.name, record.stage, record.message_id) == (
        "Claims triage model",
        "pilot",
        "fw@x",
    )
    assert "mail_forwarded" in record.flags
    box = _mbox(
        tmp_path / "box.mbox",
        [
            _forward_attaching("fw1@x", "a@example.com", request),
            _forward_attaching("fw2@x", "b@example.com", request),
        ],
    )
    records, rejects, counts = _extract(box)
    assert rejects == [] and counts.messages_read == 2
    assert sorted(r.message_id or "" for r in records) == ["fw1@x", "fw2@x"]
    assert len({r.record_id for r in records}) == 2


_WORD_QUOTE_HEADER = (
    '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p '
    'class="MsoNormal"><b>From:</b> Tom &lt;tom@example.com&gt;<br><b>Sent:</b> Monday, 20 '
    "January 2025 09:00<br><b>Subject:</b> AI use cases of the claims team<o:p></o:p></p></div>"
)


_OWA_QUOTE_HEADER = (
    '<hr><div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Tom &lt;tom@example.com&gt;<br><b>Sent:'
    "</b> Monday, 20 January 2025 09:00<br><b>Subject:</b> AI use cases of the claims team</div>"
)


@pytest.mark.parametrize("header", [_WORD_QUOTE_HEADER, _OWA_QUOTE_HEADER])
def test_a_forwarded_grid_of_use_cases_gives_each_row(tmp_path: Path, header: str) -> None:
    # Outlook forwards a table of three use cases: each is read, not only the first.
    grid = (
        "<table><tr><th>Use case</th><th>Owner</th><th>Status</th></tr>"
        "<tr><td>Claims triage model</td><td>Tom Hale</td><td>Pilot</td></tr>"
        "<tr><td>Fraud scoring</td><td>Ana Ruiz</td><td>Live</td></tr>"
        "<tr><td>Letter drafting</td><td>Ben Ode</td><td>Idea</td></tr></table>"
    )
    raw = plain_message(
        "fwgrid@x",
        "FW: AI use cases of the claims team",
        f"<html><body><p class=MsoNormal>For the inventory.</p>{header}{grid}</body></html>",
        "Tue, 21 Jan 2025 10:00:00 +0000",
        sender="Laura <l@example.com>",
    ).replace(b"text/plain", b"text/html")
    path = tmp_path / "fw.eml"
    path.write_bytes(raw)
    records = _extract(path)[0]
    assert [(r.name, r.stage, r.row) for r in records] == [
        ("Claims triage model", "pilot", 1),
        ("Fraud scoring", "deployed", 2),
        ("Letter drafting", "idea", 3),
    ]
    assert len({r.record_id for r in records}) == 3
    assert all("mail_forwarded" in r.flags for r in records)


def test_labelled_values_no_field_takes_are_kept_in_extras(tmp_path: Path) -> None:
    raw = plain_message(
        "x@x",
        "New AI use case: Invoice OCR",
        "Hi team - quick one for the register.\n\n"
        "Use case: Invoice OCR\nStatus: Idea\nBudget: 50k EUR\n"
        "Risk notes: handles supplier bank details\nStatus: Idea. Cost centre: 4711\n\n"
        "Thanks: Dana\n\nPriya Shah\nT: +44 20 7946 0000\nAddress: 1 Main St\n\n"
        "CONFIDENTIALITY NOTICE: this message is for its addressees only.\n",
        "Mon, 03 Mar 2025 09:00:00 +0000",
    )
    path = tmp_path / "x.eml"
    path.write_bytes(raw)
    (record,) = _extract(path)[0]
    # A greeting, a sign-off, a signature and a disclaimer, paragraphs of their own, are not.
    assert record.extras == {
        "Budget": "50k EUR",
        "Risk notes": "handles supplier bank details",
        "subject": "New AI use case: Invoice OCR",
    }


def test_the_owner_who_sent_the_intake_gets_the_senders_address(tmp_path: Path) -> None:
    # Outlook writes the sender "Last, First": the same person as the owner "First Last".
    raw = plain_message(
        "o@x",
        "New AI use case: Invoice OCR",
        "Use case: Invoice OCR\nOwner: Priya Shah\nStatus: Idea\n",
        "Mon, 03 Mar 2025 09:00:00 +0000",
        sender='"Shah, Priya" <Priya.Shah@corp.example>',
    )
    path = tmp_path / "o.eml"
    path.write_bytes(raw)
    (record,) = _extract(path)[0]
    assert (record.owner_name, record.owner_email) == ("Priya Shah", "priya.shah@corp.example")
    # Another person's name: not the sender's address.
    path.write_bytes(raw.replace(b"Owner: Priya Shah", b"Owner: Priya Singh"))
    (record,) = _extract(path)[0]
    assert (record.owner_name, record.owner_email) == ("Priya Singh", None)


def test_an_intake_form_in_a_grey_ruled_box_is_no_quote(tmp_path: Path) -> None:
    # A form tool's HTML puts its table under a light grey rule: not Outlook's quoted header.
    form = (
        '<html><body><p>A new request.</p><div style="border-top: solid #e1e1e1 1px">'
        "<table><tr><td>Use case name</td><td>Invoice OCR</td></tr><tr><td>Stage</td>"
        "<td>Pilot</td></tr></table></div></body></html>"
    )
    raw = plain_message(
        "g@x", "New AI use case: Invoice OCR", form, "Mon, 03 Mar 2025 09:00:00 +0000"
    ).replace(b"text/plain", b"text/html")
    path = tmp_path / "g.eml"
    path.write_bytes(raw)
    (record,) = _extract(path)[0]
    assert (record.name, record.stage) == ("Invoice OCR", "pilot")


@pytest.mark.parametrize(
    ("stage", "deployed"),
    [
        # Live when the mail was sent: its go-live is a day before it, not eleven months after.
        ("Deployed", "2025-01-12"),
        # Still to come: the setting's order (month-first), as before.
        ("Idea", "2025-12-01"),
    ],
)
def test_a_stage_reached_dates_an_ambiguous_day_before_the_mail(
    tmp_path: Path, stage: str, deployed: str
) -> None:
    raw = plain_message(
        "d@x",
        "New AI use case: Invoice OCR",
        f"Use case: Invoice OCR\nStage: {stage}\nGo-live: 12/01/2025\n",
        "Mon, 13 Jan 2025 10:00:00 +0000",
    )
    path = tmp_path / "d.eml"
    path.write_bytes(raw)
    (record,) = _extract(path)[0]
    assert record.date_deployed == deployed


def test_unreadable_file_is_one_reject(tmp_path: Path) -> None:
    path = tmp_path / "x.eml"
    path.write_bytes(b"\x00\x01\x02 not mail")
    records, rejects, _ = _extract(path)
    assert records == [] and [r.reason_code for r in rejects] == ["corrupt"]


@pytest.mark.skipif(not SAMPLE_MAIL.is_dir(), reason="sample mail not built")
def test_sample_mail_yields_the_northwind_use_cases() -> None:
    names: dict[str, set[str]] = {}
    for path in sorted(SAMPLE_MAIL.iterdir()):
        if path.suffix in (".mbox", ".eml"):
            records, rejects, _ = _extract(path)
            assert rejects == []
            for record in records:
                names.setdefault(record.name, set()).add(record.stage)
    assert names["Invoice OCR for accounts payable"] == {"idea", "pilot", "deployed"}
    assert names["Call summarisation with GenAI"] == {"pilot", "deployed"}
    assert {
        "Employee helpdesk chatbot",
        "Claims triage model",
        "Contract clause extraction",
        "GenAI copy drafts for campaigns",
    } <= set(names)
    summary = inspect_mail(SAMPLE_MAIL / "ai-board-inbox.mbox")
    assert summary["format"] == "mbox"
    assert all(m["thread_id"] for m in summary["messages"])
    assert {m["kind"] for m in summary["messages"]} >= {
        "intake",
        "update",
        "skipped:not_about_a_use_case",
    }


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("AIユースケース登録: 議事録要約", True),
        ("生成AIの導入", True),
        ("New AI use case", True),
        ("IA générative pour les réclamations", True),
        # "ia" and "ai" inside words of other alphabets are no AI.
        ("Uma idéia para o almoço", False),
        ("Meeting with Mikko Mäki", False),
        ("250ml of HTML", False),
    ],
)
def test_what_speaks_of_ai(text: str, said: bool) -> None:
    from aiinventory.text_normalization import speaks_of_ai

    assert speaks_of_ai(text) is said


def _csv_attached(
    tmp_path: Path, subject: str, body: str, csv_text: str, filename: str = "list.csv"
) -> Path:
    from email.message import EmailMessage
    from email.policy import SMTP

    message = EmailMessage(policy=SMTP)
    message["Subject"] = subject
    message["From"] = "Priya Shah <priya.shah@example.com>"
    message["Message-ID"] = "<att-csv@x>"
    message["Date"] = "Wed, 02 Jul 2025 11:00:00 +0100"
    message.set_content(body)
    message.add_attachment(csv_text.encode(), maintype="text", subtype="csv", filename=filename)
    path = tmp_path / "att.eml"
    path.write_bytes(message.as_bytes())
    return path


def test_an_attached_sheet_of_other_things_in_mail_not_about_ai_is_not_read(
    tmp_path: Path,
) -> None:
    # eml_parser's test mail attaches a list of films: "Title" is a name, nothing else is.
    films = '"Year", "Score", "Title"\n1968, 86, "Greetings"\n1970, 17, "Bloody Mama"\n'
    path = _csv_attached(tmp_path, "test mail eml parser", "See the list.\n", films, "test.csv")
    records, rejects, counts = _extract(path)
    assert (records, rejects) == ([], [])
    assert counts.messages_skipped["not_about_a_use_case"] == 1
    # Nor do the warnings reading it raised reach the run: only the note that it was not read.
    from aiinventory.api import run_import

    run_import([path], tmp_path / "out")
    run = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    said = [w for w in run["warnings"] if "test.csv" in w["message"] or "Test" in w["message"]]
    assert [w["code"] for w in said] == ["file_note"]
    assert "not read as a tracker" in said[0]["message"]


@pytest.mark.parametrize(
    ("subject", "body", "sheet"),
    [
        # A department's tracker sent without a word of AI: its columns say what it is.
        ("Latest version", "Attached.\n", "Project,Owner,Status\nCopy drafts,Ella Marsh,live\n"),
        # A message that speaks of AI: its attachment is read for a name alone.
        ("Our AI ideas", "The GenAI ideas, attached.\n", "Idea\nCopy drafts\n"),
    ],
)
def test_an_attached_tracker_is_read(tmp_path: Path, subject: str, body: str, sheet: str) -> None:
    records, _, _ = _extract(_csv_attached(tmp_path, subject, body, sheet))
    assert [r.name for r in records] == ["Copy drafts"]


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("X-Spam-Flag: YES\nX-Spam-Status: Yes, score=12.1\n", "spam"),
        (
            "List-Unsubscribe: <https://brief.example/unsub>\nList-Id: <brief.example>\n"
            "Precedence: bulk\n",
            "newsletter",
        ),
    ],
)
def test_spam_and_newsletters_are_skipped_however_they_are_laid_out(
    tmp_path: Path, headers: str, reason: str
) -> None:
    message = (
        f"From: The AI Brief <news@brief.example>\nTo: petra@example.com\n{headers}"
        "Subject: AI use case of the week\nDate: Fri, 07 Mar 2025 06:00:00 +0000\n"
        "Message-ID: <nl@brief.example>\nContent-Type: text/plain; charset=utf-8\n\n"
        "Use case: Copilot for claims letters\nStage: Deployed\nOwner: Chief Claims Officer\n"
    ).encode()
    records, rejects, counts = _extract(_mbox(tmp_path / "in.mbox", [message]))
    assert (records, rejects) == ([], [])
    assert counts.messages_skipped == {reason: 1}


def test_a_discussion_list_s_intake_is_read(tmp_path: Path) -> None:
    message = (
        b"From: Priya Shah <priya@example.com>\nTo: ai-board@lists.example.com\n"
        b"List-Id: <ai-board.lists.example.com>\nList-Post: <mailto:ai-board@lists.example.com>\n"
        b"List-Unsubscribe: <mailto:ai-board-leave@lists.example.com>\nPrecedence: list\n"
        b"Subject: New AI use case\nDate: Fri, 07 Mar 2025 06:00:00 +0000\n"
        b"Message-ID: <intake@lists.example.com>\nContent-Type: text/plain; charset=utf-8\n\n"
        b"Use case: Claims triage\nStage: Pilot\nOwner: Priya Shah\n"
    )
    records, _, _ = _extract(_mbox(tmp_path / "in.mbox", [message]))
    assert [(r.name, r.stage) for r in records] == [("Claims triage", "pilot")]


def test_outlook_s_german_automatic_reply_is_one(tmp_path: Path) -> None:
    message = plain_message(
        "ooo@x",
        "Automatische Antwort: RE: Invoice OCR",
        "Ich bin bis 17.03. nicht im Büro.\nStatus: abwesend\n",
        "Mon, 03 Mar 2025 09:00:00 +0000",
    )
    _, _, counts = _extract(_mbox(tmp_path / "in.mbox", [message]))
    assert counts.messages_skipped == {"automatic_reply": 1}


_TWO_USE_CASES = (
    "Hi, two AI use cases from our team:\n\n"
    "1) Use case name: Spend classification\nDescription: ML model that classifies PO lines.\n"
    "Owner: Li Wei\nStage: Deployed\nGo-live: 2025-03-04\n\n"
    "2) Use case name: Contract clause extraction\nDescription: LLM extracts payment terms.\n"
    "Owner: Sara Khan\nStage: In development\n\nBest,\nLi\n"
)


@pytest.mark.parametrize(
    ("reply", "changed"),
    [
        ("Contract clause extraction went live on 1 September.\n", "Contract clause extraction"),
        # Named only in what the reply quotes (Gmail's quote of the part it answers).
        (
            "It went live on 1 September.\n\nOn Tue, 1 Jul 2025 at 11:00, Li Wei wrote:\n"
            "> 2) Use case name: Contract clause extraction\n> Stage: In development\n",
            "Contract clause extraction",
        ),
        # Named neither way, or both: no one's to guess.
        ("It went live on 1 September.\n", None),
        ("Spend classification and Contract clause extraction went live.\n", None),
    ],
)
@pytest.mark.parametrize("one_file", [True, False])
def test_a_reply_in_a_thread_of_several_use_cases_changes_the_one_it_names(
    tmp_path: Path, reply: str, changed: str | None, one_file: bool
) -> None:
    from aiinventory.api import run_import

    intake = plain_message(
        "multi-1@x",
        "AI use cases for the register",
        _TWO_USE_CASES,
        "Tue, 01 Jul 2025 11:00:00 +0000",
    )
    answer = plain_message(
        "multi-2@x",
        "Re: AI use cases for the register",
        reply,
        "Mon, 08 Sep 2025 16:00:00 +0000",
        refs="<multi-1@x>",
    )
    folder = tmp_path / "in"
    folder.mkdir()
    if one_file:
        _mbox(folder / "intake.mbox", [intake, answer])
    else:
        (folder / "1.eml").write_bytes(intake)
        (folder / "2.eml").write_bytes(answer)
    result = run_import([folder], tmp_path / "out")
    lines = (tmp_path / "out" / "records.jsonl").read_text(encoding="utf-8").splitlines()
    updates = [r for r in map(json.loads, lines) if r["message_id"] == "multi-2@x"]
    assert [r["name"] for r in updates] == ([changed] if changed else [])
    if changed:
        assert (updates[0]["stage"], updates[0]["date_deployed"]) == ("deployed", "2025-09-01")
    else:
        run = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
        assert run["skipped_messages"].get("use_case_not_named") == 1
    assert result.exit_code == 0


def test_a_reply_restating_its_use_case_under_another_spelling_is_still_its_thread_s(
    tmp_path: Path,
) -> None:
    intake = plain_message(
        "ocr-1@x",
        "New AI use case",
        "Use case: Invoice OCR\nStage: Pilot\n",
        "Mon, 03 Mar 2025 09:00:00 +0000",
    )
    restated = plain_message(
        "ocr-2@x",
        "Re: New AI use case",
        "Use case: Invoice ocr\nOwner: Dana Lee\n",
        "Tue, 04 Mar 2025 09:00:00 +0000",
        refs="<ocr-1@x>",
    )
    live = plain_message(
        "ocr-3@x",
        "Re: New AI use case",
        "We went live on 3 April.\n",
        "Fri, 04 Apr 2025 09:00:00 +0000",
        refs="<ocr-1@x> <ocr-2@x>",
    )
    records, _, _ = _extract(_mbox(tmp_path / "in.mbox", [intake, restated, live]))
    assert [(r.message_id, r.stage) for r in records][-1] == ("ocr-3@x", "deployed")


def test_a_reply_names_the_longer_of_two_names_one_inside_the_other(tmp_path: Path) -> None:
    intake = plain_message(
        "bots@x",
        "Two AI use cases",
        "1) Use case name: Chatbot\nStage: Idea\n\n2) Use case name: HR Chatbot\nStage: Idea\n",
        "Mon, 03 Mar 2025 09:00:00 +0000",
    )
    reply = plain_message(
        "bots-2@x",
        "Re: Two AI use cases",
        "HR Chatbot went live on 3 April.\n",
        "Fri, 04 Apr 2025 09:00:00 +0000",
        refs="<bots@x>",
    )
    records, _, _ = _extract(_mbox(tmp_path / "in.mbox", [intake, reply]))
    assert [(r.name, r.stage) for r in records if r.message_id == "bots-2@x"] == [
        ("HR Chatbot", "deployed")
    ]


@pytest.mark.parametrize(
    ("body", "read"),
    [
        # A form of a use case: its owner is a use case's field.
        (
            "Name: Invoice triage assistant\nOwner: Jane Doe\nEmail: jane.doe@example.com\n",
            [("Invoice triage assistant", "Jane Doe")],
        ),
        # A scam's "fill your details": a name with an email address is a person's contact.
        (
            "Fill your details below for reference purposes:\nName: Rev. John Ntepe\n"
            "Email: western.union1891@example.fr\nAddress: 12 Main Road\nCountry: Benin\n",
            [],
        ),
    ],
)
def test_lines_under_a_plain_name_label_are_a_form_by_a_use_case_s_fields(
    tmp_path: Path, body: str, read: list[tuple[str, str]]
) -> None:
    message = plain_message("form@x", "Register please", body, "Mon, 03 Mar 2025 09:00:00 +0000")
    records, _, _ = _extract(_mbox(tmp_path / "in.mbox", [message]))
    assert [(r.name, r.owner_name) for r in records] == read


def test_an_attached_tracker_with_a_department_column_is_read(tmp_path: Path) -> None:
    sheet = "Project,Department,Status\nCopy drafts,Marketing,live\nRota bot,HR,idea\n"
    records, _, _ = _extract(_csv_attached(tmp_path, "Latest version", "Attached.\n", sheet))
    assert sorted(r.name for r in records) == ["Copy drafts", "Rota bot"]


@pytest.mark.parametrize(
    ("body", "departments"),
    [
        # Said after both use cases, in a paragraph of its own: of both.
        (
            "1) Use case name: Spend classification\nOwner: Li Wei\nStage: Deployed\n\n"
            "2) Use case name: Contract clause extraction\nOwner: Sara Khan\nStage: Idea\n\n"
            "Department: Procurement\n\nBest,\nLi\n",
            {"Spend classification": "Procurement", "Contract clause extraction": "Procurement"},
        ),
        # The first use case has its own: the trailing one is the second's alone.
        (
            "1) Use case name: Spend classification\nDepartment: Finance\n\n"
            "2) Use case name: Contract clause extraction\nStage: Idea\n\n"
            "Department: Procurement\n",
            {"Spend classification": "Finance", "Contract clause extraction": "Procurement"},
        ),
        # A use case over two paragraphs: which lines are whose is not plain; as written.
        (
            "1) Use case name: Spend classification\nStage: Deployed\n\nOwner: Li Wei\n\n"
            "2) Use case name: Contract clause extraction\nStage: Idea\n\n"
            "Department: Procurement\n",
            {"Spend classification": None, "Contract clause extraction": "Procurement"},
        ),
    ],
)
def test_a_field_said_after_several_use_cases_is_of_them_all(
    tmp_path: Path, body: str, departments: dict[str, str | None]
) -> None:
    message = plain_message(
        "list@x", "AI use cases for the register", body, "Tue, 01 Jul 2025 11:00:00 +0000"
    )
    records, _, _ = _extract(_mbox(tmp_path / "in.mbox", [message]))
    assert {r.name: r.department for r in records} == departments


def test_a_run_killed_while_it_reads_an_attached_tracker_leaves_the_copy_in_the_output_folder(
    tmp_path: Path,
) -> None:
    """Not in the system's temporary folder for good: in a hidden folder of the output folder,
    which a later run removes once the killed run's is stale."""
    import os
    import subprocess
    import sys
    import time

    wb = openpyxl.Workbook()
    wb.active.append(["Use case", "Owner"])
    wb.active.append(["Copy drafts", "Ella Marsh"])
    data = io.BytesIO()
    wb.save(data)
    inbox = tmp_path / "in" / "att.eml"
    inbox.parent.mkdir()
    inbox.write_bytes(message_with_attachment("att@x", data.getvalue(), "list.xlsx"))
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    out = tmp_path / "out"
    command = [sys.executable, "-m", "aiinventory", "import", str(inbox.parent), "--out", str(out)]
    env = {**os.environ, "TMPDIR": str(system_tmp)}
    env["AIINVENTORY_FAILPOINT"] = "attachment_written"
    killed = subprocess.run(command, env=env, capture_output=True, timeout=120)
    assert killed.returncode == -9, killed.stderr.decode()
    assert not [p for p in system_tmp.rglob("*") if p.suffix == ".xlsx"]
    (scratch,) = out.glob(".scratch-*.tmp")
    assert [p.name for p in scratch.rglob("*.xlsx")] == ["attachment-1.xlsx"]

    # An hour later, the next run removes what the killed one left, and says so.
    del env["AIINVENTORY_FAILPOINT"]
    stale = time.time() - 2 * 3600
    os.utime(scratch, (stale, stale))
    done = subprocess.run(command, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert not list(out.glob(".scratch-*"))
    assert not list(system_tmp.iterdir())
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    (removed,) = [w for w in run["warnings"] if w["code"] == "stale_temporary_removed"]
    assert removed["source_path"] == str(scratch)
    lines = (out / "records.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["name"] for r in records] == ["Copy drafts"]


def test_a_large_mailbox_keeps_its_thread_index_in_the_run_scratch_folder(tmp_path: Path) -> None:
    from aiinventory.mail.thread_builder import ThreadIndex
    from aiinventory.scratch import run_scratch

    with run_scratch(tmp_path) as scratch, ThreadIndex(large=True):
        assert [p.name for p in scratch.rglob("*.sqlite")] == ["threads.sqlite"]
    assert not list(tmp_path.iterdir())
