"""Build the Northwind Mutual sample tracker files.

Northwind Mutual is a fictional insurer. Six departments each keep their own
"AI use-case tracker", in their own format, with their own column names and
status words. This script (re)writes all six under ``sample_data/trackers/``:

    finance/Finance AI Tracker FY2025.xlsx          (openpyxl)
    hr/HR_AI_use_cases.csv                          (cp1252, ';', CRLF)
    it/IT innovation register.ods                   (odfpy)
    customer_service/CS automation projects.xlsx    (xlsxwriter)
    legal/Legal & Compliance AI register.xlsx       (openpyxl)
    marketing/Marketing GenAI ideas.xlsx            (openpyxl)

Each file deliberately carries the kind of mess found in real trackers (title
blocks above the header, hidden rows and sheets, Excel date serials stored as
numbers, day-first text dates, merged two-row headers, packed "ID: name" cells,
redacted and blank rows, invalid e-mail addresses, ...). Several use cases are
tracked by more than one department under different names; the ground truth
for deduplication is documented in ``sample_data/README.md``.

The output is deterministic: there is no randomness, every value is written
literally below. (The .xlsx/.ods containers embed the save time in their zip
entries / document properties, so the bytes differ between runs, but the cell
contents are identical.)

Run from the project root:

    .venv/bin/python sample_data/build_sample_data.py
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import xlsxwriter
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

OUT = Path(__file__).resolve().parent / "trackers"
DOMAIN = "northwindmutual.example"
FIXED_CREATED = dt.datetime(2025, 9, 30, 9, 0, 0)

D = dt.date  # short alias used in the data tables


def excel_serial(day: dt.date) -> int:
    """Excel (1900 system) serial number for a date, e.g. 2024-01-01 -> 45292."""
    return (day - dt.date(1899, 12, 30)).days


def _target(*parts: str) -> Path:
    path = OUT.joinpath(*parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# --------------------------------------------------------------------------
# Finance
# --------------------------------------------------------------------------
def build_finance() -> Path:
    """Title block, header on row 5, hidden 'Lists' sheet with a status
    data-validation, 'Started' as serials *and* real dates, a hidden row,
    and a 'Total' row at the bottom."""
    path = _target("finance", "Finance AI Tracker FY2025.xlsx")
    headers = [
        "Ref",
        "Initiative",
        "What it does",
        "Business owner",
        "Owner email",
        "Status",
        "Vendor / build",
        "Started",
        "Go-live date",
        "Annual benefit (USD)",
    ]
    # started_as_serial=True -> cell holds a plain number such as 45292
    rows = [
        (
            "FIN-01",
            "Invoice capture automation (OCR)",
            "Reads supplier invoices that arrive by post or in the AP mailbox and extracts "
            "supplier, amount, due date and PO number. Replaces manual keying by the "
            "accounts-payable team.",
            "Priya Raman",
            f"priya.raman@{DOMAIN}",
            "Live",
            "ABBYY",
            D(2023, 3, 6),
            True,
            D(2023, 11, 20),
            185000,
        ),
        (
            "FIN-02",
            "Expense receipt capture (mobile)",
            "Staff photograph receipts in the expenses app; merchant, date and VAT are read "
            "automatically and pre-filled into the claim.",
            "Tom Becker",
            f"tom.becker@{DOMAIN}",
            "Pilot",
            "SAP Concur",
            D(2024, 9, 2),
            False,
            "Q1 2026",
            22000,
        ),
        (
            "FIN-03",
            "Vendor contract analysis (NLP)",
            "Runs supplier contracts through the clause-extraction tool Legal already uses to "
            "pull out renewal dates, notice periods, price escalators and liability caps. "
            "Procurement gets renewal alerts 90 days ahead.",
            "Helen Adeyemi",
            f"helen.adeyemi@{DOMAIN}",
            "Build",
            "Luminance (via Legal)",
            D(2025, 2, 3),
            True,
            None,
            60000,
        ),
        (
            "FIN-04",
            "Cash-flow forecasting (ML)",
            "Machine-learning forecast of 13-week cash position using claims payments, "
            "premium collections and reinsurance recoveries.",
            "Bob Hughes",
            "bob@",
            "Business case",
            "in-house",
            D(2025, 4, 14),
            False,
            None,
            "tbd",
        ),
        (
            "FIN-05",
            "Bank reconciliation matching",
            "Bots match bank statement lines to ledger entries and only pass exceptions to "
            "the reconciliations team.",
            "Priya Raman",
            f"priya.raman@{DOMAIN}",
            "Live ",
            "UiPath",
            D(2022, 10, 3),
            True,
            D(2023, 2, 1),
            95000,
        ),
        (
            "FIN-06",
            "Month-end close commentary drafting",
            "Generative AI drafts the first version of the variance commentary for the "
            "monthly management accounts; analysts edit and approve.",
            "Grace Lindqvist",
            f"grace.lindqvist@{DOMAIN}",
            "pilot",
            "Microsoft",
            D(2025, 1, 13),
            False,
            None,
            30000,
        ),
        (
            "FIN-07",
            "Payment anomaly detection",
            "Flags duplicate or unusual supplier payments before each payment run, e.g. "
            "changed bank details or split invoices.",
            "Samuel Ortiz",
            f"samuel.ortiz@{DOMAIN}",
            "Build",
            "in-house",
            D(2024, 11, 4),
            True,
            "TBC",
            120000,
        ),
        (
            "FIN-08",
            "Reserve adequacy early warning",
            "Idea to use claims development patterns to warn actuarial and finance early "
            "when reserves look light.",
            "Grace Lindqvist",
            f"grace.lindqvist@{DOMAIN}",
            "Idea",
            "in-house",
            D(2025, 6, 2),
            False,
            None,
            None,
        ),
        (
            "FIN-09",
            "Premium collections prioritisation",
            "Scores overdue broker and direct-debit premium balances so credit control "
            "calls the accounts most likely to lapse first.",
            "Samuel Ortiz",
            f"samuel.ortiz@{DOMAIN}",
            "Business case",
            "in-house",
            D(2025, 5, 19),
            True,
            None,
            45000,
        ),
        (
            "FIN-10",
            "Intercompany journal auto-posting",
            "RPA bot that posted recurring intercompany journals. Switched off after the "
            "ERP upgrade made it redundant.",
            "Tom Becker",
            "",
            "Decommissioned",
            "UiPath",
            D(2021, 6, 1),
            True,
            D(2021, 9, 15),
            0,
        ),
        (
            "FIN-11",
            "Tax provision workpaper assistant",
            "Assistant that pre-populates the quarterly tax provision workpapers from the "
            "trial balance.",
            "Helen Adeyemi",
            f"helen.adeyemi@{DOMAIN}",
            "Idea",
            "Microsoft",
            D(2025, 7, 7),
            False,
            None,
            None,
        ),
        (
            "FIN-12",
            "Supplier onboarding document check",
            "Reads bank letters, tax forms and certificates submitted by new suppliers and "
            "checks them against the onboarding form.",
            "Bob Hughes",
            f"bob.hughes@{DOMAIN}",
            "Business case",
            "ABBYY",
            D(2025, 3, 10),
            True,
            None,
            18000,
        ),
        (
            "FIN-13",
            "IFRS 17 disclosure drafting",
            "Drafts narrative sections of the IFRS 17 disclosures from the actuarial results pack.",
            "Grace Lindqvist",
            f"grace.lindqvist@{DOMAIN}",
            "Idea",
            "in-house",
            D(2025, 8, 4),
            False,
            None,
            None,
        ),
        (
            "FIN-14",
            "Budget Q&A bot in Teams",
            "Budget holders ask questions about their cost centre spend in plain English "
            "inside Teams.",
            "Tom Becker",
            f"tom.becker@{DOMAIN}",
            "Pilot",
            "Microsoft",
            D(2025, 2, 24),
            True,
            D(2025, 10, 1),
            15000,
        ),
    ]
    hidden_ref = "FIN-09"
    statuses = ["Idea", "Business case", "Build", "Pilot", "Live", "Decommissioned"]

    wb = openpyxl.Workbook()
    wb.properties.creator = "Finance Transformation"
    wb.properties.created = FIXED_CREATED
    ws = wb.active
    ws.title = "Tracker"

    ws["A1"] = "Northwind Mutual — Finance"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = "AI initiatives tracker"
    ws["A2"].font = Font(italic=True)
    ws["A3"] = "Last updated: 30/09/2025"
    # row 4 left blank
    header_row = 5
    for col, name in enumerate(headers, start=1):
        cell = ws.cell(row=header_row, column=col, value=name)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F4E78")

    first = header_row + 1
    for i, (
        ref,
        name,
        what,
        owner,
        email,
        status,
        vendor,
        started,
        as_serial,
        golive,
        benefit,
    ) in enumerate(rows):
        r = first + i
        ws.cell(r, 1, ref)
        ws.cell(r, 2, name)
        ws.cell(r, 3, what).alignment = Alignment(wrap_text=True)
        ws.cell(r, 4, owner)
        ws.cell(r, 5, email)
        ws.cell(r, 6, status)
        ws.cell(r, 7, vendor)
        if as_serial:
            ws.cell(r, 8, excel_serial(started))  # plain number, General format
        else:
            ws.cell(r, 8, started).number_format = "DD/MM/YYYY"
        if isinstance(golive, dt.date):
            ws.cell(r, 9, golive).number_format = "DD/MM/YYYY"
        elif golive is not None:
            ws.cell(r, 9, golive)
        if benefit is not None:
            c = ws.cell(r, 10, benefit)
            if isinstance(benefit, (int, float)):
                c.number_format = "#,##0"
        if ref == hidden_ref:
            ws.row_dimensions[r].hidden = True
    last = first + len(rows) - 1

    total_row = last + 1
    ws.cell(total_row, 1, "Total").font = Font(bold=True)
    ws.cell(total_row, 2, len(rows)).font = Font(bold=True)  # count of initiatives
    numeric_benefit = sum(b for *_, b in rows if isinstance(b, (int, float)))
    tot = ws.cell(total_row, 10, numeric_benefit)
    tot.font = Font(bold=True)
    tot.number_format = "#,##0"

    lists = wb.create_sheet("Lists")
    for i, word in enumerate(statuses, start=1):
        lists.cell(i, 1, word)
    lists.sheet_state = "hidden"

    dv = DataValidation(
        type="list",
        formula1="=Lists!$A$1:$A$6",
        allow_blank=True,
        showErrorMessage=True,
        showInputMessage=True,
    )
    dv.error = "Pick a status from the list"
    dv.prompt = "Status of the initiative"
    ws.add_data_validation(dv)
    dv.add(f"F{first}:F{last}")

    for col, width in zip("ABCDEFGHIJ", [9, 38, 70, 18, 34, 15, 22, 12, 13, 20], strict=False):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = f"A{first}"
    wb.save(path)
    return path


# --------------------------------------------------------------------------
# HR
# --------------------------------------------------------------------------
def build_hr() -> Path:
    """cp1252, semicolon-delimited CSV with CRLF line endings, day-first text
    dates, accented names, euro amounts, a quoted field containing ';', and
    one row pasted twice (exact duplicate)."""
    path = _target("hr", "HR_AI_use_cases.csv")
    header = [
        "Use case",
        "Description",
        "Owner",
        "E-mail",
        "Stage",
        "Date raised",
        "Personal data (Y/N)",
        "Benefit",
    ]
    interview = [
        "Interview scheduling automation",
        "Finds free slots across interview panels and sends calendar invites "
        "to candidates automatically.",
        "Renée Laurent",
        f"renee.laurent@{DOMAIN}",
        "Rolled out",
        "12/11/2024",
        "Y",
        "€ 14.000",
    ]
    rows = [
        [
            "Employee helpdesk chatbot",
            "Answers employee questions on leave; pay and benefits policies in Teams, "
            "using the HR policy library. Hands over to an HR adviser when it cannot answer.",
            "José Álvarez",
            f"jose.alvarez@{DOMAIN}",
            "Piloting",
            "17/01/2025",
            "Y",
            "€40.000",
        ],
        [
            "Chatbot for HR onboarding",
            "Guides new joiners through their first-week checklist (laptop collection, "
            "mandatory training, payroll forms) and reminds line managers of open tasks.",
            "Zoë Müller",
            f"zoe.muller@{DOMAIN}",
            "Rolled out",
            "03/04/2025",
            "Y",
            "€12.500",
        ],
        [
            "CV screening assistant",
            "Ranks incoming applications against the job requirements so recruiters "
            "review the strongest matches first. Paused until Legal completes its review.",
            "Sinéad O'Brien",
            f"sinead.obrien@{DOMAIN}",
            "On hold",
            "05/06/2025",
            "Y",
            "€60.000",
        ],
        [
            "Attrition risk prediction",
            "Predicts which teams are at risk of higher resignations using survey and "
            "HR system data.",
            "François Dubois",
            f"francois.dubois@{DOMAIN}",
            "Idea",
            "21/02/2025",
            "Y",
            "",
        ],
        interview,
        [
            "Job advert writing with GenAI",
            "Drafts job adverts from the role profile in our employer-brand tone of voice.",
            "Renée Laurent",
            f"renee.laurent@{DOMAIN}",
            "Exploring",
            "08/07/2025",
            "N",
            "€ 6 000",
        ],
        [
            "Learning recommendations",
            "Suggests courses in the learning platform based on role and skills gaps.",
            "Björn Åkesson",
            f"bjorn.akesson@{DOMAIN}",
            "Piloting",
            "30/09/2024",
            "Y",
            "n/a",
        ],
        [
            "Payroll query classification",
            "Classifies e-mails to the payroll mailbox (tax code, overtime, bank details) "
            "and routes them to the right queue.",
            "Zoë Müller",
            "zoe.muller@northwindmutual",
            "Exploring",
            "14/03/2025",
            "Y",
            "€9,000/yr",
        ],
        [
            "Engagement survey comment analysis",
            "Sentiment and topic analysis of free-text comments from the annual engagement survey.",
            "François Dubois",
            f"francois.dubois@{DOMAIN}",
            "Rolled out",
            "02/10/2024",
            "y",
            "€ 8.000",
        ],
        [
            "Absence pattern analytics",
            "Spotted unusual absence patterns for line managers. Stopped after "
            "consultation with the works council.",
            "Björn Åkesson",
            "",
            "Stopped",
            "19/08/2024",
            "Y - special category",
            "€0",
        ],
        [
            "Policy document translation",
            "Machine translation (DeepL) of HR policies into Spanish, German and French "
            "for our EU offices.",
            "José Álvarez",
            f"jose.alvarez@{DOMAIN}",
            "Rolled out",
            "11/12/2024",
            "N",
            "€ 7.500",
        ],
        [
            "Skills inference from profiles",
            "Infers skills from job history and internal profiles to build a skills inventory.",
            "Sinéad O'Brien",
            f"sinead.obrien@{DOMAIN}",
            "Idea",
            "27/05/2025",
            "Y",
            "",
        ],
        [
            "Exit interview summarisation",
            "Summarises exit interview notes and groups the reasons people give for leaving.",
            "Renée Laurent",
            f"renee.laurent@{DOMAIN}",
            "Exploring",
            "7/8/2025",
            "Y",
            "€ 3.000",
        ],
        list(interview),  # the same row pasted a second time (exact duplicate)
    ]
    with open(path, "w", encoding="cp1252", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --------------------------------------------------------------------------
# IT
# --------------------------------------------------------------------------
def build_it() -> Path:
    """ODS with a two-row header: merged group headers on row 1
    (number-columns-spanned) and sub-headers on row 2; dates as date cells."""
    from odf.number import DateStyle, Day, Month, Year
    from odf.number import Text as NumText
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableCellProperties, TableColumnProperties, TextProperties
    from odf.table import CoveredTableCell, Table, TableCell, TableColumn, TableRow
    from odf.text import P

    path = _target("it", "IT innovation register.ods")
    columns = [
        "ID",
        "Title",
        "Stage",
        "Go-live",
        "Vendor",
        "Technique",
        "Lead",
        "Lead email",
        "Description",
    ]
    rows = [
        (
            "IT-101",
            "Optical character recognition for AP invoices",
            "Production",
            D(2023, 11, 20),
            "ABBYY",
            "OCR / document AI",
            "Marcus Chen",
            f"marcus.chen@{DOMAIN}",
            "Platform service that OCRs supplier invoices from the AP mailbox and scanning "
            "room and hands structured fields to SAP. Run by IT for Finance.",
        ),
        (
            "IT-102",
            "GenAI assistant for HR policy questions",
            "PoC",
            None,
            "Microsoft (Azure OpenAI)",
            "LLM + retrieval (RAG)",
            "Aisha Karim",
            f"aisha.karim at {DOMAIN}",
            "Teams assistant that answers staff questions about HR policies (leave, pay, "
            "benefits) from the policy library, with hand-off to HR.",
        ),
        (
            "IT-103",
            "Contact-centre call summary (LLM)",
            "In build",
            D(2026, 1, 15),
            "Microsoft",
            "Speech-to-text + LLM",
            "Aisha Karim",
            f"aisha.karim@{DOMAIN}",
            "Transcribes recorded customer calls and writes a summary and wrap-up code "
            "into the CRM so agents do not have to type after-call notes.",
        ),
        (
            "IT-104",
            "Generative AI marketing content assistant",
            "PoC",
            None,
            "Microsoft (Azure OpenAI)",
            "LLM",
            "Daniel Park",
            f"daniel.park@{DOMAIN}",
            "Secure GPT workspace for the marketing team to draft campaign e-mails, social "
            "posts and web copy within brand guidelines.",
        ),
        (
            "IT-105",
            "Copilot for code review",
            "Production",
            D(2024, 6, 3),
            "GitHub (Microsoft)",
            "Code LLM",
            "Marcus Chen",
            f"marcus.chen@{DOMAIN}",
            "GitHub Copilot enabled for developers, including automated pull-request "
            "review comments.",
        ),
        (
            "IT-106",
            "Fraud detection ML (claims)",
            "In build",
            D(2025, 12, 1),
            "in-house",
            "Gradient boosting",
            "Oliver Grant",
            f"oliver.grant@{DOMAIN}",
            "Model that scores new claims for fraud indicators and sends high scores to "
            "the special investigations unit.",
        ),
        (
            "IT-107",
            "Log anomaly detection (AIOps)",
            "Production",
            D(2023, 5, 8),
            "Dynatrace",
            "Anomaly detection",
            "Oliver Grant",
            f"oliver.grant@{DOMAIN}",
            "Detects unusual behaviour in application and infrastructure logs and opens "
            "incidents automatically.",
        ),
        (
            "IT-108",
            "Service desk ticket auto-routing",
            "Production",
            D(2024, 2, 12),
            "ServiceNow",
            "Text classification",
            "Marcus Chen",
            f"marcus.chen@{DOMAIN}",
            "Classifies incoming IT tickets and assigns them to the right resolver group.",
        ),
        (
            "IT-109",
            "Password reset voice bot",
            "Sunset",
            D(2021, 4, 19),
            "Nuance",
            "Speech recognition",
            "Daniel Park",
            "",
            "IVR voice bot for password resets. Replaced by self-service reset portal; "
            "switched off March 2025.",
        ),
        (
            "IT-110",
            "Enterprise search over SharePoint",
            "Discovery",
            None,
            "Microsoft",
            "Semantic search",
            "Daniel Park",
            f"daniel.park@{DOMAIN}",
            "Semantic search across SharePoint and Teams files, respecting existing permissions.",
        ),
        (
            "IT-111",
            "Synthetic test data generation",
            "Discovery",
            None,
            "in-house",
            "Generative models",
            "Oliver Grant",
            f"oliver.grant@{DOMAIN}",
            "Generates realistic but synthetic policy and claims records for test "
            "environments so production data is not copied.",
        ),
        (
            "IT-112",
            "Legacy COBOL code explanation",
            "PoC",
            None,
            "IBM",
            "Code LLM",
            "Marcus Chen",
            f"marcus.chen@{DOMAIN}",
            "Uses an LLM to explain and document the COBOL policy administration "
            "system before migration.",
        ),
        (
            "IT-113",
            "Mailroom document classification",
            "Production",
            D(2022, 9, 26),
            "ABBYY",
            "Document classification",
            "Aisha Karim",
            f"aisha.karim@{DOMAIN}",
            "Sorts scanned inbound post (claim forms, complaints, medical reports, "
            "cheques) into work queues. Invoices are passed on to the AP OCR service.",
        ),
        (
            "IT-114",
            "Phishing e-mail detection",
            "Production",
            D(2023, 1, 9),
            "Microsoft",
            "ML classification",
            "Oliver Grant",
            f"oliver.grant@{DOMAIN}",
            "Defender for Office 365 ML filters plus in-house rules for insurance-themed phishing.",
        ),
        (
            "IT-115",
            "RPA user provisioning",
            "Sunset",
            D(2020, 11, 2),
            "UiPath",
            "RPA (no ML)",
            "Daniel Park",
            f"daniel.park@{DOMAIN}",
            "Bot that created accounts for joiners. Retired when the identity platform "
            "took over provisioning.",
        ),
    ]

    doc = OpenDocumentSpreadsheet()

    date_style = DateStyle(name="N_ISODATE")
    date_style.addElement(Year(style="long"))
    date_style.addElement(NumText(text="-"))
    date_style.addElement(Month(style="long"))
    date_style.addElement(NumText(text="-"))
    date_style.addElement(Day(style="long"))
    doc.automaticstyles.addElement(date_style)
    date_cell = Style(name="ce_date", family="table-cell", datastylename="N_ISODATE")
    doc.automaticstyles.addElement(date_cell)
    head_cell = Style(name="ce_head", family="table-cell")
    head_cell.addElement(TextProperties(fontweight="bold"))
    head_cell.addElement(TableCellProperties(backgroundcolor="#D9E1F2"))
    doc.automaticstyles.addElement(head_cell)

    widths = ["2.0cm", "7.5cm", "2.4cm", "2.6cm", "4.5cm", "4.5cm", "3.2cm", "5.5cm", "12cm"]
    table = Table(name="Register")
    for i, w in enumerate(widths):
        st = Style(name=f"co{i}", family="table-column")
        st.addElement(TableColumnProperties(columnwidth=w))
        doc.automaticstyles.addElement(st)
        table.addElement(TableColumn(stylename=st))

    def text_cell(value: str, style=None, span: int = 1) -> TableCell:
        kwargs = {"valuetype": "string"}
        if style is not None:
            kwargs["stylename"] = style
        if span > 1:
            kwargs["numbercolumnsspanned"] = span
            kwargs["numberrowsspanned"] = 1
        cell = TableCell(**kwargs)
        cell.addElement(P(text=value))
        return cell

    # Header row 1: merged group headers, the other columns empty.
    row1 = TableRow()
    row1.addElement(text_cell("Use case", head_cell, span=2))
    row1.addElement(CoveredTableCell())
    row1.addElement(text_cell("Delivery", head_cell, span=3))
    row1.addElement(CoveredTableCell())
    row1.addElement(CoveredTableCell())
    for _ in range(4):  # Technique, Lead, Lead email, Description: no group
        row1.addElement(TableCell(stylename=head_cell))
    table.addElement(row1)

    # Header row 2: the real sub-headers.
    row2 = TableRow()
    for name in columns:
        row2.addElement(text_cell(name, head_cell))
    table.addElement(row2)

    for rec in rows:
        tr = TableRow()
        for value in rec:
            if value is None or value == "":
                tr.addElement(TableCell())
            elif isinstance(value, dt.date):
                cell = TableCell(valuetype="date", datevalue=value.isoformat(), stylename=date_cell)
                cell.addElement(P(text=value.isoformat()))
                tr.addElement(cell)
            else:
                tr.addElement(text_cell(str(value)))
        table.addElement(tr)

    doc.spreadsheet.addElement(table)
    doc.save(str(path))
    return path


# --------------------------------------------------------------------------
# Customer Service
# --------------------------------------------------------------------------
def build_customer_service() -> Path:
    """xlsxwriter workbook with an 'Instructions' sheet plus 'Active' and
    'Archive' sheets; 'CS-014: Claims triage model' style packed cells, a fully
    REDACTED row, two blank rows mid-table, and 'Last updated' as a mix of date
    cells and ISO text."""
    path = _target("customer_service", "CS automation projects.xlsx")
    headers = [
        "Project",
        "Description",
        "Owner",
        "Owner e-mail",
        "Status",
        "Supplier",
        "Channel",
        "Last updated",
    ]
    # Last updated: dt.date -> date cell, str -> text cell
    active = [
        (
            "CS-003: Email triage for customer inbox",
            "Reads e-mails to the customer service inbox, detects the intent (address "
            "change, cancellation, complaint, claim update) and routes them to the right "
            "team.",
            "Kevin Osei",
            f"kevin.osei@{DOMAIN}",
            "Live",
            "Microsoft",
            "E-mail",
            D(2025, 6, 30),
        ),
        (
            "CS-007: Website virtual assistant (web chat)",
            "Virtual assistant on northwindmutual.com that answers quote and policy "
            "questions and captures leads for the sales team. Run jointly with Marketing.",
            "Laura Bianchi",
            f"laura.bianchi@{DOMAIN}",
            "Live",
            "Salesforce",
            "Web chat",
            "2025-06-30",
        ),
        (
            "CS-011: Call summarisation with GenAI",
            "After each call a large language model writes the call notes and wrap-up "
            "reason into the CRM. Target: cut after-call work by 40%.",
            "Kevin Osei",
            f"kevin.osei@{DOMAIN} ",
            "In progress",
            "Microsoft / Genesys",
            "Phone",
            D(2025, 8, 15),
        ),
        (
            "CS-014: Claims triage model",
            "Scores each first notification of loss for complexity and likely cost, and "
            "sends simple claims to the fast-track team and complex ones to specialist "
            "handlers.",
            "Fatima Haddad",
            f"fatima.haddad@{DOMAIN}",
            "Live",
            "in-house",
            "All",
            "2025-07-01",
        ),
        (
            "CS-015: Sentiment detection on calls",
            "Real-time sentiment alerts so team leaders can join calls that are going badly.",
            "Laura Bianchi",
            f"laura.bianchi@{DOMAIN}",
            "Approved",
            "Genesys",
            "Phone",
            D(2025, 5, 12),
        ),
        None,  # blank row
        (
            "CS-018: Complaint root-cause tagging",
            "Tags every logged complaint with a root cause so monthly reporting is consistent.",
            "Fatima Haddad",
            "",
            "In progress",
            "in-house",
            "All",
            "2025-04-22",
        ),
        "REDACTED",  # every cell "REDACTED"
        None,  # blank row
        (
            "CS-019: Next-best-action for retention",
            "Suggests retention offers to agents when a customer calls to cancel.",
            "Michael Svensson",
            f"michael.svensson@{DOMAIN}",
            "Approved",
            "Salesforce",
            "Phone",
            D(2025, 3, 3),
        ),
        (
            "CS-022: Agent knowledge search (GenAI)",
            "Agents ask questions in plain language and get answers from product "
            "wordings and procedures, with links to the source document.",
            "Michael Svensson",
            f"michael.svensson@{DOMAIN}",
            "Proposed",
            "TBC",
            "All",
            "2025-09-01",
        ),
        (
            "CS-023: Voice authentication",
            "Verifies callers by their voiceprint instead of security questions.",
            "Laura Bianchi",
            "laura.bianchi@",
            "Approved",
            "Nuance (Microsoft)",
            "Phone",
            D(2025, 2, 10),
        ),
        (
            "CS-024: Proactive claim status SMS",
            "Predicts when a customer is likely to chase their claim and sends a status "
            "update by SMS first.",
            "Fatima Haddad",
            f"fatima.haddad@{DOMAIN}",
            "Proposed",
            "in-house",
            "SMS",
            D(2025, 9, 18),
        ),
        (
            "CS-025: Live translation for callers",
            "Live speech translation for customers who do not speak English.",
            "Kevin Osei",
            f"kevin.osei@{DOMAIN}",
            "Proposed",
            "Microsoft",
            "Phone",
            "2025-09-24",
        ),
    ]
    archive = [
        (
            "CS-001: IVR speech recognition upgrade",
            "Natural-language IVR ('tell us why you are calling'). Replaced by the Genesys "
            "cloud IVR.",
            "Michael Svensson",
            f"michael.svensson@{DOMAIN}",
            "Retired",
            "Nuance",
            "Phone",
            D(2023, 12, 1),
        ),
        (
            "CS-002: FAQ bot v1",
            "First rule-based FAQ bot on the website. Retired and replaced by CS-007.",
            "Laura Bianchi",
            f"laura.bianchi@{DOMAIN}",
            "Retired",
            "in-house",
            "Web chat",
            "2024-03-31",
        ),
        (
            "CS-005: Emotion AI for agent coaching",
            "Facial/voice emotion scoring of agents for coaching. Rejected after legal and "
            "works-council review.",
            "Kevin Osei",
            f"kevin.osei@{DOMAIN}",
            "Rejected",
            "TBC",
            "Phone",
            D(2024, 5, 20),
        ),
        (
            "CS-009: Automated complaint response letters",
            "Fully automated final-response letters for complaints. Rejected: regulator "
            "expects human sign-off.",
            "Fatima Haddad",
            f"fatima.haddad@{DOMAIN}",
            "Rejected",
            "in-house",
            "Post",
            "2024-08-14",
        ),
        (
            "CS-010: Outbound renewal dialler",
            "Predictive dialler prioritising renewal calls. Retired when renewals moved to e-mail.",
            "Michael Svensson",
            "",
            "Retired",
            "Genesys",
            "Phone",
            D(2024, 11, 29),
        ),
    ]
    instructions = (
        "How to use this tracker: add one row per automation or AI project on the "
        "'Active' sheet. Put the project ID and a short name in the Project column "
        "(e.g. 'CS-014: Claims triage model'); ask the CS change team for the next free "
        "ID. Status must be one of Proposed, Approved, In progress, Live. Write the "
        "owner's full name and their e-mail address, the supplier (or 'in-house'), and "
        "the date you last updated the row. When a project is retired or rejected, "
        "move the row to the 'Archive' sheet and set Status to Retired or Rejected - "
        "do not delete rows. Rows containing confidential HR or supplier information "
        "must be marked REDACTED before this file is shared outside Customer Service."
    )

    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties(
        {"title": "CS automation projects", "author": "CS Change Team", "created": FIXED_CREATED}
    )
    bold = wb.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    date_fmt = wb.add_format({"num_format": "dd mmm yyyy"})

    ws = wb.add_worksheet("Instructions")
    ws.set_column(0, 0, 110)
    ws.write(
        0,
        0,
        "Customer Service – automation & AI project tracker",
        wb.add_format({"bold": True, "font_size": 14}),
    )
    ws.write(2, 0, instructions, wrap)
    ws.set_row(2, 120)
    ws.write(4, 0, "Questions: cs-change@" + DOMAIN)

    def write_sheet(name: str, data: list) -> None:
        sh = wb.add_worksheet(name)
        sh.write_row(0, 0, headers, bold)
        for col, width in enumerate([42, 70, 18, 32, 12, 20, 10, 14]):
            sh.set_column(col, col, width)
        for i, rec in enumerate(data, start=1):
            if rec is None:
                continue  # leave the row completely blank
            if rec == "REDACTED":
                sh.write_row(i, 0, ["REDACTED"] * len(headers))
                continue
            *cells, updated = rec
            for col, value in enumerate(cells):
                if value == "":
                    continue
                sh.write_string(i, col, value, wrap if col == 1 else None)
            if isinstance(updated, dt.date):
                sh.write_datetime(
                    i, len(headers) - 1, dt.datetime.combine(updated, dt.time()), date_fmt
                )
            else:
                sh.write_string(i, len(headers) - 1, updated)
        sh.freeze_panes(1, 0)
        sh.autofilter(0, 0, len(data), len(headers) - 1)

    write_sheet("Active", active)
    write_sheet("Archive", archive)
    wb.get_worksheet_by_name("Active").activate()
    wb.close()
    return path


# --------------------------------------------------------------------------
# Legal & Compliance
# --------------------------------------------------------------------------
def build_legal() -> Path:
    """Title row merged A1:J1, a notes line with a two-column merge, then the
    header; text dates in several styles and EU AI Act / DPIA vocabularies."""
    path = _target("legal", "Legal & Compliance AI register.xlsx")
    headers = [
        "Initiative",
        "Summary",
        "Business owner",
        "Contact",
        "Lifecycle",
        "Risk tier (EU AI Act)",
        "DPIA status",
        "Personal data?",
        "Third party",
        "Date logged",
    ]
    rows = [
        (
            "Contract clause extraction",
            "Extracts limitation of liability, termination, data-protection and renewal "
            "clauses from supplier and broker contracts into the contract repository. Also "
            "used by Procurement/Finance for supplier renewals.",
            "Daniel Okafor",
            f"legal-ops@{DOMAIN}",
            "In use",
            "Minimal",
            "N/A – waived",
            "No",
            "Luminance",
            "March 2025",
        ),
        (
            "Automated claims triage – fairness review",
            "Customer Service's model that routes new claims to fast-track or specialist "
            "handlers. Review of bias against protected groups and of the explanation "
            "given to customers.",
            "Amara Nwosu",
            f"amara.nwosu@{DOMAIN}",
            "Under review",
            "High risk",
            "In progress",
            "Yes",
            "in-house (Customer Service)",
            "2025-03-14",
        ),
        (
            "Claims fraud scoring model",
            "Scores incoming claims for fraud indicators; referrals go to the SIU. "
            "Human investigator makes every decision.",
            "Amara Nwosu",
            f"amara.nwosu@{DOMAIN}",
            "Approved with conditions",
            "Limited",
            "Completed",
            "Yes",
            "in-house (IT)",
            "14 Mar 2025",
        ),
        (
            "AI-assisted recruitment screening",
            "HR tool that ranks job applicants against role requirements. Employment use "
            "case listed in Annex III.",
            "Sinéad O'Brien",
            f"sinead.obrien@{DOMAIN}",
            "Under review",
            "High risk",
            "In progress",
            "Yes",
            "Eightfold",
            "May 2025",
        ),
        (
            "Copilot for meeting notes",
            "Microsoft 365 Copilot transcribes Teams meetings of the Legal team and drafts "
            "minutes and action lists.",
            "Daniel Okafor",
            f"daniel.okafor@{DOMAIN}",
            "In use",
            "Limited",
            "Completed",
            "Yes",
            "Microsoft",
            "2025-01-20",
        ),
        (
            "Regulatory change monitoring",
            "Scans regulator publications (EIOPA, national supervisors) and summarises "
            "changes relevant to Northwind Mutual.",
            "Charlotte Webb",
            "ext. 4471",
            "In use",
            "Minimal",
            "N/A – waived",
            "No",
            "Thomson Reuters",
            "2 Dec 2024",
        ),
        (
            "Customer call summaries (GenAI) – DPIA",
            "DPIA and transparency wording for Customer Service's plan to summarise "
            "recorded customer calls with a large language model.",
            "Amara Nwosu",
            f"amara.nwosu@{DOMAIN}",
            "Under review",
            "Limited",
            "In progress",
            "Yes",
            "Microsoft",
            "June 2025",
        ),
        (
            "Life & health underwriting risk model",
            "Pricing and risk-assessment model for individual life and health policies "
            "(Annex III point 5(c)).",
            "Charlotte Webb",
            f"charlotte.webb@{DOMAIN}",
            "Approved with conditions",
            "High risk",
            "Completed",
            "Yes (special category)",
            "in-house",
            "2024-11-05",
        ),
        (
            "Litigation outcome prediction",
            "Proposal to estimate the likely outcome and cost of disputed claims in litigation.",
            "Daniel Okafor",
            "",
            "Registered",
            "Not yet assessed",
            "Not started",
            "Unknown",
            "TBC",
            "Aug 2025",
        ),
        (
            "E-discovery document review",
            "Technology-assisted review to prioritise documents in disclosure exercises.",
            "Daniel Okafor",
            f"daniel.okafor@{DOMAIN}",
            "In use",
            "Minimal",
            "N/A – waived",
            "Yes",
            "Relativity",
            "15 Oct 2024",
        ),
        (
            "Marketing content generator (GenAI)",
            "Marketing's use of generative AI to draft campaign copy. Conditions: human "
            "approval of every asset and AI disclosure where required.",
            "Charlotte Webb",
            f"charlotte.webb@{DOMAIN}",
            "Approved with conditions",
            "Limited",
            "N/A – waived",
            "No",
            "Microsoft (Azure OpenAI)",
            "2025-04-02",
        ),
        (
            "Sanctions screening name matching",
            "Fuzzy name matching of customers and claim payees against sanctions lists.",
            "Charlotte Webb",
            f"charlotte.webb@{DOMAIN}",
            "In use",
            "Minimal",
            "Completed",
            "Y",
            "ComplyAdvantage",
            "January 2024",
        ),
        (
            "Policy wording comparison",
            "Compares new and old policy wordings and highlights changes in cover.",
            "Daniel Okafor",
            "daniel.okafor@northwindmutual",
            "Registered",
            "Not yet assessed",
            "Not started",
            "No",
            "in-house",
            "09/2025",
        ),
    ]

    wb = openpyxl.Workbook()
    wb.properties.creator = "Legal & Compliance"
    wb.properties.created = FIXED_CREATED
    ws = wb.active
    ws.title = "Register"

    ws["A1"] = "AI register — owned by Legal & Compliance"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells("A1:J1")
    ws["A2"] = "Note: risk tier = EU AI Act classification (Art. 6 / Annex III)"
    ws["A2"].font = Font(italic=True)
    ws.merge_cells("A2:B2")
    ws["C2"] = "Reviewed quarterly by the AI governance group"
    ws["C2"].font = Font(italic=True)
    # row 3 blank
    header_row = 4
    for col, name in enumerate(headers, start=1):
        cell = ws.cell(header_row, col, name)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E2EFDA")
    for i, rec in enumerate(rows, start=header_row + 1):
        for col, value in enumerate(rec, start=1):
            if value != "":
                ws.cell(i, col, value)  # every date here is deliberately text
    for col, width in zip("ABCDEFGHIJ", [40, 70, 18, 32, 24, 20, 14, 20, 26, 14], strict=False):
        ws.column_dimensions[col].width = width
    wb.save(path)
    return path


# --------------------------------------------------------------------------
# Marketing
# --------------------------------------------------------------------------
def build_marketing() -> Path:
    """Two year sheets ('2024', '2025') with the same columns; lower-case
    statuses; 'Who' mixes 'Name <email>', bare names and first names; one idea
    carried over from 2024 to 2025 with a new status."""
    path = _target("marketing", "Marketing GenAI ideas.xlsx")
    headers = ["Idea", "Why", "Who", "Status", "Tool", "As of"]
    y2024 = [
        (
            "Chatbot",
            "Website chatbot so visitors get quote answers 24/7 and we capture leads "
            "outside office hours. Built with Customer Service.",
            f"Chloe Martin <chloe.martin@{DOMAIN}>",
            "live",
            "Salesforce",
            D(2024, 10, 1),
        ),
        (
            "Product page rewrite with ChatGPT",
            "Rewrite home and motor product pages in plain English to lift conversion.",
            "Raj",
            "testing",
            "ChatGPT",
            D(2024, 9, 16),
        ),
        (
            "Social media image generation",
            "Generate images for social posts instead of buying stock photos.",
            f"Ella Novak <ella.novak@{DOMAIN}>",
            "dropped",
            "Midjourney",
            D(2024, 7, 8),
        ),
        (
            "Email subject line optimisation",
            "AI-written subject lines tested against ours; better open rates.",
            f"Chloe Martin <chloe.martin@{DOMAIN}>",
            "live",
            "Persado",
            D(2024, 4, 2),
        ),
        (
            "Customer segmentation clustering",
            "Find new segments in the customer base for targeted campaigns.",
            "Raj Patel",
            "approved",
            "in-house",
            D(2024, 11, 18),
        ),
        (
            "SEO keyword research",
            "Faster keyword research and content briefs for the blog.",
            "Ella",
            "live",
            "Semrush",
            D(2024, 3, 11),
        ),
        (
            "AI voiceover for explainer videos",
            "Cheaper voiceovers for short product explainer videos.",
            f"Ella Novak <ella.novak@{DOMAIN}>",
            "parked",
            "ElevenLabs",
            D(2024, 8, 19),
        ),
        (
            "Competitor ad monitoring",
            "Summarise competitors' ads every week.",
            "Raj",
            "dropped",
            "",
            D(2024, 5, 27),
        ),
    ]
    y2025 = [
        (
            "GenAI copy drafts for campaigns",
            "First drafts of campaign e-mails, social posts and landing-page copy in "
            "minutes; the team edits and Legal approves.",
            f"Chloe Martin <chloe.martin@{DOMAIN}>",
            "testing",
            "Azure OpenAI (IT sandbox)",
            D(2025, 6, 9),
        ),
        (
            "Product page rewrite with ChatGPT",
            "Rewrite home and motor product pages in plain English to lift conversion.",
            "Raj",
            "live",
            "ChatGPT",
            D(2025, 2, 3),
        ),
        (
            "Personalised renewal emails",
            "Tailor renewal e-mails to the customer's cover and claims history.",
            "Raj Patel <raj.patel@>",
            "testing",
            "Salesforce",
            D(2025, 7, 21),
        ),
        (
            "Brand voice checker",
            "Check any copy against our tone-of-voice guide before publishing.",
            "Ella Novak",
            "parked",
            "Writer",
            D(2025, 3, 17),
        ),
        (
            "Social listening sentiment",
            "Track what people say about Northwind Mutual after storms and big claims events.",
            f"Ella Novak <ella.novak@{DOMAIN}>",
            "live",
            "Brandwatch",
            D(2025, 1, 27),
        ),
        (
            "Campaign performance forecasting",
            "Predict leads per channel before committing budget.",
            f"Chloe Martin <chloe.martin@{DOMAIN}>",
            "approved",
            "in-house",
            D(2025, 8, 11),
        ),
        (
            "Landing-page A/B test idea generator",
            "Generate variants of headlines and calls to action to test.",
            "Raj",
            "parked",
            "ChatGPT",
            D(2025, 5, 6),
        ),
        (
            "Translation of campaign assets",
            "Translate campaigns for our Spanish and German markets.",
            "Ella",
            "live",
            "DeepL",
            D(2025, 4, 14),
        ),
        (
            "Video ad scripts",
            "Draft 15/30-second video ad scripts. Dropped: agency already does this.",
            f"Chloe Martin <chloe.martin@{DOMAIN}>",
            "dropped",
            "ChatGPT",
            D(2025, 9, 8),
        ),
    ]

    wb = openpyxl.Workbook()
    wb.properties.creator = "Marketing"
    wb.properties.created = FIXED_CREATED
    wb.remove(wb.active)
    for title, data in (("2024", y2024), ("2025", y2025)):
        ws = wb.create_sheet(title)
        for col, name in enumerate(headers, start=1):
            ws.cell(1, col, name).font = Font(bold=True)
        for r, rec in enumerate(data, start=2):
            for col, value in enumerate(rec, start=1):
                if value == "":
                    continue
                cell = ws.cell(r, col, value)
                if isinstance(value, dt.date):
                    cell.number_format = "D MMM YYYY"
        for col, width in zip("ABCDEF", [38, 70, 44, 10, 26, 13], strict=False):
            ws.column_dimensions[col].width = width
    wb.active = 1  # open on the current year
    wb["2025"].sheet_view.tabSelected = True
    wb.save(path)
    return path


def main() -> None:
    builders = [
        build_finance,
        build_hr,
        build_it,
        build_customer_service,
        build_legal,
        build_marketing,
    ]
    for build in builders:
        path = build()
        print(f"wrote {path.relative_to(OUT.parent.parent)}")


if __name__ == "__main__":
    main()
