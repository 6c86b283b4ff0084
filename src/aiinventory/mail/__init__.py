"""Reading mail: parsing, charset repair, threading, quote stripping, field extraction."""

from .extract import MailCounts, MessageSummary, extract_mail, inspect_mail
from .limits import MailLimits
from .mail_sources import MAIL_FILE_SUFFIXES, detect_mail_format, is_maildir
from .parsing import ParsedMessage, parse_message

__all__ = [
    "MAIL_FILE_SUFFIXES",
    "MailCounts",
    "MailLimits",
    "MessageSummary",
    "ParsedMessage",
    "detect_mail_format",
    "extract_mail",
    "inspect_mail",
    "is_maildir",
    "parse_message",
]
