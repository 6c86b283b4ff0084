"""What a message adds: its text without quoted history and without the signature.

We checked mail-parser-reply 1.36 (MIT, multilingual, installs from PyPI) on the replies in
``shared/data/mail/replies`` and on intake mails, and did not adopt it: ``parse_reply`` returns
the signature with the reply, its ``body`` cuts everything from the first "- item" line on (so a
bulleted intake "- Use case: …" loses its fields), lines quoted with ">" stay in the reply, and
it compiles its patterns per message (0.6 ms per message). This module does the same job for the
clients and languages we see (English, German, French, Dutch, Italian, Spanish, Nordic, Polish),
keeps bullets, and drops ">" lines wherever they are, so interleaved answers are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["ReplyText", "split_reply"]

# "On Mon, 3 Mar 2025 at 10:12, Priya <p@x> wrote:" and its translations; may wrap onto 2 lines.
_WROTE = re.compile(
    r"^[ \t>]*(?:On|Am|Le|El|Il|Op|Den|Em|W dniu|Dne|Pada)\b.{0,250}?"
    r"(?:wrote|schrieb|a écrit|a ecrit|escribió|escribio|ha scritto|scritto|schreef|skrev|"
    r"escreveu|napisał|napisal|napsal|kirjoitti|menulis)\b.{0,150}:\s*$"
    r"|^[ \t>]*.{0,150}\b(?:wrote|schrieb|a écrit|escribió|ha scritto|schreef|skrev|napisał"
    r"|написал|написала)"
    r"\b.{0,150}:\s*$"
    r"|^[ \t>]*\S.{0,80}\d.{0,80}<[^<>\s]+@[^<>\s]+>\s*:\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(
    r"^[ \t>]*(?:(?:On|Am|Le|El|Il|Op|Den|Em|W dniu|Dne|Pada)\b|.{0,40}\d)", re.IGNORECASE
)
_SEPARATOR = re.compile(
    r"^[ \t>]*(?:-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine"
    r"|Messaggio originale|Mensaje original|Oorspronkelijk bericht|Originalmeddelande"
    r"|Oprindelig meddelelse|Wiadomość oryginalna)\s*-{2,}"
    r"|_{10,}|-{8,}\s*$)",
    re.IGNORECASE,
)
_FORWARD_SEPARATOR = re.compile(
    r"^[ \t>]*(?:-{2,}\s*(?:Forwarded message|Forwarded Message|Weitergeleitete Nachricht"
    r"|Message transféré|Messaggio inoltrato|Mensaje reenviado|Doorgestuurd bericht"
    r"|Videresendt meddelelse|Vidarebefordrat meddelande)\s*-{2,}"
    r"|Begin forwarded message\s*:|Début du message réexpédié\s*:|Anfang der weitergeleiteten"
    r" Nachricht\s*:)",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(
    r"^[ \t>*]*(?:From|Von|De|Da|Van|Från|Fra|Od|Från|Remitente|Expéditeur)[ \t*]*:",
    re.IGNORECASE,
)
_HEADER_OTHER = re.compile(
    r"^[ \t>*]*(?:Sent|Date|To|Cc|Subject|Gesendet|Datum|An|Betreff|Envoyé|Date|À|A|Objet"
    r"|Inviato|Data|Oggetto|Enviado|Fecha|Para|Asunto|Verzonden|Aan|Onderwerp|Skickat|Till"
    r"|Ämne|Sendt|Til|Emne|Wysłano|Do|Temat)[ \t*]*:",
    re.IGNORECASE,
)
_HEADER_PAIR = re.compile(r"^[ \t>*]*([^:\n]{1,25}?)[ \t*]*:[ \t]*(.*)$")
_SIGNATURE_DELIMITER = re.compile(r"^(?:-- ?|--|__)\s*$")
_SENT_FROM = re.compile(
    r"^(?:Sent from my|Sent from Outlook|Get Outlook for|Von meinem .{1,30} gesendet"
    r"|Envoyé de mon|Inviato da|Enviado desde|Verzonden vanaf|Skickat från)",
    re.IGNORECASE,
)
_CLOSING = re.compile(
    r"^(?:thanks|thank you|many thanks|thx|cheers|best|best regards|kind regards|regards"
    r"|warm regards|best wishes|all the best|br|viele grüße|viele grüsse|beste grüße|liebe grüße"
    r"|mit freundlichen grüßen|mit freundlichen grüssen|mfg|lg|vg|gruß|grüße|danke|danke schön"
    r"|cordialement|bien cordialement|bien à vous|merci|merci beaucoup|bonne journée|salutations"
    r"|saludos|un saludo|cordiali saluti|saluti|grazie|met vriendelijke groet|groeten"
    r"|med vänlig hälsning|med venlig hilsen|venlig hilsen|hilsen|mvh|hälsningar|pozdrawiam)"
    r"\b[ ,.!]*(?:\w+[ ,.!]*)?$",
    re.IGNORECASE,
)


@dataclass
class ReplyText:
    """A body split into what the message adds and what it carries along."""

    new_text: str  # the message's own words, no quotes, no signature
    quoted_text: str = ""  # the history below the reply header, quote marks removed
    quoted_headers: dict[str, str] = field(default_factory=dict)  # From/Sent/Subject … above it
    forwarded: bool = False  # the history is a forwarded message, not a quoted reply
    signature: str = ""


def _is_outlook_header(lines: list[str], index: int) -> bool:
    if not _HEADER_FROM.match(lines[index]):
        return False
    following = [ln for ln in lines[index + 1 : index + 6] if ln.strip()]
    return sum(1 for ln in following[:4] if _HEADER_OTHER.match(ln)) >= 2


def _attribution_end(lines: list[str], index: int) -> int | None:
    """Where the history starts if an "On … wrote:" line (wrapped over up to 3 lines) is here."""
    joined = lines[index].rstrip()
    for extra in range(3):
        if extra:
            # Only a line that starts like an attribution ("On …", a date) may wrap onward.
            if not _ATTRIBUTION_START.match(lines[index]):
                return None
            if index + extra >= len(lines) or not lines[index + extra].strip():
                return None
            if lines[index + extra].lstrip().startswith(">") != lines[index].lstrip().startswith(
                ">"
            ):
                return None
            joined += " " + lines[index + extra].strip()
        if len(joined) > 320:
            return None
        if joined.endswith(":") and _WROTE.match(joined):
            return index + extra + 1
    return None


def _unquote(line: str) -> str:
    return re.sub(r"^(?:[ \t]*>)+ ?", "", line)


def split_reply(text: str, forward_subject: bool = False) -> ReplyText:
    """Split a plain-text body into the message's own text and the history it quotes.

    Args:
        text: the body as text.
        forward_subject: the subject says the message is a forward (FW:, WG:, TR: …).
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut: int | None = None
    forwarded = False
    header_start = 0
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        # Cheap guards first: every marker has a colon, or a run of dashes or underscores.
        has_colon = ":" in line
        if stripped[0] in "-_>B" or (stripped[0] in "AD" and has_colon):
            if _FORWARD_SEPARATOR.match(line):
                cut, forwarded, header_start = index, True, index + 1
                break
            if _SEPARATOR.match(line):
                cut, header_start = index, index + 1
                break
        if not has_colon and not any(ln.rstrip().endswith(":") for ln in lines[index : index + 3]):
            continue
        attribution = _attribution_end(lines, index)
        if attribution is not None:
            cut, header_start = index, attribution
            break
        if has_colon and _is_outlook_header(lines, index):
            cut, header_start = index, index
            break
    own = lines if cut is None else lines[:cut]
    history = [] if cut is None else lines[header_start:]
    if cut is not None and header_start > cut and not forwarded:
        # Bottom posting: "On … wrote:", the ">" quote, then the answer below it.
        quoted_end = 0
        quoted = False  # a ">" line: blank lines alone quote nothing
        for position, line in enumerate(history):
            if line.strip() and not line.lstrip().startswith(">"):
                break
            quoted = quoted or bool(line.strip())
            quoted_end = position + 1
        below = history[quoted_end:]
        if quoted and any(ln.strip() for ln in below) and lines[header_start - 1 :]:
            own = own + below
            history = history[:quoted_end]

    quoted_headers: dict[str, str] = {}
    if history:
        unquoted = [_unquote(ln) for ln in history]
        body_start = 0
        for position, line in enumerate(unquoted[:12]):
            if not line.strip():
                if quoted_headers:
                    body_start = position + 1
                    break
                continue
            pair = _HEADER_PAIR.match(line)
            if pair is None or not (_HEADER_FROM.match(line) or _HEADER_OTHER.match(line)):
                break
            quoted_headers[pair.group(1).strip("* ").lower()] = pair.group(2).strip("* ")
            body_start = position + 1
        quoted_text = "\n".join(unquoted[body_start:]).strip()
    else:
        quoted_text = ""
    if forward_subject and quoted_headers and not forwarded:
        forwarded = True

    # ">" lines are history wherever they are; what is between them is the sender's own.
    kept = [ln for ln in own if not ln.lstrip().startswith(">")]
    own_text, signature = _strip_signature(kept)
    if cut is None and not quoted_text:
        quoted_lines = [_unquote(ln) for ln in own if ln.lstrip().startswith(">")]
        quoted_text = "\n".join(quoted_lines).strip()
    return ReplyText(
        new_text=own_text,
        quoted_text=quoted_text,
        quoted_headers=quoted_headers,
        forwarded=forwarded,
        signature=signature,
    )


def _strip_signature(lines: list[str]) -> tuple[str, str]:
    end = len(lines)
    for index, line in enumerate(lines):
        stripped = line.strip()
        if _SIGNATURE_DELIMITER.match(line.rstrip("\n")) or (
            index > 0 and _SENT_FROM.match(stripped)
        ):
            end = index
            break
    body = lines[:end]
    signature = lines[end:]
    # A closing ("Thanks,", "Viele Grüße") followed by a few short lines ends the message.
    nonblank = [i for i, ln in enumerate(body) if ln.strip()]
    for index in reversed(nonblank[1:]):
        if _CLOSING.match(body[index].strip()):
            after = [ln for ln in body[index + 1 :] if ln.strip()]
            if len(after) <= 6 and all(len(ln.strip()) <= 60 for ln in after):
                signature = body[index:] + signature
                body = body[:index]
            break
    own = "\n".join(body).strip()
    return own, "\n".join(signature).strip()
