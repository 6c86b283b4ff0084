"""Build the Northwind Mutual sample mail: an mbox and some .eml files between departments.

The messages propose and update some of the use cases in ``sample_data/trackers`` (invoice OCR,
the HR helpdesk chatbot, claims triage, call summarisation, contract clause extraction), so an
import of ``sample_data/`` shows mail and spreadsheet records in one inventory. They carry what
real mail carries: a German reply (AW:) labelled iso-8859-1 with cp1252 quotes in it, a French
reply (RE: TR:) in its own .eml, an inline forward (FW:), a forward as an attached message, an
HTML-only intake with a table, an RFC 2047 subject, an Outlook Thread-Index, a spreadsheet
attachment, and mail that is not about any use case.

Run from the project root:

    .venv/bin/python sample_data/mail/build_sample_mail.py

The text of every message is fixed below. The spreadsheet attachment is an .xlsx written by
openpyxl, whose zip entries carry the save time, so its bytes (and so the .eml's) differ between
runs while its cells do not.
"""

from __future__ import annotations

import io
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import openpyxl

OUT = Path(__file__).resolve().parent
D = "northwindmutual.example"


def _headers(**fields: str) -> bytes:
    order = [
        "From",
        "To",
        "Cc",
        "Subject",
        "Date",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Thread-Index",
        "MIME-Version",
        "Content-Type",
        "Content-Transfer-Encoding",
    ]
    lines = []
    for name in order:
        key = "from_" if name == "From" else name.replace("-", "_").lower()
        if key in fields:
            lines.append(f"{name}: {fields[key]}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def _text(body: str, charset: str = "utf-8", **fields: str) -> bytes:
    encoding = "8bit" if charset != "us-ascii" else "7bit"
    head = _headers(
        mime_version="1.0",
        content_type=f'text/plain; charset="{charset}"',
        content_transfer_encoding=encoding,
        **fields,
    )
    codec = "cp1252" if charset == "iso-8859-1" else charset
    return head + body.replace("\n", "\r\n").encode(codec)


INVOICE_OCR = _text(
    """Hi AI board,

Please register this one for the inventory.

Use case: Invoice OCR for accounts payable
Department: Finance
Owner: Priya Shah
Owner email: priya.shah@northwindmutual.example
Status: Proposed
Vendor: ABBYY
Description: Read supplier invoices (PDF and scans) and post them to the AP ledger without
retyping.
Personal data: No

Thanks,
Priya
""",
    from_=f"Priya Shah <priya.shah@{D}>",
    to=f"AI Board <ai-board@{D}>",
    subject="New AI use case: Invoice OCR for accounts payable",
    date="Mon, 03 Mar 2025 09:14:00 +0000",
    message_id=f"<fin-ocr-001@{D}>",
)

INVOICE_OCR_PILOT = _text(
    """Thanks Priya, the board reviewed it this morning. We're moving this to pilot from next
Monday with the AP team in Leeds.

Marcus

On Mon, 3 Mar 2025 at 09:14, Priya Shah <priya.shah@northwindmutual.example> wrote:
> Use case: Invoice OCR for accounts payable
> Department: Finance
> Status: Proposed
""",
    from_=f"Marcus Reed <marcus.reed@{D}>",
    to=f"Priya Shah <priya.shah@{D}>",
    cc=f"AI Board <ai-board@{D}>",
    subject="Re: New AI use case: Invoice OCR for accounts payable",
    date="Mon, 10 Mar 2025 11:02:00 +0000",
    message_id=f"<it-ocr-002@{D}>",
    in_reply_to=f"<fin-ocr-001@{D}>",
    references=f"<fin-ocr-001@{D}>",
)

# German Outlook reply: labelled iso-8859-1, but with cp1252 quotes („…“) in it.
INVOICE_OCR_GERMAN = _text(
    """Hallo zusammen,

für die Buchhaltung in Frankfurt sind wir beim „Pilot“ dabei.
Status: Pilot
Dana Lee übernimmt die Verantwortung für den Pilotbetrieb.

Viele Grüße
Jonas Weber

Von: Marcus Reed <marcus.reed@northwindmutual.example>
Gesendet: Montag, 10. März 2025 12:02
An: Priya Shah <priya.shah@northwindmutual.example>
Betreff: Re: New AI use case: Invoice OCR for accounts payable

Thanks Priya, the board reviewed it this morning. We're moving this to pilot from next
Monday with the AP team in Leeds.
""",
    charset="iso-8859-1",
    from_=f"Jonas Weber <jonas.weber@{D}>",
    to=f"Marcus Reed <marcus.reed@{D}>",
    cc=f"AI Board <ai-board@{D}>",
    subject="AW: Re: New AI use case: Invoice OCR for accounts payable",
    date="Wed, 12 Mar 2025 08:30:00 +0100",
    message_id=f"<fin-de-ocr-003@{D}>",
    in_reply_to=f"<it-ocr-002@{D}>",
    references=f"<fin-ocr-001@{D}> <it-ocr-002@{D}>",
    thread_index="AdGTMD3Jf7yFkZxRQnqL0xGbq1+3rQAAAAAA",
)

INVOICE_OCR_LIVE = _text(
    """Status: Deployed

The OCR service went live in production on 30 May; Dana's team runs it.

Marcus
""",
    from_=f"Marcus Reed <marcus.reed@{D}>",
    to=f"AI Board <ai-board@{D}>",
    subject="RE: New AI use case: Invoice OCR for accounts payable",
    date="Mon, 02 Jun 2025 16:45:00 +0100",
    message_id=f"<it-ocr-004@{D}>",
    in_reply_to=f"<fin-de-ocr-003@{D}>",
    references=f"<fin-ocr-001@{D}> <it-ocr-002@{D}> <fin-de-ocr-003@{D}>",
)

HR_CHATBOT_HTML = (
    _headers(
        from_=f"=?utf-8?q?Sin=C3=A9ad_O=27Brien?= <sinead.obrien@{D}>",
        to=f"AI Board <ai-board@{D}>",
        subject="=?utf-8?q?AI_use_case_request=3A_Employee_helpdesk_chatbot?=",
        date="Fri, 14 Feb 2025 15:20:00 +0000",
        message_id=f"<hr-bot-001@{D}>",
        mime_version="1.0",
        content_type='text/html; charset="utf-8"',
        content_transfer_encoding="8bit",
    )
    + """<html><head><style>td {font-family: Calibri}</style></head><body>
<p>Hello AI board,</p>
<p>HR would like to register the following use case:</p>
<table border="1">
<tr><td><b>Use case</b></td><td>Employee helpdesk chatbot</td></tr>
<tr><td><b>Department</b></td><td>Human Resources</td></tr>
<tr><td><b>Owner</b></td><td>Sinéad O'Brien</td></tr>
<tr><td><b>Stage</b></td><td>Idea</td></tr>
<tr><td><b>AI technique</b></td><td>Generative AI</td></tr>
<tr><td><b>Vendor</b></td><td>Microsoft (Azure OpenAI)</td></tr>
<tr><td><b>Personal data</b></td><td>Yes</td></tr>
</table>
<p>Kind regards,<br>Sinéad</p>
</body></html>
""".replace("\n", "\r\n").encode("utf-8")
)

HR_CHATBOT_OWNER = _text(
    """Agreed, IT will host it. Please make Dana Lee the owner while Sinéad is on leave.

Aisha
""",
    from_=f"Aisha Karim <aisha.karim@{D}>",
    to=f"AI Board <ai-board@{D}>",
    subject="Re: AI use case request: Employee helpdesk chatbot",
    date="Tue, 01 Apr 2025 10:05:00 +0100",
    message_id=f"<it-bot-002@{D}>",
    in_reply_to=f"<hr-bot-001@{D}>",
    references=f"<hr-bot-001@{D}>",
)

CLAIMS_FORWARD = _text(
    """Forwarding the intake from the claims team, see below. Can the board pick it up?

Laura

---------- Forwarded message ---------
From: Tom Hughes <tom.hughes@northwindmutual.example>
Date: Mon, 20 Jan 2025 at 08:40
Subject: Claims triage model - intake
To: Laura Bianchi <laura.bianchi@northwindmutual.example>

Use case: Claims triage model
Department: Customer Service
Owner - Tom Hughes
Status: Pilot
Technique: Machine learning
Description: Scores new claims for complexity and routes simple ones to fast track.
""",
    from_=f"Laura Bianchi <laura.bianchi@{D}>",
    to=f"AI Board <ai-board@{D}>",
    subject="FW: Claims triage model - intake",
    date="Mon, 20 Jan 2025 09:10:00 +0000",
    message_id=f"<cs-claims-001@{D}>",
)

CALL_SUMMARY = _text(
    """Hello,

Use case: Call summarisation with GenAI
Department: Customer Service
Owner: Laura Bianchi
Status: Testing
Technique: Generative AI, speech to text
Vendor: Microsoft

Best regards,
Laura
""",
    from_=f"Laura Bianchi <laura.bianchi@{D}>",
    to=f"AI Board <ai-board@{D}>",
    subject="New AI use case: Call summarisation with GenAI",
    date="Mon, 05 May 2025 13:00:00 +0100",
    message_id=f"<cs-calls-001@{D}>",
)

LUNCH = _text(
    """Hi all, team lunch on Friday at 12:30 in the canteen. Let me know if you can't make it.
""",
    charset="us-ascii",
    from_=f"Ella Marsh <ella.marsh@{D}>",
    to=f"Marketing <marketing@{D}>",
    subject="Team lunch on Friday",
    date="Tue, 06 May 2025 09:00:00 +0100",
    message_id=f"<mkt-lunch-001@{D}>",
)

LUNCH_REPLY = _text(
    """Count me in!

> Hi all, team lunch on Friday at 12:30 in the canteen.
""",
    charset="us-ascii",
    from_=f"Raj Patel <raj.patel@{D}>",
    to=f"Ella Marsh <ella.marsh@{D}>",
    subject="Re: Team lunch on Friday",
    date="Tue, 06 May 2025 09:12:00 +0100",
    message_id=f"<mkt-lunch-002@{D}>",
    in_reply_to=f"<mkt-lunch-001@{D}>",
    references=f"<mkt-lunch-001@{D}>",
)

VPN = _text(
    """The new VPN gateway went live last night. No action needed.

IT Service Desk
""",
    charset="us-ascii",
    from_=f"IT Service Desk <servicedesk@{D}>",
    to=f"All staff <all@{D}>",
    subject="Maintenance complete: VPN gateway",
    date="Sun, 11 May 2025 07:00:00 +0100",
    message_id=f"<it-vpn-001@{D}>",
)


def _mbox(messages: list[bytes]) -> bytes:
    out = bytearray()
    for raw in messages:
        sender = b"MAILER-DAEMON"
        date = b"Mon Jan  1 00:00:00 2025"
        out += b"From " + sender + b" " + date + b"\n"
        body = raw.replace(b"\r\n", b"\n")
        # mboxrd: a body line starting with "From " is escaped with ">".
        body = b"\n".join(
            b">" + line if line.lstrip(b">").startswith(b"From ") else line
            for line in body.split(b"\n")
        )
        out += body.rstrip(b"\n") + b"\n\n"
    return bytes(out)


FRENCH_REPLY = _text(
    """Bonjour,

Le projet passe en production le 1er juillet pour le centre de Paris.
Statut : Déployé

Cordialement,
Camille Laurent

De : Laura Bianchi <laura.bianchi@northwindmutual.example>
Envoyé : lundi 5 mai 2025 14:00
À : AI Board <ai-board@northwindmutual.example>
Objet : New AI use case: Call summarisation with GenAI

Hello,

Use case: Call summarisation with GenAI
Department: Customer Service
Owner: Laura Bianchi
Status: Testing
""",
    from_=f"Camille Laurent <camille.laurent@{D}>",
    to=f"AI Board <ai-board@{D}>",
    subject="RE: TR: New AI use case: Call summarisation with GenAI",
    date="Tue, 01 Jul 2025 10:30:00 +0200",
    message_id=f"<cs-fr-calls-003@{D}>",
    in_reply_to=f"<cs-calls-001@{D}>",
    references=f"<cs-calls-001@{D}>",
)


def contract_forward() -> bytes:
    """A forward with the original intake attached as a message (message/rfc822)."""
    inner = EmailMessage(policy=SMTP)
    inner["From"] = f"Daniel Okafor <daniel.okafor@{D}>"
    inner["To"] = f"Legal team <legal@{D}>"
    inner["Subject"] = "Contract clause extraction - please add to the register"
    inner["Date"] = "Thu, 13 Mar 2025 17:05:00 +0000"
    inner.set_content(
        "Use case: Contract clause extraction\n"
        "Department: Legal & Compliance\n"
        "Owner: Daniel Okafor\n"
        "Status: In use\n"
        "Vendor: Luminance\n"
        "Risk tier: Limited\n"
    )
    outer = EmailMessage(policy=SMTP)
    outer["From"] = f"Legal team <legal@{D}>"
    outer["To"] = f"AI Board <ai-board@{D}>"
    outer["Subject"] = "Fwd: Contract clause extraction - please add to the register"
    outer["Date"] = "Fri, 14 Mar 2025 08:00:00 +0000"
    outer["Message-ID"] = f"<legal-contracts-002@{D}>"
    outer.set_content("Daniel's request is attached. Finance tracks a similar one (FIN-03).\n")
    outer.add_attachment(inner)
    outer.set_boundary("==northwind-contracts==")
    return outer.as_bytes()


def marketing_attachment() -> bytes:
    """A mail with a spreadsheet of ideas attached."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Ideas"
    ws.append(["Idea", "Why", "Who", "Status", "Tool"])
    ws.append(
        [
            "GenAI copy drafts for campaigns",
            "First drafts of campaign copy in minutes",
            f"Ella Marsh <ella.marsh@{D}>",
            "live",
            "Azure OpenAI",
        ]
    )
    ws.append(
        [
            "Social post scheduling assistant",
            "Suggests posting times and hashtags",
            "Raj Patel",
            "parked",
            "Hootsuite OwlyWriter",
        ]
    )
    buffer = io.BytesIO()
    wb.save(buffer)
    message = EmailMessage(policy=SMTP)
    message["From"] = f"Ella Marsh <ella.marsh@{D}>"
    message["To"] = f"AI Board <ai-board@{D}>"
    message["Subject"] = "Our GenAI ideas for the inventory"
    message["Date"] = "Wed, 02 Jul 2025 11:00:00 +0100"
    message["Message-ID"] = f"<mkt-ideas-001@{D}>"
    message.set_content("Hi, our current list is attached, one idea per row.\n\nElla\n")
    message.add_attachment(
        buffer.getvalue(),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename="Marketing AI ideas.xlsx",
    )
    message.set_boundary("==northwind-ideas==")
    return message.as_bytes()


def main() -> None:
    """Write the mbox and the .eml files next to this script."""
    mbox = _mbox(
        [
            CLAIMS_FORWARD,
            HR_CHATBOT_HTML,
            INVOICE_OCR,
            INVOICE_OCR_PILOT,
            INVOICE_OCR_GERMAN,
            HR_CHATBOT_OWNER,
            CALL_SUMMARY,
            LUNCH,
            LUNCH_REPLY,
            VPN,
            INVOICE_OCR_LIVE,
        ]
    )
    (OUT / "ai-board-inbox.mbox").write_bytes(mbox)
    (OUT / "RE TR Call summarisation (Paris).eml").write_bytes(FRENCH_REPLY)
    (OUT / "Fwd Contract clause extraction.eml").write_bytes(contract_forward())
    (OUT / "Marketing AI ideas.eml").write_bytes(marketing_attachment())


if __name__ == "__main__":
    main()
