"""HTML mail bodies to plain text, keeping tables as rows of cells.

Intake forms sent from Outlook are often HTML-only, with the use case in a two-column table
("Use case | Invoice OCR") or a one-row-per-use-case grid. The text keeps block structure (one
paragraph or table row per line) so labelled lines can be read from it, and the tables are kept
as cell grids so their headers can be matched like spreadsheet headers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["HtmlText", "html_to_text"]

_BLOCK = frozenset(
    {
        "p",
        "div",
        "br",
        "tr",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "blockquote",
        "pre",
        "hr",
        "section",
        "article",
        "header",
        "footer",
        "address",
        "dd",
        "dt",
    }
)
_SKIP = frozenset({"script", "style", "head", "title", "xml", "o:p"})
_SPACES = re.compile(r"[ \t\u00a0\u200b]+")
_BLANKS = re.compile(r"\n{3,}")


#: Where mail clients start the message they answer or forward: Gmail's quote, Outlook on the
#: web's and the new Outlook's reply header, Yahoo's and Thunderbird's forward.
_QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "moz-forward-container")
_QUOTE_IDS = frozenset({"divRplyFwdMsg", "mail-editor-reference-message-container"})
#: Outlook on the desktop (Word's HTML): the quoted message's header block is a div with no
#: border but a thin top one, #E1E1E1 since Outlook 2013 and #B5C4DF before, written in
#: Word's own words ("border:none;border-top:solid #E1E1E1 1.0pt"): a page's grey rule is not.
_OUTLOOK_QUOTE_RULE = re.compile(
    r"border:\s*none;\s*border-top:\s*solid\s+#(?:E1E1E1|B5C4DF)\s+1\.0pt", re.IGNORECASE
)


def _starts_a_quote(attrs: list[tuple[str, str | None]]) -> bool:
    """Whether a div's attributes mark the start of quoted history."""
    for key, value in attrs:
        if not value:
            continue
        if key == "class" and any(name in value for name in _QUOTE_CLASSES):
            return True
        if key == "id" and value in _QUOTE_IDS:
            return True
        if key == "style" and _OUTLOOK_QUOTE_RULE.search(value):
            return True
    return False


@dataclass
class HtmlText:
    """The text of an HTML body, and its tables as lists of rows of cell texts."""

    text: str
    tables: list[list[list[str]]] = field(default_factory=list)
    quoted_tables: list[list[list[str]]] = field(default_factory=list)  # inside quoted history
    quoted_from: int | None = None  # offset in text where a quoted reply (blockquote) starts


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip_depth = 0
        self.tables: list[list[list[str]]] = []
        self.quoted_tables: list[list[list[str]]] = []
        self._table_quoted: list[bool] = []
        self._table_stack: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self.quote_depth = 0
        self.quoted_from: int | None = None
        self._length = 0

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self._length += len(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
            return
        if tag == "blockquote" or (tag == "div" and _starts_a_quote(attrs)):
            # Quoted history in HTML replies: note where it starts so it can be cut off.
            if self.quoted_from is None:
                self.quoted_from = self._length
            self.quote_depth += 1 if tag == "blockquote" else 0
        if tag == "table":
            self._table_stack.append([])
            self._table_quoted.append(self.quoted_from is not None)
        elif tag == "tr" and self._table_stack:
            self._table_stack[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
            if self.out and not self.out[-1].endswith(("\n", "\t")):
                self._emit("\t")
        if tag in _BLOCK:
            self._emit("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if tag in ("td", "th") and self._cell is not None:
            if self._table_stack and self._table_stack[-1]:
                self._table_stack[-1][-1].append(_SPACES.sub(" ", " ".join(self._cell)).strip())
            self._cell = None
            self._emit("\t")
        elif tag == "table" and self._table_stack:
            rows = [r for r in self._table_stack.pop() if any(c for c in r)]
            quoted = self._table_quoted.pop() if self._table_quoted else False
            if rows:
                (self.quoted_tables if quoted else self.tables).append(rows)
        if tag in _BLOCK:
            self._emit("\n")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self._cell is not None:
            self._cell.append(data)
        self._emit(data)


def html_to_text(html: str) -> HtmlText:
    """Convert an HTML body to text; table cells are separated by tabs, rows by line breaks."""
    converter = _Converter()
    try:
        converter.feed(html)
        converter.close()
    except (AssertionError, ValueError):
        # HTMLParser gives up on some malformed markup; what was read so far is kept.
        pass
    raw = "".join(converter.out)
    lines = []
    for line in raw.split("\n"):
        cells = [_SPACES.sub(" ", c).strip() for c in line.split("\t")]
        lines.append("\t".join(c for c in cells if c))
    text = _BLANKS.sub("\n\n", "\n".join(lines)).strip()
    quoted_from = None
    if converter.quoted_from is not None:
        # Map the raw offset to the cleaned text through the text that preceded it.
        before = raw[: converter.quoted_from]
        cleaned_before = "\n".join(
            "\t".join(c for c in (_SPACES.sub(" ", x).strip() for x in ln.split("\t")) if c)
            for ln in before.split("\n")
        )
        quoted_from = len(_BLANKS.sub("\n\n", cleaned_before).strip())
    return HtmlText(
        text=text,
        tables=converter.tables,
        quoted_tables=converter.quoted_tables,
        quoted_from=quoted_from,
    )
