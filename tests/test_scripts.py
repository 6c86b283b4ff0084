"""Trackers written in other scripts than Latin: names, headers and status words in Cyrillic,
Greek, Chinese or Japanese are compared, matched and remembered as English ones are, and Latin
letters with accents or of their own (ß, ø, ł) fold to the ASCII letters they stand for."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aiinventory.dedupe.vocabulary import fold_text
from aiinventory.text_normalization import fold, identity_key

from .conftest import write_csv, write_workbook


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Invoice OCR – v2", "invoice ocr v2"),
        ("Café Straße, Øresund & Łódź", "cafe strasse oresund and lodz"),
        ("İstanbul ﬁle", "istanbul file"),
        ("Чат-бот для клиентов", "чат бот для клиентов"),
        ("ΑΡΗΣ Άρης", "αρησ αρησ"),
        ("智能客服机器人（试点）", "智能客服机器人 试点"),
        ("ＯＣＲ１２", "ocr12"),
        ("한국어 챗봇", "한국어 챗봇"),
        ("—", ""),
    ],
)
def test_fold_keeps_every_scripts_letters(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert fold_text(text) == folded


def test_marks_that_make_a_letter_are_kept() -> None:
    # Cyrillic й is not и, and the voiced kana ガ is not カ: their marks are part of the letter.
    assert fold("йод") != fold("иод")
    assert fold("ガス") != fold("カス")
    # Latin and Greek accents are dropped.
    assert fold("Résumé") == fold("resume")
    assert fold("Άρης") == fold("αρης")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=16))
@example("ǽ \u0902x")  # a letter that folds to one with a mark; a mark after a space
def test_fold_is_stable(text: str) -> None:
    # Keys are folded again when they are compared with folded keys: folding twice changes
    # nothing.
    once = fold(text)
    assert fold(once) == once
    assert fold_text(text) == once


@pytest.mark.parametrize(
    ("name", "key"),
    [
        # Names that had a key before keep it, so their records keep their IDs.
        ("Straße Café", "stra e cafe"),
        ("Øresund pilot", "resund pilot"),
        ("Invoice OCR", "invoice ocr"),
        # Names that had none (their rows were known by row number), or only their Latin
        # words ("AI 翻訳" and "AI 要約" were both "ai"), have a key of their own now.
        ("Чат-бот", "чат бот"),
        ("智能客服", "智能客服"),
        ("OCR для счетов", "ocr для счетов"),
        ("AI 翻訳", "ai 翻訳"),
    ],
)
def test_identity_keys_stay_what_they_were(name: str, key: str) -> None:
    assert identity_key(name) == key


def test_the_same_non_latin_use_case_in_two_departments_is_one_use_case(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    header = ["Name", "Description", "Owner", "Status"]
    write_csv(
        tmp_path / "drive" / "hr" / "tracker.csv",
        [
            header,
            [
                "Чат-бот для сотрудников",
                "Отвечает на вопросы сотрудников об отпусках",
                "Иванов",
                "Pilot",
            ],
            ["Прогноз оттока", "Модель оттока сотрудников", "Сидоров", "Idea"],
        ],
    )
    write_csv(
        tmp_path / "drive" / "it" / "tracker.csv",
        [
            header,
            [
                "Чат-бот для сотрудников",
                "Чат-бот отвечает на вопросы сотрудников",
                "Иванов",
                "Pilot",
            ],
            ["Перевод документов", "Машинный перевод договоров", "Смирнова", "Live"],
        ],
    )
    out = run_import_into(tmp_path / "drive")
    by_name: dict[str, set[str]] = {}
    for rec in out.records_jsonl:
        by_name.setdefault(rec["name"], set()).add(rec["use_case_id"])
    assert len(by_name["Чат-бот для сотрудников"]) == 1
    assert len({uc for ucs in by_name.values() for uc in ucs}) == 3


def test_synonyms_and_status_words_in_another_script_can_be_added(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "fields.yaml").write_text(
        "name:\n  - Название\nowner_name:\n  - Владелец\nstage:\n  - Статус\n", encoding="utf-8"
    )
    (maps / "values.yaml").write_text(
        "stage:\n  synonyms:\n    pilot:\n      - Пилот\n    deployed:\n      - Внедрено\n",
        encoding="utf-8",
    )
    path = write_workbook(
        tmp_path / "drive" / "finance" / "tracker.xlsx",
        {
            "Реестр": [
                ["Название", "Владелец", "Статус", "Комментарий"],
                ["Чат-бот", "Иванов", "Пилот", "важно"],
                ["Распознавание счетов", "Петров", "Внедрено", None],
                # Another script's word: no value of ours, so unknown, not the first one added.
                ["Анализ договоров", "Кузнецов", "試行", None],
            ]
        },
    )
    out = run_import_into(path, mappings_dir=maps)
    recs = {r["name"]: r for r in out.records_jsonl}
    assert recs["Чат-бот"]["stage"] == "pilot"
    assert recs["Чат-бот"]["owner_name"] == "Иванов"
    assert recs["Распознавание счетов"]["stage"] == "deployed"
    assert recs["Анализ договоров"]["stage"] == "unknown"
    assert recs["Чат-бот"]["extras"] == {"Комментарий": "важно"}
    said = [w["message"] for w in out.run["warnings"] if w["code"] == "unmapped_value"]
    assert any("'試行'" in m for m in said)


def test_a_non_latin_header_is_not_taken_for_another(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    # Only "Название" is a synonym: the other Cyrillic headers stay unmapped, in extras.
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "fields.yaml").write_text("name:\n  - Название\n", encoding="utf-8")
    path = write_csv(
        tmp_path / "drive" / "legal" / "tracker.csv",
        [["Название", "Описание", "Ответственный"], ["Поиск по договорам", "RAG", "Орлова"]],
    )
    out = run_import_into(path, mappings_dir=maps)
    (rec,) = out.records_jsonl
    assert rec["name"] == "Поиск по договорам"
    assert rec["extras"] == {"Описание": "RAG", "Ответственный": "Орлова"}


def test_a_non_latin_names_record_keeps_its_id_when_rows_move(
    tmp_path: Path, run_import_into: Callable[..., Any]
) -> None:
    header = ["Use case", "Status"]
    path = tmp_path / "drive" / "ops" / "tracker.csv"
    write_csv(path, [header, ["智能客服机器人", "Pilot"], ["合同审查", "Idea"]])
    state = tmp_path / "state.sqlite"
    first = {r["name"]: r["record_id"] for r in run_import_into(path, state=state).records_jsonl}
    # A row added at the top moves the others down.
    write_csv(
        path, [header, ["发票识别", "Live"], ["智能客服机器人", "Pilot"], ["合同审查", "Idea"]]
    )
    second = {r["name"]: r["record_id"] for r in run_import_into(path, state=state).records_jsonl}
    assert second["智能客服机器人"] == first["智能客服机器人"]
    assert second["合同审查"] == first["合同审查"]
    assert len(set(second.values())) == 3
