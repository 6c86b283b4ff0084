"""Governance checkpoints: the rules of ``mappings/governance.yaml`` every use case is checked on.

A rule names the use cases it applies to (``when``: all of these conditions, ``when_any``: at
least one of these) and what they need (``require``: all of these conditions). A use case fails a
rule when the rule applies and a requirement does not hold; the ids of the rules it fails are its
``governance_flags``. The shipped rules live in the package's ``mappings/governance.yaml``; a
``--mappings`` folder's ``governance.yaml`` changes them by id, key by key (see that file).

Rules are checked against the consolidated use case (the inventory row), never a single record.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any, Literal

import yaml

from .errors import ConfigError
from .schema import FIXED_VOCABULARIES, INVENTORY_COLUMNS
from .yaml_lines import SafeLoader, yaml_text

__all__ = [
    "NO_DEPARTMENT",
    "ChecksTally",
    "Condition",
    "DepartmentChecks",
    "GovernanceRules",
    "Rule",
    "checks_by_department",
    "has_value",
    "load_governance",
]

FILE_NAME = "governance.yaml"

#: How a use case without a department is shown in summaries by department.
NO_DEPARTMENT = "(no department)"

#: Fields a rule may test: every inventory column but the ID and the flags themselves.
RULE_FIELDS = tuple(c for c in INVENTORY_COLUMNS if c not in ("use_case_id", "governance_flags"))

_RULE_KEYS = ("check", "fix", "when", "when_any", "require", "enabled")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_NO_VALUE = (None, "", "unknown", "not_assessed")

Test = Literal["one_of", "present", "missing", "not_in"]


def has_value(value: Any) -> bool:
    """Whether an inventory value counts as given: not blank, "unknown", "not_assessed" or []."""
    if isinstance(value, list):
        return any(has_value(v) for v in value)
    if isinstance(value, str):
        return value.strip() not in _NO_VALUE
    return value not in _NO_VALUE


def _fold(value: Any) -> str:
    return _fold_text(value if value.__class__ is str else str(value))


@functools.lru_cache(maxsize=1 << 14)
def _fold_text(text: str) -> str:
    # Remembered: the fields rules test repeat a few values over every use case.
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class Condition:
    """One test on one field of a use case."""

    field: str
    test: Test
    values: tuple[str, ...] = ()
    _wanted: frozenset[str] = dc_field(default=frozenset(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Folded once here: every use case of every run is checked against it.
        object.__setattr__(self, "_wanted", frozenset(_fold(v) for v in self.values))

    def holds(self, use_case: Mapping[str, Any]) -> bool:
        """Whether the use case passes this test."""
        value = use_case.get(self.field)
        if self.test == "present":
            return has_value(value)
        if self.test == "missing":
            return not has_value(value)
        if value.__class__ is str:  # most values: one text, folded once (remembered)
            if not has_value(value):
                return False
            return (_fold_text(value) in self._wanted) == (self.test == "one_of")
        given = value if isinstance(value, list) else [value]
        folded = {_fold(v) for v in given if has_value(v)}
        if self.test == "one_of":
            return not folded.isdisjoint(self._wanted)
        return bool(folded) and folded.isdisjoint(self._wanted)

    def describe(self) -> str:
        """The condition in words, e.g. ``stage is deployed or pilot``."""
        if self.test in ("present", "missing"):
            return f"{self.field} is {self.test}"
        joined = " or ".join(self.values)
        return (
            f"{self.field} is {joined}"
            if self.test == "one_of"
            else f"{self.field} is not {joined}"
        )

    def found(self, use_case: Mapping[str, Any]) -> str:
        """What the use case has, against what this condition wants, e.g. ``impact_assessment
        is in_progress, not done or waived``."""
        value = use_case.get(self.field)
        shown = "; ".join(str(v) for v in value) if isinstance(value, list) else value
        has = has_value(value)
        if self.test == "present":
            return f"{self.field} is missing" if not has else f"{self.field} is {shown}"
        if self.test == "missing":
            return f"{self.field} is {shown}, not missing"
        state = f"{self.field} is {shown}" if has else f"{self.field} is missing"
        joined = " or ".join(self.values)
        return f"{state}, not {joined}" if self.test == "one_of" else f"{state}, one of {joined}"


@dataclass(frozen=True)
class Rule:
    """One governance checkpoint."""

    id: str
    check: str
    fix: str
    require: tuple[Condition, ...]
    when: tuple[Condition, ...] = ()
    when_any: tuple[Condition, ...] = ()
    where: str = ""

    def applies(self, use_case: Mapping[str, Any]) -> bool:
        """Whether the rule concerns this use case."""
        if not all(c.holds(use_case) for c in self.when):
            return False
        return not self.when_any or any(c.holds(use_case) for c in self.when_any)

    def fails(self, use_case: Mapping[str, Any]) -> bool:
        """Whether the use case fails this rule."""
        return self.applies(use_case) and not all(c.holds(use_case) for c in self.require)

    def unmet(self, use_case: Mapping[str, Any]) -> list[Condition]:
        """The requirements the use case does not meet (empty if the rule does not apply)."""
        if not self.applies(use_case):
            return []
        return [c for c in self.require if not c.holds(use_case)]


#: Use cases' flags remembered at most (see :meth:`GovernanceRules.flags`).
_MEMO_SIZE = 50_000


@dataclass(frozen=True)
class GovernanceRules:
    """The rules in force, in file order (shipped rules first, then a user's new ones)."""

    rules: tuple[Rule, ...]
    files: tuple[Path, ...] = ()
    #: The fields the rules test, each with whether only its presence is tested.
    _tested: tuple[tuple[str, bool], ...] = dc_field(
        default=(), init=False, repr=False, compare=False
    )
    _memo: dict[tuple[Any, ...], list[str]] = dc_field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        tests: dict[str, set[str]] = {}
        for rule in self.rules:
            for cond in (*rule.when, *rule.when_any, *rule.require):
                tests.setdefault(cond.field, set()).add(cond.test)
        tested = tuple(
            (fname, used <= {"present", "missing"}) for fname, used in sorted(tests.items())
        )
        object.__setattr__(self, "_tested", tested)

    @property
    def ids(self) -> list[str]:
        """The rule ids, in order."""
        return [r.id for r in self.rules]

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id.

        Raises:
            KeyError: no rule has this id.
        """
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def failures(self, use_case: Mapping[str, Any]) -> list[Rule]:
        """The rules a use case (a mapping of inventory columns to values) fails, in order."""
        return [r for r in self.rules if r.fails(use_case)]

    def flags(self, use_case: Mapping[str, Any]) -> list[str]:
        """The ids of the rules a use case fails: its ``governance_flags`` (a new list).

        Use cases alike in every field the rules test fail the same rules, and most are alike
        (a few stages and yes/no values; of a free-text field, only whether it is given): the
        answer is remembered per such set of values.
        """
        key: list[Any] = []
        for fname, presence_only in self._tested:
            value = use_case.get(fname)
            if presence_only:
                key.append(has_value(value))
            elif value.__class__ is str:
                key.append(value)
            elif isinstance(value, list):
                key.append((list, *value))
            else:
                key.append((value.__class__, value))
        try:
            found = self._memo.get(tuple(key))
        except TypeError:  # an unhashable value: not remembered
            return [r.id for r in self.failures(use_case)]
        if found is None:
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            found = self._memo[tuple(key)] = [r.id for r in self.failures(use_case)]
        return list(found)


@dataclass
class DepartmentChecks:
    """How one department's use cases fare against the rules."""

    department: str
    use_cases: int = 0
    failing: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)


class ChecksTally:
    """:func:`checks_by_department` gathered one use case at a time."""

    def __init__(self, rules: GovernanceRules) -> None:
        self._ids = rules.ids
        self._table: dict[str, DepartmentChecks] = {}
        self.use_cases = 0
        self.failing = 0

    def add(self, use_case: Mapping[str, Any]) -> None:
        """Count one use case (reads its ``department`` and ``governance_flags``)."""
        dept = use_case.get("department")
        dept = str(dept) if has_value(dept) else NO_DEPARTMENT
        entry = self._table.get(dept)
        if entry is None:
            entry = self._table[dept] = DepartmentChecks(dept, by_rule=dict.fromkeys(self._ids, 0))
        entry.use_cases += 1
        flags = use_case.get("governance_flags") or []
        entry.failing += int(bool(flags))
        self.use_cases += 1
        self.failing += int(bool(flags))
        for flag in flags:
            entry.by_rule[flag] = entry.by_rule.get(flag, 0) + 1

    def departments(self) -> list[DepartmentChecks]:
        """Per department (sorted, "(no department)" last)."""
        return sorted(
            self._table.values(), key=lambda d: (d.department == NO_DEPARTMENT, d.department)
        )


def checks_by_department(
    use_cases: Iterable[Mapping[str, Any]], rules: GovernanceRules
) -> list[DepartmentChecks]:
    """Per department (sorted, "(no department)" last): use cases, how many fail at least one
    rule, and failures per rule id. Reads each use case's ``governance_flags``."""
    tally = ChecksTally(rules)
    for uc in use_cases:
        tally.add(uc)
    return tally.departments()


# -- loading ---------------------------------------------------------------------------------


class _Lined(dict[Any, Any]):
    """A YAML mapping that remembers the line of each key (1-based)."""

    line: int = 0
    lines: dict[Any, int]


class _LineLoader(SafeLoader):
    pass


def _construct_mapping(loader: SafeLoader, node: yaml.MappingNode) -> _Lined:
    loader.flatten_mapping(node)
    out = _Lined()
    out.line = node.start_mark.line + 1
    out.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            if key in out:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"{key!r} is given twice (lines {out.lines[key]} and {line})",
                    key_node.start_mark,
                )
        except TypeError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain word", key_node.start_mark
            ) from exc
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = line
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read(path: Path) -> Any:
    try:
        text = yaml_text(path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from exc
    try:
        return yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}{where}: not a valid rules file ({problem})") from exc


@dataclass
class _Key:
    """One key of a rule as given, with where it was given."""

    value: Any
    path: Path
    line: int

    @property
    def where(self) -> str:
        return f"{self.path}, line {self.line}"


def _line(mapping: Any, key: Any, default: int) -> int:
    return mapping.lines.get(key, default) if isinstance(mapping, _Lined) else default


def load_governance(folders: Sequence[Path]) -> GovernanceRules:
    """Load ``governance.yaml`` from each mappings folder in turn, later folders changing the
    rules of earlier ones by id (the keys a later file gives replace the earlier ones).

    Args:
        folders: the mappings folders, shipped first (``Mappings.folders``).

    Raises:
        ConfigError: a file is not valid YAML, or a rule names an unknown field or value, lacks
            its words or requirements, or has an unknown key; the message names file and line.
    """
    merged: dict[str, dict[str, _Key]] = {}
    first_seen: dict[str, _Key] = {}
    files: list[Path] = []
    for folder in folders:
        path = folder / FILE_NAME
        if not path.exists():
            continue
        files.append(path)
        data = _read(path)
        if data is None:
            continue
        if not isinstance(data, dict) or set(data) - {"rules"}:
            raise ConfigError(
                f"{path}, line {_line(data, None, 1)}: expected a 'rules:' mapping of rule ids "
                "to rules, and nothing else at the top"
            )
        rules = data.get("rules")
        if rules is None:
            continue
        if not isinstance(rules, dict):
            raise ConfigError(
                f"{path}, line {_line(data, 'rules', 1)}: 'rules' must map rule ids to rules"
            )
        for rule_id, spec in rules.items():
            line = _line(rules, rule_id, 1)
            if not isinstance(rule_id, str) or not _ID.match(rule_id):
                raise ConfigError(
                    f"{path}, line {line}: rule id {rule_id!r} must be lower-case snake_case "
                    "(letters, digits and _), e.g. owner_contact"
                )
            if not isinstance(spec, dict):
                raise ConfigError(
                    f"{path}, line {line}: rule {rule_id} must be a mapping of "
                    f"{', '.join(_RULE_KEYS)}"
                )
            unknown = [k for k in spec if k not in _RULE_KEYS]
            if unknown:
                bad = unknown[0]
                raise ConfigError(
                    f"{path}, line {_line(spec, bad, line)}: rule {rule_id}: unknown key {bad!r}; "
                    f"a rule has {', '.join(_RULE_KEYS)}"
                )
            keys = merged.setdefault(rule_id, {})
            first_seen.setdefault(rule_id, _Key(None, path, line))
            for key, value in spec.items():
                keys[key] = _Key(value, path, _line(spec, key, line))
    built = [
        rule
        for rule_id, keys in merged.items()
        if (rule := _build_rule(rule_id, keys, first_seen[rule_id])) is not None
    ]
    return GovernanceRules(tuple(built), tuple(files))


def _build_rule(rule_id: str, keys: dict[str, _Key], first: _Key) -> Rule | None:
    enabled = keys.get("enabled")
    if enabled is not None and enabled.value is not None:
        if not isinstance(enabled.value, bool):
            raise ConfigError(f"{enabled.where}: rule {rule_id}: enabled must be true or false")
        if not enabled.value:
            return None
    words: dict[str, str] = {}
    for key in ("check", "fix"):
        given = keys.get(key)
        if given is None or given.value is None or not str(given.value).strip():
            where = given.where if given is not None else first.where
            raise ConfigError(
                f"{where}: rule {rule_id} needs '{key}:' — "
                + (
                    "the rule in words, as the Checks sheet shows it"
                    if key == "check"
                    else "what to do when a use case fails it"
                )
            )
        if not isinstance(given.value, str | int | float):
            raise ConfigError(f"{given.where}: rule {rule_id}: {key} must be text")
        words[key] = " ".join(str(given.value).split())
    require = _conditions(rule_id, "require", keys.get("require"))
    if not require:
        given = keys.get("require")
        raise ConfigError(
            f"{(given or first).where}: rule {rule_id} needs 'require:' with at least one "
            "condition, e.g. require: {owner_email: present}"
        )
    return Rule(
        id=rule_id,
        check=words["check"],
        fix=words["fix"],
        require=require,
        when=_conditions(rule_id, "when", keys.get("when")),
        when_any=_conditions(rule_id, "when_any", keys.get("when_any")),
        where=first.where,
    )


def _conditions(rule_id: str, key: str, given: _Key | None) -> tuple[Condition, ...]:
    if given is None or given.value is None:
        return ()
    spec = given.value
    if not isinstance(spec, dict):
        raise ConfigError(
            f"{given.where}: rule {rule_id}: {key} must map fields to tests, "
            "e.g. {stage: [deployed, pilot]}"
        )
    out: list[Condition] = []
    for fname, test in spec.items():
        where = f"{given.path}, line {_line(spec, fname, given.line)}"
        if fname not in RULE_FIELDS:
            raise ConfigError(
                f"{where}: rule {rule_id}: {key}: unknown field {fname!r}; fields are: "
                f"{', '.join(RULE_FIELDS)}"
            )
        out.append(_condition(rule_id, key, str(fname), test, where))
    return tuple(out)


def _value_text(value: Any) -> str:
    # YAML 1.1 reads a bare yes/no as true/false; in a value list they mean the words.
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _condition(rule_id: str, key: str, fname: str, test: Any, where: str) -> Condition:
    usage = f"use a list of values, present, missing, or {{not: [values]}} (e.g. {fname}: present)"
    if isinstance(test, str):
        word = test.strip().lower()
        if word in ("present", "missing"):
            return Condition(fname, "present" if word == "present" else "missing")
        raise ConfigError(
            f"{where}: rule {rule_id}: {key}: {fname}: {test!r} is not a test; {usage}"
        )
    kind: Test = "one_of"
    values = test
    if isinstance(test, dict):
        if set(test) != {"not"}:
            raise ConfigError(f"{where}: rule {rule_id}: {key}: {fname}: {usage}")
        kind, values = "not_in", test["not"]
    if isinstance(values, str | int | float | bool):
        values = [values]
    if not isinstance(values, list) or not values:
        raise ConfigError(f"{where}: rule {rule_id}: {key}: {fname}: {usage}")
    texts: list[str] = []
    allowed = FIXED_VOCABULARIES.get(fname, (None, None))[0]
    for value in values:
        if value is None or isinstance(value, dict | list):
            raise ConfigError(
                f"{where}: rule {rule_id}: {key}: {fname}: {value!r} is not a value; {usage}"
            )
        text = _value_text(value)
        if allowed is not None and text not in allowed:
            raise ConfigError(
                f"{where}: rule {rule_id}: {key}: {text!r} is not a value of {fname} "
                f"(allowed: {', '.join(allowed)})"
            )
        texts.append(text)
    return Condition(fname, kind, tuple(texts))
