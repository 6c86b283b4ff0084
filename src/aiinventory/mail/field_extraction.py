"""Use-case fields in mail text: labelled lines, HTML tables, and replies that change a field.

Labels are matched with the same header synonyms as spreadsheet columns (``mappings/fields.yaml``
through ``Mappings.match_header``), so "Use case:", "Owner -", "Business unit:" mean in a mail
what they mean in a tracker. German and French intake labels that the shipped synonyms do not
know yet are listed here (``MAIL_LABELS``); they are tried first.

Replies rarely repeat the form; they say "moving this to pilot" or "please make Dana Lee the
owner". ``update_phrases`` reads those in English, German and French and gives the raw value the
normaliser then maps as if it were a cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..mappings import Mappings, asks_if_live, yes_or_no
from ..schema import DATE_FIELDS
from ..text_normalization import fold
from .thread_builder import strip_subject_prefixes

__all__ = [
    "MAIL_LABELS",
    "FieldEvidence",
    "labelled_blocks",
    "labelled_fields",
    "may_mention_a_change",
    "name_from_subject",
    "prose_text",
    "table_records",
    "update_phrases",
]

#: Labels seen in intake mails, folded ("Cas d'usage" → "cas d usage"), with their field.
MAIL_LABELS: dict[str, str] = {
    "use case": "name",
    "ai use case": "name",
    "use case name": "name",
    "proposed use case": "name",
    "anwendungsfall": "name",
    "ki anwendungsfall": "name",
    "use case titel": "name",
    "projekt": "name",
    "vorhaben": "name",
    "cas d usage": "name",
    "cas d utilisation": "name",
    "cas d usage ia": "name",
    "projet": "name",
    "nom du projet": "name",
    "titre": "name",
    "verantwortlich": "owner_name",
    "verantwortliche": "owner_name",
    "verantwortlicher": "owner_name",
    "ansprechpartner": "owner_name",
    "ansprechpartnerin": "owner_name",
    "responsable": "owner_name",
    "porteur": "owner_name",
    "porteur du projet": "owner_name",
    "proprietaire": "owner_name",
    "abteilung": "department",
    "fachbereich": "department",
    "bereich": "department",
    "service": "department",
    "direction": "department",
    "departement": "department",
    "equipe": "department",
    "status": "stage",
    "statut": "stage",
    "stand": "stage",
    "etat": "stage",
    "etape": "stage",
    "beschreibung": "description",
    "zweck": "description",
    "ziel": "description",
    "objectif": "description",
    "resume": "description",
    "anbieter": "vendor_name",
    "lieferant": "vendor_name",
    "hersteller": "vendor_name",
    "fournisseur": "vendor_name",
    "prestataire": "vendor_name",
    "editeur": "vendor_name",
    "outil": "vendor_name",
    "nutzen": "benefits",
    "benefices": "benefits",
    "gain attendu": "benefits",
    "gains attendus": "benefits",
    "personenbezogene daten": "personal_data",
    "donnees personnelles": "personal_data",
    "technik": "ai_techniques",
    "technologie": "ai_techniques",
    "ki technik": "ai_techniques",
    "produktivstart": "date_deployed",
    "mise en production": "date_deployed",
    "courriel": "owner_email",
}

# Labels that are mail headers, greetings or contact details, never use-case fields.
_NOT_FIELDS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "sent",
        "date",
        "subject",
        "von",
        "an",
        "betreff",
        "gesendet",
        "datum",
        "de",
        "a",
        "objet",
        "envoye",
        "tel",
        "phone",
        "mobile",
        "fax",
        "web",
        "http",
        "https",
        "mailto",
        "note",
        "ps",
        "re",
        "fw",
        "aw",
        "wg",
        "tr",
        "hi",
        "hello",
        "dear",
        "attachment",
        "attachments",
    }
)

# "Use case: Invoice OCR", "- Owner - Dana Lee", "**Status**: Pilot", "Statut : déployé",
# "1) Use case name: Call summarisation" (one of a list of use cases).
_LABELLED = re.compile(
    r"^[ \t]*(?:[-*•·–]\s*|(?P<number>\(?\d{1,2}[.)]\s+|\(?[a-h]\)\s+))?"
    r"\**(?P<label>[^\W\d_][^:\t\n]{0,40}?)\**[ \t]*"
    r"(?::|：|[ \t][-–—][ \t])[ \t]*(?P<value>.*?)\s*$"
)
_MAX_LABEL_WORDS = 5
#: Labelled values kept in a record's extras at most (a long form says more than a use case).
_MAX_UNMAPPED = 30
_DATE_FIELDS = frozenset({*DATE_FIELDS, "last_updated"})
#: Another label after a sentence on the same line: "Deployed. Go-live date: 3 March 2025".
_NEXT_LABEL = re.compile(r"(?<=[.;])\s+([^\W\d_][^:.;\n]{0,40}?)\s*:\s")
_PARAGRAPH_FIELDS = frozenset({"description", "benefits"})

_NAME = (
    r"(?P<who>[A-ZÀ-Ý][\w'’.-]+"
    r"(?:[ \t]+(?:van|von|de|der|da|di|le|la|du)?[ \t]*[A-ZÀ-Ý][\w'’.-]+){0,3})"
)
_STAGE_WORD = (
    r"(?P<stage>pilot(?:ing)?|production|prod|live|development|dev|build|testing|test|uat"
    r"|deployment|general availability|ga|trial|beta|retirement)"
)
_STAGE_FROM_WORD = {
    "pilot": "pilot",
    "piloting": "pilot",
    "testing": "pilot",
    "test": "pilot",
    "uat": "pilot",
    "trial": "pilot",
    "beta": "pilot",
    "production": "deployed",
    "prod": "deployed",
    "live": "deployed",
    "deployment": "deployed",
    "general availability": "deployed",
    "ga": "deployed",
    "development": "in development",
    "dev": "in development",
    "build": "in development",
    "retirement": "retired",
}
#: "is now deployed", "has been deployed": not "we have deployed nothing", nor "deployed to the
#: pilot group / UAT / a sandbox", nor in a question or a condition (see _asserted).
_DEPLOYED = re.compile(
    r"\b(?:is|are|was|were|has been|have been)\s+"
    r"(?:now\s+|officially\s+|fully\s+|successfully\s+)*"
    r"deployed\b(?!\s+(?:to|in|into|on|for|with|as)\s+(?:a\s+|an\s+|the\s+|our\s+)?"
    r"(?:pilot|test|trial|limited|small|few|uat|staging|sandbox|dev|development|pre))",
    re.IGNORECASE,
)
#: "the pilot has started", "Pilot kicked off on Monday": not "once the pilot has started".
_PILOT_STARTED = re.compile(
    r"\b(?:pilot|trial)\s+(?:has\s+|have\s+|was\s+|is\s+)?(?:now\s+)?(?:started|begun|began"
    r"|kicked off|launched|under\s?way|live)\b",
    re.IGNORECASE,
)
#: What a use case is called in a sentence that says what someone did to it: "it", "the
#: chatbot", "our OCR tool", "both bots", or a name ("Invoice OCR", group ``named``: taken only
#: when it is the thread's use case's, see ``_names_the_use_case``); not "the shared drive",
#: "my laptop", "that option" or a day.
_TOOL_NOUNS = (
    r"(?:tool|bot|chatbot|model|system|service|pilot|assistant|solution|use\s+case|app"
    r"|application|platform|product|project|engine|classifier|pipeline|integration|feature"
    r"|capability|thing)"
)
_DAY_OR_I = (
    r"(?!(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun|jan|feb|mar|apr|may|jun|jul|aug|sep"
    r"|sept|oct|nov|dec)[a-z]*\b|(?:christmas|easter|i)\b)"
)
_DONE_TO = (
    r"(?:it\b|them\b"
    r"|(?:this|that)(?=\s*(?:[.!;,]|$|\s+(?:as\s+of|on|in|last|yesterday|today|this|at)\b))"
    r"|(?:this|that|these|those|the|our|both|all)\s+(?:(?:the|our|of|two|three|four|five"
    r"|\d+)\s+)*(?:[\w-]+\s+){0,4}?" + _TOOL_NOUNS + r"s?\b"
    r"|(?:the\s+)?" + _DAY_OR_I + r"(?P<named>(?-i:[A-Z])[\w-]*(?:\s+(?-i:[A-Z0-9])[\w-]*)*)\b)"
)
#: Said by who did it: "We retired Invoice OCR on 2 May", "we’ve decommissioned the bot".
_SAID_RETIRED = re.compile(
    r"\b(?:we|they|i)(?:['’]ve|['’]d|\s+have|\s+had)?\s+(?:now\s+|finally\s+|officially\s+"
    r"|just\s+)?(?:retired|decommissioned|sunsetted|switched\s+off|turned\s+off|shut\s+down)\s+"
    + _DONE_TO,
    re.IGNORECASE,
)
#: "We are no longer pursuing the chatbot", "they have shelved the project".
_SAID_REJECTED = re.compile(
    r"\b(?:we|they)(?:(?:['’]re|\s+are)\s+no\s+longer\s+(?:pursuing|progressing|going\s+ahead"
    r"\s+with|proceeding\s+with)|(?:['’]ve|\s+have)?\s+(?:abandoned|shelved))\s+" + _DONE_TO,
    re.IGNORECASE,
)
#: Words that leave out of a use case's name when telling whether a reply names it.
_NAME_FILLER = frozenset(
    {"ai", "the", "a", "an", "of", "for", "and", "use", "case", "new", "request", "tool"}
)


def _names_the_use_case(match: re.Match[str], name: str | None) -> bool:
    """Whether what a phrase says was done to is the use case: "it", "the chatbot", or a name
    that shares a word with the name of the use case the reply is about ("Invoice OCR" in a
    reply on "New AI use case: Invoice OCR"; not "Teams" or "Jane")."""
    named = match.groupdict().get("named")
    if not named:
        return True
    if not name:
        return False
    words = {w for w in fold(name).split() if w not in _NAME_FILLER}
    return any(w in words for w in fold(named).split())


#: Words that make what follows in their sentence a condition, not a fact.
_CONDITION = re.compile(
    r"\b(?:once|whether|when|until|unless|if|before|after|as soon as)\b", re.IGNORECASE
)
#: The same, but for the words that may only say when something was done.
_CONDITION_NOT_TIME = re.compile(r"\b(?:once|whether|until|unless|if|as soon as)\b", re.IGNORECASE)
#: Where a clause ends: a condition before a comma ("If you need access, …") leads to no
#: phrase after it.
_CLAUSE_END = re.compile(r"[.!?;,]")
_SENTENCE_END = re.compile(r"[.!?;]")


def _asserted(flat: str, match: re.Match[str], done: bool = False) -> bool:
    """Whether a phrase states a fact: its sentence asks nothing, and no condition in its
    clause leads to it ("once it is deployed", "Can you confirm whether it is deployed?").
    ``done``: the phrase says what was done ("we retired it"), so a time before it ("After
    the audit we retired it", "When the contract ended, …") is no condition."""
    start = max((m.end() for m in _CLAUSE_END.finditer(flat, 0, match.start())), default=0)
    end = _SENTENCE_END.search(flat, match.end())
    if end is not None and end.group(0) == "?":
        return False
    condition = _CONDITION_NOT_TIME if done else _CONDITION
    return condition.search(flat, start, match.start()) is None


_STAGE_PHRASES: list[tuple[re.Pattern[str], str | None]] = [
    (
        re.compile(
            r"\b(?:(?:mov(?:e|es|ed|ing)|promot(?:e|es|ed|ing)|progress(?:es|ed|ing)?"
            r"|advanc(?:e|es|ed|ing)|transition(?:s|ed|ing)?|tak(?:e|ing)|took|puts?|putting"
            r"|push(?:es|ed|ing)?|graduat(?:e|es|ed|ing))\s+(?:(?:this|it|that|the\s+\w+(?:\s+\w+)?)\s+)?"
            r"(?:back\s+)?(?:(?:in)?to|in)|(?:go|goes|going|went|gone)\s+(?:back\s+)?into)\s+"
            r"(?:the\s+)?" + _STAGE_WORD + r"\b",
            re.IGNORECASE,
        ),
        None,
    ),
    # Before "is live": "the pilot is live" is a pilot.
    (_PILOT_STARTED, "pilot"),
    (
        re.compile(
            r"\b(?:is|are|now|has|have|went|gone|going)\s+(?:now\s+|been\s+|officially\s+|still\s+)*"
            r"(?:in\s+|into\s+)?" + _STAGE_WORD + r"\b",
            re.IGNORECASE,
        ),
        None,
    ),
    (re.compile(r"\b(?:went|gone|goes|going)\s+live\b", re.IGNORECASE), "deployed"),
    # "is still at the idea stage", "are in the concept phase", "is still just an idea"
    (
        re.compile(
            r"\b(?:is|are)\s+(?:still\s+)?(?:at|in)\s+(?:the\s+|an?\s+)?(?:early\s+)?"
            r"(?:idea|ideation|concept|proposal|exploration|discovery)\s+(?:stage|phase)\b"
            r"|\b(?:is|are)\s+still\s+(?:just\s+|only\s+)?an?\s+idea\b",
            re.IGNORECASE,
        ),
        "idea",
    ),
    (
        re.compile(
            r"\b(?:has been|have been|was|were|is|are|is being|will be|been|now)\s+"
            r"(?:now\s+)?(?:retired|decommissioned|switched off|sunset|shut down)\b"
            r"|\b(?:switched|turned)\s+(?:it|this|that|them)\s+off\b"
            r"|\bshut\s+(?:it|this|that|them)\s+down\b",
            re.IGNORECASE,
        ),
        "retired",
    ),
    (_SAID_RETIRED, "retired"),
    (_SAID_REJECTED, "rejected"),
    (
        re.compile(
            r"\b(?:has been|was|is)\s+(?:rejected|declined|cancelled|canceled)\b"
            r"|\bnot (?:going ahead|proceeding)\b|\bwill not (?:proceed|go ahead)\b"
            r"|\b(?:decided|agreed|chose)\s+not\s+to\s+(?:proceed|go ahead|pursue)\b",
            re.IGNORECASE,
        ),
        "rejected",
    ),
    (re.compile(r"\b(?:is|was|has been)\s+(?:put\s+)?on hold\b", re.IGNORECASE), "on hold"),
    # After retirement and rejection: "was deployed in 2021 but has been decommissioned".
    (_DEPLOYED, "deployed"),
    # German
    (
        re.compile(
            r"\b(?:in\s+den\s+)?Pilot(?:betrieb|phase)?\b.{0,40}?\b(?:überführt|verschoben"
            r"|gestartet|genommen|gehen|übergehen|starten)\b|\bPilotbetrieb\b",
            re.IGNORECASE,
        ),
        "pilot",
    ),
    (
        re.compile(
            r"\b(?:ist\s+(?:jetzt\s+|nun\s+)?live|in\s+(?:den\s+)?(?:Produktion|Produktivbetrieb)"
            r"\s+(?:gegangen|genommen|überführt|gehen)|ist\s+(?:jetzt\s+|nun\s+)?produktiv"
            r"|Produktivbetrieb\s+(?:gestartet|aufgenommen))\b",
            re.IGNORECASE,
        ),
        "deployed",
    ),
    (
        re.compile(r"\b(?:abgeschaltet|außer Betrieb genommen|stillgelegt)\b", re.IGNORECASE),
        "retired",
    ),
    (re.compile(r"\b(?:abgelehnt|wird nicht weiterverfolgt)\b", re.IGNORECASE), "rejected"),
    # French
    (
        re.compile(
            r"\b(?:passe|passage|passer|bascule|basculer|mis|mise)\s+en\s+(?P<fr>pilote|production"
            r"|prod|test)\b|\best\s+(?:maintenant\s+|désormais\s+)?en\s+(?P<fr2>pilote|production)\b",
            re.IGNORECASE,
        ),
        None,
    ),
    (
        re.compile(r"\b(?:a été|est)\s+(?:retiré|décommissionné|arrêté)e?\b", re.IGNORECASE),
        "retired",
    ),
    (re.compile(r"\b(?:a été|est)\s+(?:rejeté|refusé)e?\b", re.IGNORECASE), "rejected"),
]
_FRENCH_STAGE = {"pilote": "pilot", "production": "deployed", "prod": "deployed", "test": "pilot"}
#: A name with its address after it: "Dana Lee (dana.lee@corp.example)", "Dana Lee <…>".
_NAME_ADDRESS = _NAME + r"(?:[ \t]*[(<](?P<address>[^()<>\s@]+@[^()<>\s@]+\.\w+)[)>])?"
_OWNER_PHRASES = [
    re.compile(
        r"\b(?:please\s+)?make\s+"
        + _NAME_ADDRESS
        + r"\s+(?:the\s+)?(?:new\s+)?(?:business\s+)?owner\b"
    ),
    re.compile(
        _NAME_ADDRESS + r"\s+(?:is|will be)\s+(?:now\s+)?(?:the\s+)?new\s+(?:business\s+)?owner\b"
    ),
    re.compile(
        # (the words in any case, "Ownership moves to …" opening a sentence; the name capitalised)
        r"(?i:\b(?:new\s+)?owner(?:ship)?\s+(?:is\s+now|will\s+be|moves\s+to|passes\s+to"
        r"|transfers\s+to|goes\s+to|changes\s+to)\s+)" + _NAME_ADDRESS
    ),
    re.compile(
        r"\b(?:hand(?:ing|ed)?\s+(?:it\s+|this\s+)?over|handover)\s+to\s+"
        + _NAME
        + r"\s+as\s+(?:the\s+)?owner"
    ),
    re.compile(
        _NAME + r"\s+übernimmt\s+(?:die\s+|ab\s+sofort\s+die\s+)?(?:Verantwortung|Ownership"
        r"|Leitung)"
    ),
    re.compile(
        r"\bneue[rn]?\s+(?:Verantwortliche[rn]?|Ansprechpartner(?:in)?|Owner)\s+(?:ist\s+)?" + _NAME
    ),
    re.compile(
        _NAME + r"\s+(?:devient|sera)\s+(?:le\s+|la\s+)?(?:nouveau\s+|nouvelle\s+)?"
        r"(?:responsable|propriétaire)"
    ),
    re.compile(r"\b(?:le\s+)?nouveau\s+responsable\s+est\s+" + _NAME),
]
_WEEKDAYS = frozenset(
    {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "please"}
)
_VENDOR_PHRASES = [
    re.compile(
        r"\b[Ww]e(?:'ve| have)?\s+(?:chosen|selected|picked|gone with|signed with)\s+"
        r"(?P<vendor>[A-Z][\w.&-]+(?:\s+[A-Z][\w.&-]+){0,2})"
    ),
]
# Words without which no phrase above can match, tested as plain substrings of the lower-cased
# text first (a regex alternation over them costs ~0.5 ms a message; this costs ~20 µs).
_STAGE_HINTS = (
    "pilot", "produ", "live", "deploy", "develop", " dev", "build", "test", "uat", "trial",
    "beta", "retire", "decommission", "switched off", "sunset", "shut down", "reject",
    "declin", "cancel", "going ahead", "proceed", "on hold", "general availability", " ga",
    "abgeschaltet", "betrieb", "stillgelegt", "abgelehnt", "weiterverfolgt", "retiré", "arrêté",
    "rejeté", "refusé", "mis en", "mise en", "passe en", "passage en", "passer en", "bascul",
    "an idea", "idea stage", "idea phase", "ideation", "concept stage", "concept phase",
    "proposal stage", "proposal phase", "exploration stage", "exploration phase",
    "discovery stage", "discovery phase", "switched", "turned", "shut", "not to", "no longer",
    "abandon", "shelved",
)  # fmt: skip
_OWNER_HINTS = ("owner", "übernimmt", "verantwortlich", "ansprechpartner", "responsable",
                "propriétaire")  # fmt: skip
_VENDOR_HINTS = ("chosen", "selected", "picked", "gone with", "signed with")


def _has_any(lowered: str, words: tuple[str, ...]) -> bool:
    return any(word in lowered for word in words)


# Subjects of intake and update mails: the use case's name follows the prefix.
_SUBJECT_NAME = re.compile(
    # "New AI use case: X", "AI use case registration: X", "Request to register a new AI use
    # case - X", "New AI use case for registration – X"
    r"^(?:(?:new|request|requesting|proposal|proposed|register|registering|registration|"
    r"submission|submitting|to|a|an|ai|genai|gen\s+ai|ml)\s+)*"
    r"(?:use[\s-]case|usecase)"
    r"(?:\s+(?:request|proposal|intake|submission|registration|update|for|to|register|"
    r"the))*\s*[:–—-]\s*(?P<a>.+)$"
    r"|^(?:new\s+)?(?:ai|genai|ml)\s+(?:request|proposal|initiative|idea|intake(?:\s+form|"
    r"\s+request)?)\s*[:–—-]\s*(?P<b>.+)$"
    r"|^(?:neuer\s+)?(?:ki[\s-])?anwendungsfall\s*[:–—-]\s*(?P<c>.+)$"
    r"|^(?:nouveau\s+)?cas\s+d['’]usage(?:\s+ia)?\s*[:–—-]\s*(?P<d>.+)$"
    r"|^status\s+update\s*[:–—-]\s*(?P<e>.+?)(?:\s*[–—-]\s*.*)?$"
    # "Proposal - AI for recruitment CV screening", "Idea: GenAI drafting of claims letters":
    # a proposal of something that is AI by its own words
    r"|^(?:new\s+)?(?:proposal|idea)\s*[:–—-]\s*"
    r"(?P<f>(?:an?\s+)?(?:ai|genai|gen\s+ai|ml|llm|copilot|chatbot|machine\s+learning)\b.+)$",
    re.IGNORECASE,
)

#: Words of the intake process's own mail, said where a request's subject has the name.
_NOT_A_NAME = re.compile(
    r"\b(?:reminders?|deadline|attached|attachments?|fyi|questions?\s+(?:about|on|re)|"
    r"template|webinar|digest|newsletter|recap|out of office|agenda|extended|new version|"
    r"invitation|next steps|thoughts on|faq|guidance|training|course|workshop|webinars?|"
    r"licen[cs]es?)\b",
    re.IGNORECASE,
)
#: The words before an update's name: "AI use case update: Invoice OCR".
_UPDATE_SUBJECT = re.compile(r"\bupdate\b", re.IGNORECASE)
#: A greeting that opens a message ("Hi team,", "Dear all", "Hallo zusammen,", "Bonjour,").
_GREETING = re.compile(
    r"^(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening)|hallo|guten\s+(?:morgen|tag)"
    r"|liebe[rs]?|moin|servus|bonjour|bonsoir|salut|hej|hoi|goedemorgen|beste|ciao|buongiorno"
    r"|hola|buenos\s+d[ií]as|all|team)\b[^.!?\n]{0,60}[,!:]?$",
    re.IGNORECASE,
)
#: A greeting before a label on the same line ("Hi team, Status: Deployed", "Dear all! Owner:
#: …", "Hallo zusammen - Status: …"): a greeting word, up to three words of whom it greets, and
#: a comma, an exclamation mark, a colon or a dash. "All" and "Team" greet only alone ("All,
#: Status: …"): "All claims, …" begins a sentence.
_GREETING_BEFORE_LABEL = re.compile(
    r"^[ \t]*(?:(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening)|hallo"
    r"|guten\s+(?:morgen|tag)|liebe[rs]?|moin|servus|bonjour|bonsoir|salut|hej|hoi|goedemorgen"
    r"|beste|ciao|buongiorno|hola|buenos\s+d[ií]as)\b(?:[ \t]+[^\W\d_][\w'’.-]*){0,3}"
    r"|all|team)(?:[ \t]*[,!:]|[ \t]+[-–—])[ \t]*(?=\S)",
    re.IGNORECASE,
)
#: A sender's name alone on the last line: one to three capitalised words.
_SIGNED = re.compile(r"(?:[A-ZÀ-Ý][\w'.-]*\s?){1,3}")
#: How much of a message's own text a description taken from it keeps.
_PROSE_MAX = 2000


@dataclass
class FieldEvidence:
    """Field values read from one piece of mail text, with the labels they were read under."""

    values: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    how: dict[str, str] = field(default_factory=dict)  # field -> labelled / table / phrase
    #: Labelled values no field takes ("Budget: 50k EUR"), by their labels: a record's extras.
    unmapped: dict[str, str] = field(default_factory=dict)

    def keep(self, label: str, value: str) -> None:
        """Keep a labelled value no field takes, as a tracker's unmapped column is kept."""
        label = " ".join(label.split()).strip("*_ ")
        if (
            value
            and label
            and label not in self.unmapped
            and len(self.unmapped) < _MAX_UNMAPPED
            and fold(label) not in _NOT_FIELDS
        ):
            self.unmapped[label] = value

    def add(self, fname: str, value: str, label: str, how: str) -> None:
        """Keep the first value found for a field. Under a question whether the use case is
        live ("In production?: Yes") a yes is the stage deployed, and a no says no stage."""
        if fname == "stage" and value and asks_if_live(label):
            answer = yes_or_no(value)
            if answer is False:
                return
            if answer:
                value = "deployed"
        if value and fname not in self.values:
            self.values[fname] = value
            self.labels[fname] = label
            self.how[fname] = how

    def __bool__(self) -> bool:
        return bool(self.values)


def field_for_label(label: str, mappings: Mappings) -> str | None:
    """The field a label names, or None: mail labels first, then the spreadsheet synonyms."""
    key = fold(label)
    if not key or key in _NOT_FIELDS or len(key.split()) > _MAX_LABEL_WORDS:
        return None
    known = MAIL_LABELS.get(key)
    if known is not None:
        return known
    candidates = mappings.match_header(label)
    if candidates and candidates[0].score >= mappings.settings.header_accept:
        return candidates[0].field
    return None


def labelled_fields(text: str, mappings: Mappings) -> FieldEvidence:
    """Fields from "Label: value" lines; an empty value takes the lines below it (a paragraph).
    Of a message that lists several use cases, the first one's (see :func:`labelled_blocks`)."""
    return labelled_blocks(text, mappings)[0]


def labelled_blocks(text: str, mappings: Mappings) -> list[FieldEvidence]:
    """The fields of "Label: value" lines, one evidence per use case: a name's label after a
    name was read starts the next ("1) Use case name: Call summarisation … 2) Use case name:
    Email triage …"). Always one evidence at least (empty when no line is labelled)."""
    blocks = [FieldEvidence()]
    evidence = blocks[0]
    lines = text.split("\n")
    index = 0
    # Labelled lines no field takes, by paragraph: kept only in a paragraph of a block's own
    # labelled lines (a greeting above them, a signature's "T: …" or a disclaimer below,
    # each a paragraph of its own, are not its).
    paragraph: list[int] = []  # each line's paragraph
    for line in lines:
        paragraph.append((paragraph[-1] if paragraph else 0) + (not line.strip()))
    unmapped: list[tuple[int, FieldEvidence, str, str]] = []
    said_in: dict[int, set[int]] = {}  # id of a block -> paragraphs of its fields
    said_at: dict[tuple[int, str], int] = {}  # (id of a block, field) -> its paragraph
    while index < len(lines):
        line = lines[index]
        index += 1
        if ":" not in line and " - " not in line and " – " not in line and "：" not in line:
            continue
        match = _LABELLED.match(line)
        greeting = _GREETING_BEFORE_LABEL.match(line)
        if greeting is not None and (
            match is None or field_for_label(match.group("label"), mappings) is None
        ):
            # The greeting is no part of the label: what follows it is read as a line of its
            # own would be ("Hi team, Status: Deployed"). A line whose label is a field as it
            # stands ("Team: Finance - Claims") keeps it.
            after = _LABELLED.match(line[greeting.end() :])
            if after is not None:
                line, match = line[greeting.end() :], after
        if match is None:
            continue
        here = paragraph[index - 1]
        label, value = match.group("label").strip(), match.group("value").strip()
        fname = field_for_label(label, mappings)
        if fname is None:
            colon = line[match.end("label") :].lstrip("* \t")[:1] in (":", "：")
            if colon and len(label) > 2 and len(label.split()) <= _MAX_LABEL_WORDS:
                unmapped.append((here, evidence, label, value.strip("*_ ")))
            continue
        inline = _NEXT_LABEL.search(value)
        if inline is not None and field_for_label(inline.group(1), mappings):
            # "Status: Deployed. Go-live date: 3 March 2025.": two labels on one line.
            lines.insert(index, value[inline.start() :].strip())
            paragraph.insert(index, here)
            value = value[: inline.start()].rstrip(" .;")
        if not value or fname in _PARAGRAPH_FIELDS:
            # "Description:" on its own line, or a description wrapped over several lines: the
            # lines below it, up to a blank or labelled line, belong to the value.
            block: list[str] = [value] if value else []
            while index < len(lines) and lines[index].strip() and len(block) < 8:
                below = _LABELLED.match(lines[index])
                if below is not None and field_for_label(below.group("label"), mappings):
                    break
                block.append(lines[index].strip())
                index += 1
            value = " ".join(block)
        if fname in _DATE_FIELDS:
            value = value.rstrip(". ")  # "Go-live date: 3 March 2025." ends a sentence
        if (
            fname == "name"
            and "name" in evidence.values
            and value.strip("*_ ")
            and (match.group("number") or fold(label) == fold(blocks[0].labels["name"]))
        ):
            # The name's label again, or a numbered one: the next use case ("Project: …"
            # under "Use case: …" says more of the same one).
            evidence = FieldEvidence()
            blocks.append(evidence)
        if fname not in evidence.values:
            said_at[(id(evidence), fname)] = here
        evidence.add(fname, value.strip("*_ "), label, "labelled")
        said_in.setdefault(id(evidence), set()).add(here)
    for part, owner, label, value in unmapped:
        if part in said_in.get(id(owner), ()):
            owner.keep(label, value)
    _share_trailing_fields(blocks, said_at)
    return blocks


def _share_trailing_fields(
    blocks: list[FieldEvidence], said_at: dict[tuple[int, str], int]
) -> None:
    """Fields said in a paragraph of their own after several use cases, each a paragraph of
    its own ("1) Use case name: … 2) Use case name: … ⏎⏎ Department: Procurement"), are said
    of each of them, not of the last alone: when no use case has them in its own paragraph."""
    if len(blocks) < 2:
        return
    paragraphs = [{said_at.get((id(b), f)) for f in b.values} for b in blocks]
    last = blocks[-1]
    own = said_at.get((id(last), "name"))
    trailing = {f for f in last.values if said_at.get((id(last), f)) not in (own, None)}
    if (
        not trailing
        or any(len(p) != 1 for p in paragraphs[:-1])
        or any(said_at.get((id(last), f)) != own for f in last.values if f not in trailing)
        or any(f in b.values for b in blocks[:-1] for f in trailing)
    ):
        return
    for block in blocks[:-1]:
        for fname in sorted(trailing):
            block.add(fname, last.values[fname], last.labels[fname], last.how[fname])


def table_records(tables: list[list[list[str]]], mappings: Mappings) -> list[FieldEvidence]:
    """Use cases in HTML tables: a two-column "label | value" form, or a grid with a header row."""
    found: list[FieldEvidence] = []
    for rows in tables:
        if not rows:
            continue
        if all(len(r) == 2 for r in rows if any(r)):
            form = FieldEvidence()
            for label, value in (r for r in rows if len(r) == 2):
                fname = field_for_label(label.rstrip(":： "), mappings)
                if fname is not None:
                    form.add(fname, value, label, "table")
                else:
                    form.keep(label.rstrip(":： "), value)
            if "name" in form.values:
                found.append(form)
                continue
        header = rows[0]
        columns = [field_for_label(cell.rstrip(":： "), mappings) for cell in header]
        if "name" not in columns:
            continue
        for row in rows[1:]:
            record = FieldEvidence()
            for column, fname in enumerate(columns):
                if column >= len(row):
                    continue
                if fname is not None:
                    record.add(fname, row[column], header[column], "table")
                else:
                    record.keep(header[column], row[column])
            if "name" in record.values:
                found.append(record)
    return found


#: The date field a stage change in words dates.
_DATE_OF_STAGE = {"deployed": "date_deployed", "retired": "date_retired"}
_MONTH_NAME = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
#: A day said after "on", "since", "as of", "from" or "effective": "3 March 2025", "3rd of
#: March", "March 3, 2025", "2025-03-03", "03/03/2025".
_DAY_SAID = re.compile(
    r"\b(?:on|since|as of|from|effective|w\.e\.f\.)\s+(?:(?:mon|tues|wednes|thurs|fri|satur|sun)"
    r"day,?\s+)?(?:the\s+)?(?P<day>"
    r"\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH_NAME + r"(?:,?\s+\d{4})?"
    r"|" + _MONTH_NAME + r"\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?"
    r"|\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4})\b",
    re.IGNORECASE,
)


def _date_said(flat: str, match: re.Match[str]) -> str | None:
    """The day a sentence that states a stage change says it happened, as written, or None."""
    start = max((m.end() for m in _SENTENCE_END.finditer(flat, 0, match.start())), default=0)
    end_found = _SENTENCE_END.search(flat, match.end())
    end = end_found.start() if end_found else len(flat)
    said = _DAY_SAID.search(flat, start, end)
    if said is None:
        return None
    return re.sub(r"(?<=\d)(?:st|nd|rd|th)\b|\bof\s+", "", said.group("day"))


#: Phrases a question or a condition also says ("Have we retired it?", "once it is deployed"):
#: only their sentences that state a fact are read.
_FACTS_ONLY = (_DEPLOYED, _PILOT_STARTED, _SAID_RETIRED, _SAID_REJECTED)
#: Those that say what someone did to the use case.
_DONE_PHRASES = (_SAID_RETIRED, _SAID_REJECTED)


def _said_after(flat: str, end: int, patterns: list[tuple[re.Pattern[str], str | None]]) -> bool:
    """Whether another stage phrase follows ``end``: the later news."""
    return any(p.search(flat, end) for p, _ in patterns if p is not _PILOT_STARTED)


def update_phrases(text: str, name: str | None = None) -> FieldEvidence:
    """Field changes said in words: "moving this to pilot", "please make Dana Lee the owner".
    ``name``: the use case the text is about, if known (a reply's subject names it)."""
    evidence = FieldEvidence()
    flat = " ".join(text.split())
    lowered = flat.lower()
    stage_patterns = _STAGE_PHRASES if _has_any(lowered, _STAGE_HINTS) else []
    for pattern, value in stage_patterns:
        if pattern in _FACTS_ONLY:  # the first that states a fact
            done = pattern in _DONE_PHRASES
            match = next(
                (
                    m
                    for m in pattern.finditer(flat)
                    if _asserted(flat, m, done) and (not done or _names_the_use_case(m, name))
                ),
                None,
            )
        else:
            match = pattern.search(flat)
        if match is None:
            continue
        if pattern is _PILOT_STARTED and _said_after(flat, match.end(), stage_patterns):
            continue  # "The pilot was launched in March and it went live in June."
        groups = match.groupdict()
        if value is None:
            word = (groups.get("stage") or "").lower()
            french = (groups.get("fr") or groups.get("fr2") or "").lower()
            value = _STAGE_FROM_WORD.get(word) or _FRENCH_STAGE.get(french)
        if value:
            evidence.add("stage", value, match.group(0), "phrase")
            dated = _DATE_OF_STAGE.get(value)
            when = _date_said(flat, match) if dated else None
            if dated and when:
                # "went live on 3 March 2025", "decommissioned since 30 June": the day it
                # happened, in the sentence that says it.
                evidence.add(dated, when, match.group(0), "phrase")
            break
    # Names do not wrap: owner phrases are read line by line, so "Status: Pilot" above
    # "Dana Lee übernimmt …" does not make "Pilot Dana Lee" the owner.
    for line in text.split("\n") if _has_any(lowered, _OWNER_HINTS) else []:
        for pattern in _OWNER_PHRASES:
            match = pattern.search(line)
            if match is not None:
                who = match.group("who").strip(" .,")
                if who.split()[0].lower() not in _WEEKDAYS:
                    evidence.add("owner_name", who, match.group(0), "phrase")
                    address = match.groupdict().get("address")
                    if address:
                        evidence.add("owner_email", address, match.group(0), "phrase")
                    break
        if "owner_name" in evidence.values:
            break
    for pattern in _VENDOR_PHRASES if _has_any(lowered, _VENDOR_HINTS) else []:
        match = pattern.search(flat)
        if match is not None:
            evidence.add("vendor_name", match.group("vendor"), match.group(0), "phrase")
            break
    return evidence


def may_mention_a_change(text: str) -> bool:
    """Whether text has any word an update phrase needs (a cheap test before the phrases)."""
    lowered = text.lower().replace("\n", " ")
    return (
        _has_any(lowered, _STAGE_HINTS)
        or _has_any(lowered, _OWNER_HINTS)
        or _has_any(lowered, _VENDOR_HINTS)
    )


def name_from_subject(subject: str, intake_only: bool = False) -> str | None:
    """The use case a subject names ("RE: New AI use case: Invoice OCR" → "Invoice OCR").

    ``intake_only``: only a subject that asks for a use case to be registered, not a status
    update's ("Status update: Invoice OCR – now live").
    """
    text = strip_subject_prefixes(subject)
    match = _SUBJECT_NAME.match(text.strip())
    if match is None:
        return None
    group = next((g for g in "abcdef" if match.group(g)), None)
    if group is None:
        return None
    name = match.group(group).strip(" .-–—")
    if group == "f" and _NOT_A_NAME.search(name):
        return None  # "Proposal: AI training course for managers" is no use case, ever
    if intake_only and (
        group == "e"
        or _UPDATE_SUBJECT.search(text[: match.start(group)])
        or name[:1].islower()  # a name is written as one; "see attached" is not
        or _NOT_A_NAME.search(name)
    ):
        # "Status update: …", "AI use case update: …": news of one; "… - reminder", "… -
        # deadline extended to Friday", "… : see attached": the process's own mail.
        return None
    return name


def prose_text(text: str) -> str | None:
    """A message's own text as one paragraph, for a description: without the greeting that
    opens it, at most ``_PROSE_MAX`` characters; None when it says less than a sentence."""
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    if (
        lines
        and _GREETING.match(lines[0])
        and (lines[0].endswith((",", "!", ":")) or len(lines[0].split()) <= 3)
    ):
        lines.pop(0)  # "Hi team,", "Dear all" (not "All claims letters are drafted by hand")
    while lines and not lines[-1]:
        lines.pop()
    if len(lines) > 2 and not lines[-2] and _SIGNED.fullmatch(lines[-1]):
        lines.pop()  # a name alone at the end, without a closing: "Sam", "Jonas W."
    flat = " ".join(" ".join(lines).split())
    if len(flat.split()) < 4:
        return None
    if len(flat) > _PROSE_MAX:
        flat = flat[:_PROSE_MAX].rsplit(" ", 1)[0] + " …"
    return flat
