# ruff: noqa: E501  (labelled mail data reads best one message line per source line)
"""Field-level precision and recall of mail extraction on a labelled set of intake threads.

Each case is a small mailbox (real RFC 822 text: English, German and French; labelled forms,
HTML tables, forwards, replies in words) with the records we expect from it: for each message
that should become a record, the fields and their canonical values. A field counts as found when
the record of that message has exactly the expected value; extra fields we read that the label
does not list count against precision. The cases we miss are named at the end.

Run: ``.venv/bin/python benchmarks/mail_extraction_quality.py``
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from aiinventory.mail import extract_mail
from aiinventory.mappings import load_mappings
from aiinventory.normalize import Normalizer
from aiinventory.schema import SourceRecord
from aiinventory.spreadsheets.extract import FileReport
from aiinventory.warnings_log import WarningLog

FIELDS = ("name", "department", "owner_name", "owner_email", "stage", "vendor_name")


@dataclass
class Case:
    """A labelled mailbox: messages, and per Message-ID the expected field values."""

    title: str
    messages: list[str]
    expected: dict[str, dict[str, str]]


def msg(mid: str, subject: str, body: str, *, sender: str = "Priya Shah <priya@nw.example>",
        refs: str = "", html: bool = False, day: int = 3) -> str:  # fmt: skip
    head = [
        f"From: {sender}",
        "To: AI Board <board@nw.example>",
        f"Subject: {subject}",
        f"Date: Mon, {day:02d} Mar 2025 09:00:00 +0000",
        f"Message-ID: <{mid}@nw.example>",
        f"Content-Type: text/{'html' if html else 'plain'}; charset=utf-8",
    ]
    if refs:
        head += [
            f"In-Reply-To: <{refs.split()[-1]}@nw.example>",
            "References: " + " ".join(f"<{r}@nw.example>" for r in refs.split()),
        ]
    return "\n".join(head) + "\n\n" + body


CASES = [
    Case(
        "plain English form, sender is owner",
        [
            msg(
                "a1",
                "New AI use case: Invoice OCR",
                "Hi,\n\nUse case: Invoice OCR\nDepartment: Finance\nStatus: Proposed\nVendor: ABBYY\n\nThanks,\nPriya\n",
            )
        ],
        {
            "a1": {
                "name": "Invoice OCR",
                "department": "Finance",
                "stage": "idea",
                "vendor_name": "ABBYY",
                "owner_name": "Priya Shah",
                "owner_email": "priya@nw.example",
            }
        },
    ),
    Case(
        "dash labels and bullets",
        [
            msg(
                "b1",
                "AI request",
                "- Project - Claims triage model\n- Owner - Tom Hughes\n"
                "- Business unit - Customer Service\n- Stage - Pilot\n",
            )
        ],
        {
            "b1": {
                "name": "Claims triage model",
                "owner_name": "Tom Hughes",
                "department": "Customer Service",
                "stage": "pilot",
            }
        },
    ),
    Case(
        "German form and German reply",
        [
            msg(
                "c1",
                "Neuer KI-Anwendungsfall: Rechnungsprüfung",
                "Hallo,\n\nAnwendungsfall: Rechnungsprüfung mit KI\nAbteilung: Finanzen\n"
                "Verantwortlich: Jonas Weber\nStatus: Idee\n\nViele Grüße\nJonas\n",
                sender="Jonas Weber <jonas@nw.example>",
            ),
            msg(
                "c2",
                "AW: Neuer KI-Anwendungsfall: Rechnungsprüfung",
                "Hallo Jonas,\n\nwir haben das in den Pilotbetrieb überführt.\n\nGruß\nAnna\n\n"
                "Von: Jonas Weber\nGesendet: Montag, 3. März 2025\nAn: AI Board\nBetreff: Neuer KI-Anwendungsfall\n\nAlt\n",
                sender="Anna Berg <anna@nw.example>",
                refs="c1",
                day=10,
            ),
        ],
        {
            "c1": {
                "name": "Rechnungsprüfung mit KI",
                "department": "Finanzen",
                "owner_name": "Jonas Weber",
                "owner_email": "jonas@nw.example",
                "stage": "idea",
            },
            "c2": {"name": "Rechnungsprüfung mit KI", "stage": "pilot"},
        },
    ),
    Case(
        "French form and French reply",
        [
            msg(
                "d1",
                "Nouveau cas d'usage : Synthèse des appels",
                "Bonjour,\n\nCas d'usage : Synthèse des appels\nService : Relation client\n"
                "Responsable : Camille Laurent\nStatut : Pilote\nFournisseur : Microsoft\n\nCordialement,\nCamille\n",
                sender="Camille Laurent <camille@nw.example>",
            ),
            msg(
                "d2",
                "RE: Nouveau cas d'usage : Synthèse des appels",
                "Bonjour,\n\nLe projet passe en production le 1er juillet.\n\nCordialement,\nLuc\n\n"
                "Le lun. 3 mars 2025 à 09:00, Camille Laurent <camille@nw.example> a écrit :\n> Cas d'usage : Synthèse des appels\n",
                sender="Luc Martin <luc@nw.example>",
                refs="d1",
                day=20,
            ),
        ],
        {
            "d1": {
                "name": "Synthèse des appels",
                "department": "Relation client",
                "owner_name": "Camille Laurent",
                "owner_email": "camille@nw.example",
                "stage": "pilot",
                "vendor_name": "Microsoft",
            },
            "d2": {"name": "Synthèse des appels", "stage": "deployed"},
        },
    ),
    Case(
        "HTML-only intake with a table, then an owner change in words",
        [
            msg(
                "e1",
                "AI use case request: HR helpdesk chatbot",
                "<p>Hello</p><table><tr><td>Use case</td><td>HR helpdesk chatbot</td></tr>"
                "<tr><td>Department</td><td>Human Resources</td></tr><tr><td>Owner</td><td>Sinéad O'Brien</td></tr>"
                "<tr><td>Stage</td><td>Idea</td></tr></table>",
                html=True,
                sender="Sinéad O'Brien <sinead@nw.example>",
            ),
            msg(
                "e2",
                "Re: AI use case request: HR helpdesk chatbot",
                "Please make Dana Lee the owner while Sinéad is away.\n",
                sender="Aisha <aisha@nw.example>",
                refs="e1",
                day=12,
            ),
        ],
        {
            "e1": {
                "name": "HR helpdesk chatbot",
                "department": "Human Resources",
                "owner_name": "Sinéad O'Brien",
                "owner_email": "sinead@nw.example",
                "stage": "idea",
            },
            "e2": {"name": "HR helpdesk chatbot", "owner_name": "Dana Lee"},
        },
    ),
    Case(
        "forwarded intake",
        [
            msg(
                "f1",
                "FW: Fraud scoring - intake",
                "See below.\n\n-----Original Message-----\nFrom: Ana Lima\nSent: Friday\n"
                "Subject: Fraud scoring - intake\n\nUse case: Claims fraud scoring\nTeam: Claims\nOwner: Ana Lima\n"
                "Status: Live\n",
                sender="Laura <laura@nw.example>",
            )
        ],
        {
            "f1": {
                "name": "Claims fraud scoring",
                "department": "Claims",
                "owner_name": "Ana Lima",
                "stage": "deployed",
            }
        },
    ),
    Case(
        "free prose intake (no labels)",
        [
            msg(
                "g1",
                "Idea: summarise broker emails",
                "Hi all, we in Underwriting would like to use GPT to summarise broker emails. "
                "Nina Kovac would own it. It's just an idea for now.\n",
            )
        ],
        {
            "g1": {
                "name": "summarise broker emails",
                "department": "Underwriting",
                "owner_name": "Nina Kovac",
                "stage": "idea",
            }
        },
    ),
    Case(
        "retirement and status line replies",
        [
            msg(
                "h1",
                "New AI use case: FAQ bot",
                "Use case: FAQ bot v1\nDepartment: Customer Service\nStatus: Live\n",
                sender="CS Team <cs@nw.example>",
            ),
            msg(
                "h2",
                "RE: New AI use case: FAQ bot",
                "The FAQ bot has been retired; the web assistant replaced it.\n",
                refs="h1",
                day=25,
            ),
            msg(
                "h3",
                "RE: New AI use case: FAQ bot",
                "Status - Retired\nVendor: none\n",
                refs="h1 h2",
                day=26,
            ),
        ],
        {
            "h1": {
                "name": "FAQ bot v1",
                "department": "Customer Service",
                "stage": "deployed",
                "owner_name": "CS Team",
                "owner_email": "cs@nw.example",
            },
            "h2": {"name": "FAQ bot v1", "stage": "retired"},
            "h3": {"name": "FAQ bot v1", "stage": "retired", "vendor_name": "none"},
        },
    ),
]


def run_case(case: Case, tmp: Path) -> dict[str, dict[str, str]]:
    """The records extract_mail gives for a case, as expected-style dicts by Message-ID."""
    path = tmp / "case.mbox"
    path.write_text(
        "".join(f"From x Mon Jan  1 00:00:00 2025\n{m}\n\n" for m in case.messages),
        encoding="utf-8",
    )
    mappings = load_mappings(None)
    out: dict[str, dict[str, str]] = {}
    for result in extract_mail(path, "case.mbox", Path("case.mbox"), mappings,
                               Normalizer(mappings, WarningLog()), FileReport(source_path="case.mbox")):  # fmt: skip
        if isinstance(result, SourceRecord) and result.message_id:
            values = {f: getattr(result, f) for f in FIELDS}
            out[result.message_id.split("@")[0]] = {
                k: v for k, v in values.items() if v not in (None, "unknown") and v != []
            }
    return out


def main() -> None:
    """Score every case and print precision, recall and the misses."""
    true_pos = false_pos = false_neg = 0
    misses: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            got = run_case(case, Path(tmp))
            for mid, expected in case.expected.items():
                found = got.get(mid, {})
                for fname, value in expected.items():
                    if found.get(fname) == value:
                        true_pos += 1
                    else:
                        false_neg += 1
                        misses.append(
                            f"{case.title} / {mid}: {fname} expected {value!r}, got {found.get(fname)!r}"
                        )
                for fname, value in found.items():
                    if fname not in expected:
                        false_pos += 1
                        misses.append(f"{case.title} / {mid}: extra {fname} {value!r}")
                    elif found[fname] != expected[fname]:
                        false_pos += 1
            for mid in got.keys() - case.expected.keys():
                false_pos += len(got[mid])
                misses.append(f"{case.title} / {mid}: unexpected record {got[mid]}")
    precision = true_pos / max(true_pos + false_pos, 1)
    recall = true_pos / max(true_pos + false_neg, 1)
    print(
        f"mail extraction quality: {len(CASES)} threads, {true_pos + false_neg} labelled field values"
    )
    print(
        f"  precision {precision:.1%}   recall {recall:.1%}   (true {true_pos}, false {false_pos}, missed {false_neg})"
    )
    print("  misses:")
    for line in misses:
        print("   -", line)


if __name__ == "__main__":
    main()
