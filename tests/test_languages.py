"""Trackers kept in German, French and Dutch: their headers and words read as the English ones."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aiinventory.mappings import load_mappings

from .conftest import write_workbook

_GERMAN = [
    ["Lfd. Nr.", "Anwendungsfall", "Fachbereich", "Status", "Anbieter",
     "Risikoklasse EU AI Act", "Personenbezogene Daten", "Datum letzte Änderung"],
    ["KI-001", "Kreditwürdigkeitsprüfung", "Kredit", "In Umsetzung", "Eigenentwicklung",
     "Hochrisiko (Anhang III Nr. 5b)", "Ja", "28.02.2025"],
    ["KI-002", "Chatbot Kundenservice", "Privatkunden", "Pilotphase", "Microsoft",
     "Begrenztes Risiko", "Nein", "17.01.2025"],
    ["KI-003", "Emotionserkennung Callcenter", "Service", "Eingestellt", "Cogito",
     "Verboten", "Ja", "30.09.2024"],
    ["KI-004", "Übersetzung", "Kommunikation", "Produktiv", "DeepL",
     "Kein Hochrisiko", "Nein", "01.03.2025"],
    ["KI-005", "Vertragsanalyse", "Recht", "Konzeptphase", "noch offen",
     "in Klärung", "offen", "09.01.2025"],
]  # fmt: skip
_FRENCH = [
    ["Réf.", "Cas d'usage", "Direction", "Statut", "Fournisseur", "Niveau de risque AI Act",
     "Données personnelles", "Date de dernière mise à jour"],
    ["IA-01", "Tri des sinistres", "Indemnisation", "En production", "Shift Technology",
     "Haut risque", "Oui", "03/02/2025"],
    ["IA-02", "Reconnaissance d'émotions", "Relation client", "Rejeté", "Cogito",
     "Interdit", "Oui", "15/07/2024"],
    ["IA-03", "Assistant adhérents", "Relation client", "Phase pilote", "Mistral AI",
     "Risque limité", "Non", "20/02/2025"],
]  # fmt: skip
_DUTCH = [
    ["Toepassing", "Afdeling", "Status", "Leverancier", "Risicocategorie AI-verordening",
     "Persoonsgegevens", "Laatst bijgewerkt"],
    ["Gezichtsherkenning kantoor", "Facilitair", "Gestopt", "Hikvision", "Verboden", "Ja",
     "30-09-2024"],
    ["Liquiditeitsvoorspelling", "Treasury", "Proef", "Eigen ontwikkeling", "Beperkt risico",
     "Nee", "14-02-2025"],
    ["Documentherkenning", "Operations", "Buiten gebruik", "ABBYY", "Minimaal risico", "Nee",
     "11-11-2024"],
]  # fmt: skip


def test_german_french_and_dutch_trackers_read_field_by_field(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    folder = tmp_path / "trackers"
    write_workbook(folder / "ki_register.xlsx", {"KI-Anwendungsfälle": _GERMAN})
    write_workbook(folder / "registre_ia.xlsx", {"Registre IA": _FRENCH})
    write_workbook(folder / "ai_register.xlsx", {"Overzicht": _DUTCH})
    out = run_import_into(folder)
    got = {
        r["name"]: (
            r["source_id"],
            r["stage"],
            r["eu_ai_act_tier"],
            r["vendor_name"],
            r["personal_data"],
            r["last_updated"][:10],
        )
        for r in out.records_jsonl
    }
    assert got == {
        "Kreditwürdigkeitsprüfung": (
            "KI-001", "in_development", "high_risk", None, "yes", "2025-02-28"),
        "Chatbot Kundenservice": (
            "KI-002", "pilot", "limited", "Microsoft", "no", "2025-01-17"),
        "Emotionserkennung Callcenter": (
            "KI-003", "retired", "prohibited", "Cogito", "yes", "2024-09-30"),
        "Übersetzung": ("KI-004", "deployed", "minimal", "DeepL", "no", "2025-03-01"),
        # "noch offen", "offen": nothing said yet; "in Klärung": not assessed yet.
        "Vertragsanalyse": ("KI-005", "idea", "not_assessed", None, "unknown", "2025-01-09"),
        "Tri des sinistres": (
            "IA-01", "deployed", "high_risk", "Shift Technology", "yes", "2025-02-03"),
        "Reconnaissance d'émotions": (
            "IA-02", "rejected", "prohibited", "Cogito", "yes", "2024-07-15"),
        "Assistant adhérents": (
            "IA-03", "pilot", "limited", "Mistral AI", "no", "2025-02-20"),
        "Gezichtsherkenning kantoor": (
            None, "rejected", "prohibited", "Hikvision", "yes", "2024-09-30"),
        "Liquiditeitsvoorspelling": (
            None, "pilot", "limited", None, "no", "2025-02-14"),
        "Documentherkenning": (None, "retired", "minimal", "ABBYY", "no", "2024-11-11"),
    }  # fmt: skip
    # "Eigenentwicklung", "Eigen ontwikkeling" in the vendor column: built in house, no vendor.
    sourcing = {r["name"]: r["sourcing"] for r in out.records_jsonl}
    assert (
        sourcing["Kreditwürdigkeitsprüfung"] == sourcing["Liquiditeitsvoorspelling"] == "in_house"
    )
    assert "unmapped_value" not in out.warning_codes()


@pytest.mark.parametrize(
    ("value", "tier"),
    [
        ("nicht verboten", None),  # a negation is no answer
        ("Niet verboden", None),
        ("Pas interdit", None),
        ("Verboten (Art. 5)", "prohibited"),
    ],
)
def test_a_negated_prohibition_in_another_language_is_no_prohibition(
    value: str, tier: str | None
) -> None:
    mappings = load_mappings(None)
    found = mappings.vocabularies["eu_ai_act_tier"].match(value, 85)
    assert (found.value if found else None) == tier


def test_a_foreign_stage_word_gets_no_misleading_closest_value(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # "In Abstimmung" (being agreed) is close to no stage word; naming "deployed" or "pilot"
    # as the closest would lead a user to file it wrongly.
    path = write_workbook(
        tmp_path / "t.xlsx",
        {"T": [["Anwendungsfall", "Status"], ["Chatbot", "In Abstimmung"]]},
    )
    out = run_import_into(path)
    words = [w["message"] for w in out.run["warnings"] if w["code"] == "unmapped_value"]
    assert len(words) == 1 and "closest" not in words[0]


def test_headers_said_in_two_languages_read_by_either_half(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # A government register kept in English and French: each header says its field twice.
    path = write_workbook(
        tmp_path / "register.xlsx",
        {
            "Register": [
                ["Name of AI system / Nom du système d'IA", "Status / Statut",
                 "Department / Ministère", "Vendor / Fournisseur"],
                ["Translation assistant", "In production / En production", "Canadian Heritage",
                 "DeepL"],
            ]
        },
    )  # fmt: skip
    out = run_import_into(path)
    (rec,) = out.records_jsonl
    got = (rec["name"], rec["stage"], rec["department"], rec["vendor_name"])
    assert got == ("Translation assistant", "deployed", "Canadian Heritage", "DeepL")


@pytest.mark.parametrize(
    "label", ["Approval date / Go-live", "Cost / Benefit", "Updated / Reviewed by"]
)
def test_a_label_of_which_one_half_names_a_field_is_asked_about(label: str) -> None:
    mappings = load_mappings(None)
    best = mappings.match_header(label)[0]
    assert mappings.settings.header_review <= best.score < mappings.settings.header_accept


@pytest.mark.parametrize(
    ("label", "fields"),
    [
        # Two halves that name two fields name neither for sure.
        ("Name / ID", ("name", "source_id")),
        ("Start / End date", ("date_retired", "date_initiated")),
    ],
)
def test_a_label_of_two_fields_is_not_read_by_its_halves(
    label: str, fields: tuple[str, str]
) -> None:
    found = load_mappings(None).match_header(label)
    assert {c.field for c in found[:2]} == set(fields)
    assert found[0].score < 90


def test_a_spanish_tracker_reads_its_stages_tiers_and_build_answers(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(
        tmp_path / "registro.xlsx",
        {
            "Casos de uso IA": [
                ["ID", "Caso de uso", "Estado", "Proveedor", "Nivel de riesgo (AI Act)",
                 "Datos personales"],
                ["IA-01", "Clasificación de reclamaciones", "En producción", "Microsoft",
                 "Riesgo limitado", "Sí"],
                ["IA-03", "Resumen de contratos", "En desarrollo", "Desarrollo interno",
                 "Riesgo mínimo", "No"],
                ["IA-04", "Reconocimiento de emociones", "Descartado", "Cogito", "Prohibido",
                 "Sí"],
                ["IA-05", "Asistente de código", "Idea", "GitHub", "Sin evaluar", "No"],
            ]
        },
    )  # fmt: skip
    out = run_import_into(path)
    got = {
        r["source_id"]: (r["stage"], r["eu_ai_act_tier"], r["vendor_name"], r["sourcing"])
        for r in out.records_jsonl
    }
    assert got == {
        "IA-01": ("deployed", "limited", "Microsoft", "unknown"),
        "IA-03": ("in_development", "minimal", None, "in_house"),
        "IA-04": ("rejected", "prohibited", "Cogito", "unknown"),
        "IA-05": ("idea", "not_assessed", "GitHub", "unknown"),
    }
    # "registro" names no department.
    assert {r["department"] for r in out.records_jsonl} == {None}
    assert "unmapped_value" not in out.warning_codes()


_DATES_DUTCH = [
    ["Naam", "Directie", "Omschrijving", "Status", "Startdatum", "Datum in gebruik"],
    ["Slimme parkeerscan", "Verkeer", "Kentekens scannen voor parkeercontrole", "in gebruik",
     "03-02-2024", "01-07-2024"],
    ["Chatbot Gem", "Dienstverlening", "Virtuele assistent voor inwoners", "in ontwikkeling",
     "15-01-2025", ""],
    ["Fraudedetectie", "Sociaal Domein", "Risicoscores voor bijstandsaanvragen",
     "buiten gebruik", "12-05-2019", "01-09-2019"],
    ["Vertaaltool", "ICT", "Automatische vertaling van brieven", "pilot", "01-03-2025", ""],
    ["Afvalroutes", "Stadsbeheer", "Optimale routes voor vuilniswagens", "in gebruik",
     "05-06-2023", "11-12-2023"],
]  # fmt: skip
_DATES_FRENCH = [
    ["Nom du cas d'usage", "Direction", "Description", "Statut", "Date de début",
     "Date de mise en production"],
    ["Tri du courrier", "Finances", "Classement des courriers entrants par IA", "en production",
     "03/02/2024", "01/07/2024"],
    ["Assistant usagers", "Relation usagers", "Chatbot pour les démarches en ligne",
     "en expérimentation", "15/01/2025", ""],
    ["Détection de fraude", "Contrôle", "Détection des déclarations frauduleuses", "abandonné",
     "12/05/2023", ""],
    ["Traduction", "DSI", "Traduction des documents administratifs",
     "en cours de développement", "01/03/2025", ""],
    ["Analyse des appels", "Centre d'appels", "Transcription et analyse des appels",
     "en production", "05/06/2023", "11/12/2023"],
]  # fmt: skip
_DATES_GERMAN = [
    ["Anwendungsfall", "Abteilung", "Beschreibung", "Status", "Startdatum", "Produktiv seit"],
    ["Rechnungseingang", "Finanzen", "Erfassung der Rechnungen mit OCR", "in Betrieb",
     "03/02/2024", "01/07/2024"],
    ["Bürgerchatbot", "Bürgerservice", "Beantwortet Fragen der Bürger rund um die Uhr",
     "Pilotphase", "01/03/2025", ""],
    ["Verkehrsprognose", "Verkehr", "Prognose der Verkehrsdichte", "in Betrieb", "05/06/2023",
     "11/12/2023"],
]  # fmt: skip


def test_text_dates_of_a_tracker_in_a_day_first_language_are_read_day_first(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # Dutch Excel saves a semicolon CSV in Windows-1252; French and German workbooks. Their
    # dates could be read either way round, but the trackers are written in languages that
    # write the day first, as mail in those languages is read.
    folder = tmp_path / "trackers"
    folder.mkdir()
    with (folder / "algoritmes.csv").open("w", encoding="cp1252", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows(_DATES_DUTCH)
    write_workbook(folder / "cas_usage.xlsx", {"Feuil1": _DATES_FRENCH})
    write_workbook(folder / "anwendungen.xlsx", {"Tabelle1": _DATES_GERMAN})
    out = run_import_into(folder)
    got = {r["name"]: (r["date_initiated"], r["date_deployed"]) for r in out.records_jsonl}
    assert got == {
        "Slimme parkeerscan": ("2024-02-03", "2024-07-01"),
        "Chatbot Gem": ("2025-01-15", None),
        "Fraudedetectie": ("2019-05-12", "2019-09-01"),
        "Vertaaltool": ("2025-03-01", None),
        "Afvalroutes": ("2023-06-05", "2023-12-11"),
        "Tri du courrier": ("2024-02-03", "2024-07-01"),
        "Assistant usagers": ("2025-01-15", None),
        "Détection de fraude": ("2023-05-12", None),
        "Traduction": ("2025-03-01", None),
        "Analyse des appels": ("2023-06-05", "2023-12-11"),
        "Rechnungseingang": ("2024-02-03", "2024-07-01"),
        "Bürgerchatbot": ("2025-03-01", None),
        "Verkehrsprognose": ("2023-06-05", "2023-12-11"),
    }
    assert "ambiguous_date" not in out.warning_codes()
    said = {
        (w["source_path"].rsplit("/", 1)[-1], w["message"])
        for w in out.run["warnings"]
        if w["code"] == "date_order_from_language"
    }
    assert (
        "algoritmes.csv",
        "date_initiated dates such as '03-02-2024' in column E ('Startdatum') could be "
        "day-first or month-first; read day-first, as the sheet is written in Dutch — set "
        "day_first: false for this source in the sources.yaml of a folder given with "
        "--mappings if that is wrong",
    ) in said
    assert {path for path, _ in said} == {"algoritmes.csv", "cas_usage.xlsx", "anwendungen.xlsx"}


def test_a_terse_english_tracker_with_spanish_names_and_places_is_not_read_day_first(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # Few English words of its own: a Y/N column, owners "de la Cruz" and "del Río", offices in
    # Los Angeles and Las Vegas. None of it makes the sheet Spanish.
    rows = [
        ["Use case", "Owner", "Location", "Status", "Start date", "Uses PII (Y/N)"],
        ["Claims triage", "María de la Cruz", "Los Angeles", "Live", "03/04/2024", "Y"],
        ["Fraud scoring", "José del Río", "Las Vegas", "Pilot", "05/06/2024", "Y"],
        ["Chatbot", "Ana de los Santos", "El Paso", "Idea", "02/01/2024", "Y"],
    ]
    out = run_import_into(write_workbook(tmp_path / "tracker.xlsx", {"Sheet1": rows}))
    got = {r["name"]: r["date_initiated"] for r in out.records_jsonl}
    assert got == {
        "Claims triage": "2024-03-04",
        "Fraud scoring": "2024-05-06",
        "Chatbot": "2024-02-01",
    }
    assert "date_order_from_language" not in out.warning_codes()


def test_text_dates_of_an_english_tracker_are_read_as_configured(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # The same dates under English words are read as settings.yaml says, and warned about;
    # a French name or two among English descriptions does not make the sheet French.
    rows = [
        ["Use case", "Description", "Stage", "Start date"],
        ["Tri du courrier", "Sorts the incoming mail for the finance team", "Live", "03/02/2024"],
        ["Analyse des appels", "Transcribes and analyses the calls", "Pilot", "05/06/2023"],
    ]
    out = run_import_into(write_workbook(tmp_path / "tracker.xlsx", {"Sheet1": rows}))
    got = {r["name"]: r["date_initiated"] for r in out.records_jsonl}
    assert got == {"Tri du courrier": "2024-03-02", "Analyse des appels": "2023-05-06"}
    assert "ambiguous_date" in out.warning_codes()
    assert "date_order_from_language" not in out.warning_codes()


def test_a_source_set_month_first_keeps_a_french_trackers_dates_month_first(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    path = write_workbook(tmp_path / "in" / "cas_usage.xlsx", {"Feuil1": _DATES_FRENCH})
    mappings = tmp_path / "maps"
    mappings.mkdir()
    (mappings / "sources.yaml").write_text(
        "sources:\n  - match: '*.xlsx'\n    day_first: false\n", encoding="utf-8"
    )
    out = run_import_into(path, mappings_dir=mappings)
    got = {r["name"]: r["date_initiated"] for r in out.records_jsonl}
    assert got["Tri du courrier"] == "2024-03-02"
    assert "date_order_from_language" not in out.warning_codes()


def test_totals_rows_in_dutch_german_french_spanish_and_italian_are_counted_not_imported(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    header = ["Nr.", "Naam", "Omschrijving", "Status", "Kosten"]
    names = [
        "Parkeerscan",
        "Totaalbeeld verkeer",  # a name that only starts with a totals word
        "Anzahl der Besucher prognostizieren",  # a count of no rows of the tracker
        "Nombre de visiteurs",
        "Summenprüfung Rechnungen",
    ]
    rows: list[list[Any]] = [header]
    rows += [[i + 1, name, "Voorspelt", "in gebruik", 3] for i, name in enumerate(names)]
    totals: list[list[Any]] = [
        ["Totaal", "5 algoritmes"],
        ["Totaal", None, None, None, 15],
        ["Subtotaal", None, None, None, 6],
        [None, "Eindtotaal", None, None, 15],
        [None, "Aantal algoritmes: 5"],
        [None, "Verkeer totaal", None, None, 3],
        ["Summe", None, None, None, 15],
        ["Zwischensumme", None, None, None, 6],
        ["Gesamt", "5 Anwendungsfälle"],
        [None, "Anzahl Anwendungsfälle", None, None, 5],
        [None, "Gesamtergebnis", None, None, 15],
        [None, "Finanzen Ergebnis", None, None, 3],
        ["Sous-total", None, None, None, 6],
        [None, "Total général", None, None, 15],
        [None, "Nombre de cas d'usage : 5"],
        [None, "5 projets"],
        [None, "Total general", None, None, 15],
        [None, "Número de casos de uso: 5"],
        [None, "Totale complessivo", None, None, 15],
        [None, "Subtotale", None, None, 6],
    ]
    out = run_import_into(write_workbook(tmp_path / "register.xlsx", {"Blad1": rows + totals}))
    assert sorted(out.by_name()) == sorted(names)
    assert out.rejects == []
    assert out.run["skipped_rows"] == {"totals": len(totals)}


_STAGE_WORDS = {
    # German public bodies' words for a system in production, in test, no longer in use
    "Wirkbetrieb": "deployed",
    "Im Regelbetrieb": "deployed",
    "Im Test": "pilot",
    "Testbetrieb": "pilot",
    "Nicht mehr in Betrieb": "retired",
    "In Prüfung": "idea",
    "Pausiert": "idea",
    # Dutch
    "In beheer": "deployed",
    "Proefperiode": "pilot",
    "Uit gebruik genomen": "retired",
    "Niet meer in gebruik": "retired",
    "Ontwerp": "in_development",
    "In aanbesteding": "in_development",
    "In onderzoek": "idea",
    # French
    "Mis hors service": "retired",
    "N'est plus utilisé": "retired",
    "En conception": "in_development",
    "En réflexion": "idea",
    "Suspendu": "idea",
}


def test_stage_words_of_german_dutch_and_french_registers(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    rows = [["Naam", "Status"], *([f"Algoritme {i}", word] for i, word in enumerate(_STAGE_WORDS))]
    out = run_import_into(write_workbook(tmp_path / "register.xlsx", {"Blad1": rows}))
    got = {r["stage_raw"]: r["stage"] for r in out.records_jsonl}
    assert got == _STAGE_WORDS
    assert not {"unmapped_value", "value_from_keyword"} & set(out.warning_codes())


@pytest.mark.parametrize(
    ("file_name", "department"),
    [
        ("Inventaire des cas d'usage IA DSI.xlsx", "DSI"),
        ("Suivi des projets IA - Ressources humaines.xlsx", "Ressources humaines"),
        ("Registre IA - Direction des finances.xlsx", "Direction des finances"),
        ("Centre d'appels - suivi IA.xlsx", "Centre d'appels"),
        ("Übersicht der KI-Anwendungen Personalamt.xlsx", "Personalamt"),
        ("Overzicht van de algoritmes Burgerzaken.xlsx", "Burgerzaken"),
        # At the edge of a name such a word goes too: "La DSI" is the DSI, "Finance EN" Finance.
        ("La DSI.xlsx", "DSI"),
        ("Die Personalabteilung.xlsx", "Personalabteilung"),
        ("AI tracker - Finance EN.xlsx", "Finance"),
    ],
)
def test_a_department_from_a_file_name_in_another_language_leaves_out_its_joining_words(
    tmp_path: Path, run_import_into: Callable[..., Any], file_name: str, department: str
) -> None:
    # The articles and prepositions that tie a file name's words to the words left out
    # ("des" cas d'usage, "der" KI-Anwendungen, "van" de algoritmes) name no department;
    # inside a department's name ("Direction des finances") they stay.
    rows = [["Naam", "Status"], ["Chatbot", "in gebruik"]]
    out = run_import_into(write_workbook(tmp_path / "in" / file_name, {"Blad1": rows}))
    assert [r["department"] for r in out.records_jsonl] == [department]


def test_in_of_a_dutch_or_german_status_says_no_english(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # "in gebruik", "in ontwikkeling", "Datum in gebruik": "in" is Dutch (and German and
    # Italian) as much as English, so it does not outweigh the sheet's Dutch words.
    rows = [
        ["Nr.", "Naam", "Omschrijving", "Status", "Eigenaar", "Datum in gebruik"],
        [1, "Parkeerscan", "Herkent kentekens bij de parkeercontrole", "in gebruik",
         "Jan de Vries", "01-07-2024"],
        [2, "Drukte", "Voorspelt drukte in het centrum", "in ontwikkeling", "Petra Jansen", ""],
        [3, "Verkeerslichten", "Slimme regeling van verkeerslichten", "in gebruik",
         "Kees Bakker", "02-03-2025"],
    ]  # fmt: skip
    out = run_import_into(write_workbook(tmp_path / "Verkeer.xlsx", {"Register": rows}))
    got = {r["name"]: r["date_deployed"] for r in out.records_jsonl}
    assert got == {"Parkeerscan": "2024-07-01", "Drukte": None, "Verkeerslichten": "2025-03-02"}
    assert "date_order_from_language" in out.warning_codes()
