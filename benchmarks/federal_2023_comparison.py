"""Compare an import of the 2023 US federal agency AI inventories with the consolidated file.

The 16 agency files in ``../shared/data/us_federal_2023/agency_raw`` are what the agencies
published in 2023; ``2023_consolidated_ai_inventory_raw.csv`` is what a central office made of
them (and of five other agencies' files, which are not in agency_raw). Per agency this prints how
many use cases each side has and how many names agree:

* exact: the same name once case, punctuation and whitespace are folded away;
* fuzzy: ``rapidfuzz.fuzz.token_sort_ratio >= 90`` on the folded names (includes the exact ones).

Matching is one-to-one within an agency, so a name listed twice on one side and once on the other
counts once. Run from the project root::

    .venv/bin/python benchmarks/federal_2023_comparison.py [--data DIR] [--out DIR]

The test ``tests/test_real_federal_2023.py`` imports this file for its mapping and counts.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import tempfile
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "us_federal_2023"
CONSOLIDATED_NAME = "2023_consolidated_ai_inventory_raw.csv"
FUZZY_THRESHOLD = 90

#: agency_raw file name pattern → the consolidated file's Department_Code. Worked out from the
#: file names and checked against the contents: each file's names match that department's titles
#: and no other's (``department_by_content``).
FILE_DEPARTMENTS: tuple[tuple[str, str], ...] = (
    (r"USAID\.xlsx$", "USAID"),
    (r"USDA\.csv$", "USDA"),
    (r"-doigovdata\.xlsx$", "DOI"),
    (r"-opm\.xlsx$", "OPM"),
    (r"-nara\.xlsx$", "NARA"),
    (r"_dhs-inventory", "DHS"),
    (r"^DOL_", "DOL"),
    (r"^DOS_", "DOS"),
    (r"^Department_of_Transportation_", "DOT"),
    (r"^ED_", "ED"),
    (r"^EPA_", "EPA"),
    (r"^GSA_", "GSA"),
    (r"^HUD_", "HUD"),
    (r"^SSA-", "SSA"),
    (r"^VA_", "VA"),
    (r"^hhs-", "HHS"),
)

_NON_WORD = re.compile(r"[\W_]+")


def fold_name(text: str) -> str:
    """Casefold and collapse every run of punctuation and whitespace to one space."""
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def department_for_file(file_name: str) -> str | None:
    """The consolidated Department_Code of an agency_raw file, by its name."""
    for pattern, code in FILE_DEPARTMENTS:
        if re.search(pattern, file_name):
            return code
    return None


@dataclass
class Consolidated:
    """The consolidated file: titles and department names by Department_Code."""

    titles: dict[str, list[str]]
    names: dict[str, str]


def load_consolidated(path: Path) -> Consolidated:
    titles: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            code = row["Department_Code"].strip()
            titles.setdefault(code, []).append(row["Title"])
            names.setdefault(code, row["Department"].strip())
    return Consolidated(titles, names)


@dataclass
class FileUseCases:
    """One agency_raw file's part of our inventory."""

    file: str
    records: int
    names: list[str]  # one per use case


def our_use_cases(out_dir: Path) -> dict[str, FileUseCases]:
    """Per source file (by file name): its record count and its use cases' names."""
    by_file: dict[str, dict[str, str]] = {}
    records: Counter[str] = Counter()
    with (out_dir / "records.csv").open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            file = Path(row["source_path"]).name
            records[file] += 1
            by_file.setdefault(file, {}).setdefault(row["use_case_id"], row["name"])
    return {
        file: FileUseCases(file, records[file], list(cases.values()))
        for file, cases in sorted(by_file.items())
    }


def match_names(ours: list[str], theirs: list[str]) -> tuple[int, int]:
    """One-to-one name agreement: (exact folded matches, fuzzy matches including exact ones)."""
    left = Counter(fold_name(n) for n in ours)
    right = Counter(fold_name(n) for n in theirs)
    exact = sum((left & right).values())
    rest_left = list((left - right).elements())
    rest_right = list((right - left).elements())
    pairs = sorted(
        (
            (score, i, j)
            for i, a in enumerate(rest_left)
            for j, b in enumerate(rest_right)
            if (score := fuzz.token_sort_ratio(a, b)) >= FUZZY_THRESHOLD
        ),
        key=lambda p: (-p[0], p[1], p[2]),
    )
    used_left: set[int] = set()
    used_right: set[int] = set()
    for _, i, j in pairs:
        if i not in used_left and j not in used_right:
            used_left.add(i)
            used_right.add(j)
    return exact, exact + len(used_left)


def department_by_content(names: list[str], consolidated: Consolidated) -> str | None:
    """The department whose titles share the most folded names with ``names`` (None: no match)."""
    folded = {fold_name(n) for n in names}
    best, best_hits = None, 0
    for code, titles in sorted(consolidated.titles.items()):
        hits = sum(1 for t in titles if fold_name(t) in folded)
        if hits > best_hits:
            best, best_hits = code, hits
    return best


@dataclass
class ComparisonRow:
    agency: str
    department: str
    file: str  # "" for a consolidated department with no agency_raw file
    records: int
    ours: int  # use cases
    consolidated: int
    exact: int
    fuzzy: int
    by_content: str | None  # the department our names point to

    @property
    def smaller(self) -> int:
        return min(self.ours, self.consolidated)


def compare(out_dir: Path, consolidated_csv: Path) -> list[ComparisonRow]:
    """One row per agency_raw file in the import, then one per consolidated-only department."""
    consolidated = load_consolidated(consolidated_csv)
    rows: list[ComparisonRow] = []
    seen: set[str] = set()
    for file, uc in our_use_cases(out_dir).items():
        code = department_for_file(file) or "?"
        seen.add(code)
        titles = consolidated.titles.get(code, [])
        exact, fuzzy_hits = match_names(uc.names, titles)
        rows.append(
            ComparisonRow(
                agency=code,
                department=consolidated.names.get(code, ""),
                file=file,
                records=uc.records,
                ours=len(uc.names),
                consolidated=len(titles),
                exact=exact,
                fuzzy=fuzzy_hits,
                by_content=department_by_content(uc.names, consolidated),
            )
        )
    for code, titles in sorted(consolidated.titles.items()):
        if code not in seen:
            rows.append(
                ComparisonRow(code, consolidated.names[code], "", 0, 0, len(titles), 0, 0, None)
            )
    rows.sort(key=lambda r: (r.file == "", r.agency, r.file))
    return rows


@dataclass
class Totals:
    records: int
    ours: int
    consolidated: int  # of the departments that have an agency_raw file
    consolidated_all: int
    exact: int
    fuzzy: int
    smaller: int  # sum over files of min(ours, consolidated)

    @property
    def fuzzy_agreement(self) -> float:
        return self.fuzzy / self.smaller if self.smaller else 0.0


def totals(rows: list[ComparisonRow]) -> Totals:
    with_file = [r for r in rows if r.file]
    return Totals(
        records=sum(r.records for r in with_file),
        ours=sum(r.ours for r in with_file),
        consolidated=sum(r.consolidated for r in with_file),
        consolidated_all=sum(r.consolidated for r in rows),
        exact=sum(r.exact for r in with_file),
        fuzzy=sum(r.fuzzy for r in with_file),
        smaller=sum(r.smaller for r in with_file),
    )


def format_table(rows: list[ComparisonRow]) -> str:
    head = (
        "agency",
        "file",
        "records",
        "ours",
        "consolidated",
        "exact",
        "fuzzy",
        "content→",
    )
    body = [
        (
            r.agency,
            (r.file[:58] + "…") if len(r.file) > 59 else (r.file or "(no agency_raw file)"),
            str(r.records) if r.file else "-",
            str(r.ours) if r.file else "-",
            str(r.consolidated),
            str(r.exact) if r.file else "-",
            str(r.fuzzy) if r.file else "-",
            (r.by_content or "none") if r.file else "",
        )
        for r in rows
    ]
    t = totals(rows)
    body.append(
        (
            "TOTAL",
            f"{sum(1 for r in rows if r.file)} files",
            str(t.records),
            str(t.ours),
            f"{t.consolidated} (all: {t.consolidated_all})",
            str(t.exact),
            str(t.fuzzy),
            "",
        )
    )
    widths = [max(len(line[i]) for line in (head, *body)) for i in range(len(head))]
    numeric = {2, 3, 4, 5, 6}

    def fmt(line: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    lines = [fmt(head), rule, *(fmt(line) for line in body[:-1]), rule, fmt(body[-1])]
    lines.append(
        f"fuzzy name agreement: {t.fuzzy}/{t.smaller} = {t.fuzzy_agreement:.1%} of the smaller "
        f"side per agency (exact: {t.exact}); 'ours' counts use cases, 'records' source rows"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the us_federal_2023 folder")
    parser.add_argument("--out", type=Path, default=None, help="import into this folder")
    args = parser.parse_args(argv)
    agency_raw = args.data / "agency_raw"
    consolidated_csv = args.data / CONSOLIDATED_NAME
    if not agency_raw.is_dir() or not consolidated_csv.is_file():
        print(f"no data at {args.data}", file=sys.stderr)
        return 2

    from aiinventory.api import run_import

    with tempfile.TemporaryDirectory(prefix="federal_2023_") as tmp:
        out = args.out or Path(tmp)
        result = run_import([agency_raw], out)
        counts = result.summary.counts
        print(
            f"import: {counts['files_read']}/{counts['files_seen']} files, "
            f"{counts['rows_read']} rows read, {counts['records']} records, "
            f"{counts['rejects']} rejects, {counts['use_cases']} use cases; "
            f"skipped rows {result.summary.skipped_rows}"
        )
        rows = compare(out, consolidated_csv)
    print(format_table(rows))
    odd = [r for r in rows if r.file and r.by_content != r.agency]
    for r in odd:
        print(
            f"note: {r.file}: mapped to {r.agency} by name, but its use-case names match "
            f"{r.by_content or 'no department'} in the consolidated file"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
