"""The command line: parse, call :mod:`aiinventory.api`, turn failures into exit codes."""

from __future__ import annotations

import contextlib
import csv
import errno
import json
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import click

from . import __version__, api
from .clock import now as clock_now
from .connectors.mailbox_urls import is_mailbox_url
from .errors import (
    AIInventoryError,
    ConfigError,
    Terminated,
    is_run_committed,
    os_error_words,
    run_committed,
    run_stopped,
    stopped_run,
)
from .mappings import asks_if_live, unread_files_words
from .store import disk_trouble
from .text_normalization import escape_controls, one_line

log = logging.getLogger("aiinventory")

mappings_option = click.option(
    "--mappings",
    "mappings_dir",
    type=click.Path(path_type=Path),
    help="Folder of mappings that add to and override the shipped ones.",
)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    if is_run_committed():
        # The run recorded its end: its exports and state are complete, and it is reported as
        # the run it was (a "terminated" here would send the next run after nothing).
        return
    raise Terminated()


def _event(event: str, fields: dict[str, Any]) -> str:
    """One JSON log line: the event, the time it was said (UTC, to the millisecond), then its
    fields."""
    said = clock_now().isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return json.dumps({"event": event, "time": said, **fields}, ensure_ascii=False)


class _LogLines(logging.Formatter):
    """Log records as the command prints them on stderr: ours as their words, a library's after
    its logger's name (so "Checksum: 23563 != 0" says where it comes from); with ``as_json``, one
    JSON object per line, as ``sync --log-format json`` promises for everything it prints."""

    def __init__(self) -> None:
        super().__init__("%(message)s")
        self.as_json = False

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if self.as_json:
            return _event(
                "log",
                {"level": record.levelname.lower(), "logger": record.name, "message": text},
            )
        if record.name == "aiinventory" or record.name.startswith("aiinventory."):
            return text
        return f"{record.name}: {text}"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Prints on whatever ``sys.stderr`` is when a record comes (it may be replaced meanwhile)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


#: The handler that prints log records on stderr (one, however often ``main`` runs in a process).
_log_handler = _StderrHandler()
_log_lines = _LogLines()
_log_handler.setFormatter(_log_lines)


def _set_up_logging(verbose: bool) -> None:
    _log_lines.as_json = False
    root = logging.getLogger()
    if _log_handler not in root.handlers:
        root.addHandler(_log_handler)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)


def _fail(message: str, code: int) -> NoReturn:
    if _log_lines.as_json:
        stopped = stopped_run()  # the run's number in `aiinventory runs`, as other events give
        fields: dict[str, Any] = {"run_id": stopped} if stopped is not None else {}
        fields |= {"exit_code": code, "message": message}
        click.echo(_event("run_failed", fields), err=True)
    else:
        # A message names files, sheets and cell values: none may reorder what a line shows.
        # Its own lines stay lines (a YAML error quotes the place on a line of its own).
        lines = f"aiinventory: {message}".split("\n")
        click.echo("\n".join(escape_controls(line) for line in lines), err=True)
    sys.exit(code)


@contextmanager
def _errors(verbose: bool) -> Iterator[None]:
    run_stopped(None)  # no run of this command has been stopped yet
    try:
        yield
    except AIInventoryError as exc:
        if verbose:
            log.exception("failed")
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted; nothing half-written (rerun to finish)", 130)
    except Terminated:
        _fail("terminated; nothing half-written (rerun to finish)", 143)
    except BrokenPipeError:
        # Whatever read the output stopped reading (`aiinventory runs | head`): nothing to say.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except OSError as exc:
        if verbose:
            log.exception("failed")
        words = os_error_words(exc)
        if exc.errno == errno.ENOSPC:
            words += (
                "; the last completed run's exports and state are as they were: free space "
                "and run again"
            )
        _fail(words, 1)
    except sqlite3.OperationalError as exc:
        if not disk_trouble(exc):
            raise
        if verbose:
            log.exception("failed")
        _fail(
            f"the state file could not be written ({exc}); the disk may be full: free space on "
            "it and run again — keep the state file, it holds the use-case IDs and decisions; "
            "the last completed run's state and exports are as they were",
            1,
        )
    except Exception as exc:
        if not _log_lines.as_json:
            raise  # the traceback, for the report the error deserves
        log.exception("failed")  # one JSON object, the traceback in its message
        _fail(f"unexpected error ({type(exc).__name__}: {exc}); please report it", 1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aiinventory")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and debug logging.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Migrate AI use-case trackers into one standardised, deduplicated inventory."""
    _set_up_logging(verbose)
    run_committed(False)
    signal.signal(signal.SIGTERM, _on_sigterm)
    ctx.obj = {"verbose": verbose}


def _progress_callback() -> tuple[Any, api.ProgressCallback | None, api.StageCallback | None]:
    """On a terminal, a progress line: the files read (and a large file's rows), then what the
    run does next; elsewhere (cron, a pipe) nothing."""
    if not sys.stderr.isatty():
        return None, None, None
    from rich.progress import BarColumn, Progress, TextColumn

    progress = Progress(
        TextColumn("{task.fields[doing]}"),
        BarColumn(bar_width=20),
        TextColumn("{task.fields[count]}"),
        TextColumn("{task.description}"),
        transient=True,
    )
    task = progress.add_task("", total=None, doing="reading", count="")
    shown = [task]

    def update(done: int, total: int, label: str) -> None:
        progress.update(
            task, completed=done, total=total, count=f"{done}/{total}", description=_cut(label)
        )

    def stage(words: str) -> None:
        # A task of its own, without a total: its bar pulses until the next stage, or the end.
        progress.update(shown[-1], visible=False)
        shown.append(progress.add_task("", total=None, doing=words, count=""))

    return progress, update, stage


@main.command("import")
@click.argument("paths", nargs=-1, required=True, metavar="PATH|URL...")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Output folder.",
)
@mappings_option
@click.option(
    "--state", type=click.Path(path_type=Path), help="State file (default: OUT/state.sqlite)."
)
@click.option(
    "--config",
    type=click.Path(path_type=Path),
    help="YAML config with mappings, state and out (command-line options win).",
)
@click.pass_context
def import_cmd(
    ctx: click.Context,
    paths: tuple[str, ...],
    out: Path,
    mappings_dir: Path | None,
    state: Path | None,
    config: Path | None,
) -> None:
    """Import trackers and mail from files, folders and mailboxes into the inventory in --out.

    A mailbox is a URL such as imaps://intake@mail.example.org/INBOX; its password comes from
    AIINVENTORY_IMAP_PASSWORD or a credentials file, never from the command line.
    """
    verbose = ctx.obj["verbose"]
    with _errors(verbose):
        if config is not None:
            settings = _read_config(config)
            mappings_dir = mappings_dir or settings.get("mappings")
            state = state or settings.get("state")
            if ctx.get_parameter_source("out") == click.core.ParameterSource.DEFAULT:
                out = settings.get("out", out)
        progress, callback, stage = _progress_callback()
        with progress if progress is not None else contextlib.nullcontext():
            result = api.run_import(
                _paths_or_urls(paths), out, mappings_dir, state, callback, stage=stage
            )
        _report(result, out, "text")


def _paths_or_urls(given: tuple[str, ...]) -> list[Path | str]:
    """Command-line PATHs as paths, mailbox URLs kept as text (a Path would fold their //)."""
    return [text if is_mailbox_url(text) else Path(text) for text in given]


def _amount_read(counts: dict[str, int]) -> str:
    """What the run read, in its units: "12 rows", "5 messages" or "12 rows and 5 messages"."""
    rows, messages = counts.get("rows_read", 0), counts.get("messages_read", 0)
    if messages and not rows:
        return _counted(messages, "message")
    if messages:
        return f"{_counted(rows, 'row')} and {_counted(messages, 'message')}"
    return _counted(rows, "row")


def _counted(count: int, word: str) -> str:
    """ "1 record", "2 records"."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def _report(result: api.ImportResult, out: Path, log_format: str) -> NoReturn:
    """Print a run's outcome (a summary, or JSON lines) and exit with its code."""
    summary = result.summary
    c = summary.counts
    if log_format == "json":
        for w in summary.warnings:
            click.echo(_event("warning", {"run_id": summary.run_id, **w.model_dump()}), err=True)
        click.echo(
            _event(
                "run_finished",
                {
                    "run_id": summary.run_id,
                    "exit_code": result.exit_code,
                    "counts": c,
                    "timings_s": summary.timings_s,
                    "out": str(out),
                },
            ),
            err=True,
        )
        _reported(result.exit_code)
    touched = c.get("files_touched", 0)
    changed = (
        f" Files: {c.get('files_new', 0)} new, {c.get('files_changed', 0)} changed, "
        f"{c.get('files_unchanged', 0)} unchanged, "
        + (f"{touched} touched (time changed, content not), " if touched else "")
        + f"{c.get('files_renamed', 0)} renamed, {c.get('files_gone', 0)} gone."
    )
    click.echo(
        f"{c['files_read']} of {c['files_seen']} files read, {_amount_read(c)}: "
        f"{_counted(c['records'], 'record')}, {_counted(c['use_cases'], 'use case')}, "
        f"{_counted(c['rejects'], 'reject')}." + changed
    )
    if summary.warnings:
        count = len(summary.warnings)
        click.echo(
            f"{count} warning{'s' if count != 1 else ''} (see run.json); first ones:", err=True
        )
        # A mistake in the user's rules first: it can leave whole columns unread.
        shown = sorted(summary.warnings, key=lambda w: not w.code.startswith("source_rule_"))
        for w in shown[:5]:
            where = w.source_path or ""
            if w.sheet:
                where += f" [{w.sheet}]"
            rows = ""
            if w.rows:
                rows = f" {'row' if len(w.rows) == 1 else 'rows'} {', '.join(map(str, w.rows[:3]))}"
            more = f" (×{w.count})" if w.count > 1 else ""
            # Most messages begin with their path already; the path is not printed twice.
            message = w.message
            if w.source_path and message.startswith(f"{w.source_path}: "):
                message = message.removeprefix(f"{w.source_path}: ")
            where = f"{where}{rows}: " if where or rows else ""
            # A file name's newline must not split the line.
            click.echo(escape_controls(f"  {where}{message}{more}"), err=True)
    if c["rejects"]:
        # Rejects are the exit code's reason as often as warnings are: the first is said here.
        first = _first_reject(out / "rejects.csv")
        click.echo(
            escape_controls(
                f"{_counted(c['rejects'], 'reject')} (see rejects.csv)"
                + (f"; first: {first}" if first else "")
            ),
            err=True,
        )
    click.echo(f"Inventory: {_shown(out / 'inventory.xlsx')}  (exit {result.exit_code})")
    _reported(result.exit_code)


def _first_reject(path: Path) -> str | None:
    """The first row of rejects.csv in words: where, its reason code and message."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            row = next(csv.DictReader(fh), None)
    except (OSError, csv.Error, UnicodeDecodeError):
        return None
    if row is None:
        return None
    where = row.get("source_path") or ""
    if row.get("sheet"):
        where += f" [{row['sheet']}]"
    if row.get("row"):
        where += f" row {row['row']}"
    if row.get("message_id"):
        where += f" <{row['message_id']}>"
    return f"{where}: {row.get('reason_code')}: {row.get('message')}".lstrip(": ")


def _reported(code: int) -> NoReturn:
    """Exit with a reported run's code. SIGTERM has its default action again: nothing is left
    to stop cleanly (a handler raising while the interpreter shuts down printed a traceback),
    and a program that ran this command in its own process gets its usual SIGTERM back."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    run_committed(False)
    sys.exit(code)


def _shown(path: Path) -> Path:
    """``path`` as the user would type it: relative to the working folder when inside it.

    A sync's output folder is resolved against its config file, so it arrives absolute.
    """
    if not path.is_absolute():
        return path
    try:
        cwd = Path.cwd()
        if cwd.parent == cwd:  # "/", a service's working folder: "tmp/x" would mislead
            return path
        return path.relative_to(cwd)
    except (ValueError, OSError):  # outside it, or the working folder was deleted meanwhile
        return path


@main.command()
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The sync config (YAML): sources, out, state, mappings, dedupe.",
)
@click.option("--dry-run", is_flag=True, help="Print the plan per source; write nothing.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON object per line on stderr.",
)
@click.pass_context
def sync(ctx: click.Context, config_path: Path, dry_run: bool, log_format: str) -> None:
    """Read what changed in the configured sources and update the inventory."""
    _log_lines.as_json = log_format == "json"
    with _errors(ctx.obj["verbose"]):
        if dry_run:
            plan = api.plan_sync_run(config_path)
            if log_format == "json":
                click.echo(
                    json.dumps(
                        {
                            "sources": plan.sources,
                            "gone": plan.gone,
                            "full_reread": plan.full_reread,
                            "new_decisions": plan.new_decisions,
                        },
                        indent=2,
                    )
                )
                if plan.exit_code:
                    sys.exit(plan.exit_code)
                return
            if plan.full_reread:
                click.echo("mappings changed since the last run: every file will be read again")
            # A file name's newline or escape sequence must not make a line of its own.
            for source in plan.sources:
                counts = ", ".join(f"{v} {k}" for k, v in source["counts"].items())
                click.echo(escape_controls(f"{source['source']}: {counts}"))
                for f in source["files"]:
                    if f["action"] != "unchanged":
                        was = f" (was {f['previous_path']})" if f["previous_path"] else ""
                        click.echo(escape_controls(f"  {f['action']:9} {f['path']}{was}"))
                for p in source["problems"]:
                    click.echo(escape_controls(f"  problem   {p['path']}: {p['reason']}"))
            for path in plan.gone:
                click.echo(escape_controls(f"gone: {path}"))
            if plan.new_decisions:
                click.echo(
                    "decisions were stored (review apply) since the last run: the use cases will "
                    "be matched again and the exports written"
                )
            click.echo("dry run: nothing was read or written")
            # A path that cannot be read makes the run end with 3: so does its dry run.
            if plan.exit_code:
                sys.exit(plan.exit_code)
            return
        progress, callback, stage = (
            (None, None, None) if log_format == "json" else _progress_callback()
        )
        with progress if progress is not None else contextlib.nullcontext():
            result = api.run_sync(config_path, callback, stage)
        _report(result, result.out_dir, log_format)


#: The settings ``import --config`` reads.
_IMPORT_SETTINGS = ("mappings", "state", "out")


def _read_config(path: Path) -> dict[str, Path]:
    import yaml

    from .yaml_lines import compose, refuse_repeated_keys, safe_load, yaml_text

    try:
        text = yaml_text(path)
        root = compose(text)
        data = safe_load(text) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"--config {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"--config {path}: expected a mapping of settings")
    refuse_repeated_keys(root, f"--config {path}")
    for key in data:
        line = next(
            (k.start_mark.line + 1 for k, _ in getattr(root, "value", ()) if k.value == key), None
        )
        where = f"--config {path}" + (f", line {line}" if line else "")
        if key in _IMPORT_SETTINGS:
            value = data[key]
            if value is not None and not isinstance(value, str):
                raise ConfigError(
                    f"{where}: {key} must be a path (a file or folder name), not "
                    f"{json.dumps(value, default=str)}"
                )
            continue
        if key in ("sources", "dedupe"):
            raise ConfigError(
                f"{where}: {key!r} is a sync setting; run `aiinventory sync --config {path}` "
                f"(import reads only {', '.join(_IMPORT_SETTINGS)})"
            )
        raise ConfigError(
            f"{where}: unknown setting {key!r} (check its spelling; import reads "
            f"{', '.join(_IMPORT_SETTINGS)})"
        )
    out: dict[str, Path] = {}
    for key in _IMPORT_SETTINGS:
        if data.get(key):
            out[key] = (path.parent / str(data[key])).resolve()
    return out


@main.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH|URL...")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per source, per line.")
@mappings_option
@click.option(
    "--write-mapping",
    type=click.Path(path_type=Path),
    help="Write the detected header rows and column maps to this sources.yaml.",
)
@click.pass_context
def inspect(
    ctx: click.Context,
    paths: tuple[str, ...],
    as_json: bool,
    mappings_dir: Path | None,
    write_mapping: Path | None,
) -> None:
    """Show what files would yield: sheets, header row, column → field mapping."""
    with _errors(ctx.obj["verbose"]):
        found = api.inspect_paths(_paths_or_urls(paths), mappings_dir)
        unread = unread_files_words(mappings_dir)
        if unread:
            click.echo(escape_controls(f"note: {unread}"), err=True)
        if as_json:
            for info in found:
                click.echo(json.dumps(info, ensure_ascii=False))
        else:
            for info in found:
                _print_inspection(info)
        if write_mapping is not None:
            n = api.write_mapping(found, write_mapping)
            click.echo(f"wrote {n} source rule(s) to {write_mapping}", err=True)
        # As an import of them would end: a script can tell the files would not import cleanly.
        if any(info.get("reject_count") for info in found):
            sys.exit(3)


def _print_mail_inspection(info: dict[str, Any]) -> None:
    counts = info["counts"]
    click.echo(
        escape_controls(
            f"{info['source_path']}  ({info['format'] or 'email'}): "
            f"{_counted(counts['messages_read'], 'message')}, "
            f"{_counted(counts['threads'], 'thread')} → {_counted(counts['records'], 'record')}, "
            f"{_counted(counts['rejects'], 'reject')}"
        )
    )
    if info.get("folders") is not None:
        folders = ", ".join(info["folders"]) or "(none)"
        click.echo(escape_controls(f"  folders on the server: {folders}"))
    if info.get("left_out_by_filters"):
        click.echo(f"  left out by the filters: {info['left_out_by_filters']} messages")
    for message in info["messages"]:
        click.echo(
            escape_controls(
                f"  {message['kind']:8} {message['date'] or '(no date)':25} "
                f"{(message['subject'] or '(no subject)')[:60]}  [thread {message['thread_id']}]"
            )
        )
    _print_rejects(info)


def _print_rejects(info: dict[str, Any]) -> None:
    """The rejects an inspection found, each where it is: its sheet and row, or message."""
    for reject in info["rejects"]:
        where = []
        if reject.get("sheet"):
            where.append(f"sheet {reject['sheet']!r}")
        if reject.get("row") is not None:
            where.append(f"row {reject['row']}")
        if reject.get("message_id"):
            where.append(f"message <{reject['message_id']}>")
        place = f"{', '.join(where)}: " if where else ""
        click.echo(
            escape_controls(f"  rejected: {place}{reject['reason_code']}: {reject['message']}")
        )
    more = info.get("reject_count", 0) - len(info["rejects"])
    if more > 0:
        click.echo(f"  … and {more:,} more rejected")


def _print_inspection(info: dict[str, Any]) -> None:
    if info["kind"] == "email":
        _print_mail_inspection(info)
        return
    if info["kind"] == "unreadable":
        click.echo(escape_controls(f"{info['source_path']}: not read — {info['problem']}"))
        return
    head = f"{info['source_path']}  ({info['format'] or info['kind']}"
    head += f", {info['encoding']})" if info["encoding"] else ")"
    click.echo(escape_controls(head))
    for note in info["notes"]:
        click.echo(escape_controls(f"  note: {note}"))
    _print_rejects(info)
    for sheet in info["sheets"]:
        hidden = " (hidden)" if sheet["hidden"] else ""
        if sheet["skipped"] and not sheet["columns"]:
            click.echo(f"  sheet {sheet['name']!r}{hidden}: skipped — {sheet['skipped']}")
            continue
        rows = ", ".join(map(str, sheet["header_rows"]))
        if sheet["layout"] == "form":
            layout = f"a form of labels and values, {sheet['rows_read']} use case(s)"
        elif sheet["skipped"] and not sheet["rows_read"]:
            # Not read as a table: its rows are no data rows (a list of dropdown values).
            layout = f"best header candidate row {rows}, not read as a table"
        else:
            layout = f"header row {rows}, {sheet['rows_read']} data rows"
        click.echo(
            f"  sheet {sheet['name']!r}{hidden}: {layout} → {sheet['records']} records"
            + (f"; skipped rows {sheet['skipped_rows']}" if sheet["skipped_rows"] else "")
        )
        if sheet["skipped"]:
            click.echo(escape_controls(f"    not imported: {sheet['skipped']}"))
        has_stage = any(c["field"] == "stage" for c in sheet["columns"])
        for col in sheet["columns"]:
            target = col["field"] or (
                "(a legend beside the table: left out)"
                if col["status"] == "legend"
                else "(extras; a tick adds this technique to ai_techniques)"
                if col["status"] == "technique_tick"
                else "(extras; the latest period's status is the stage)"
                if col["status"] == "stage_period"
                else "(extras; a yes here makes the use case high-impact too)"
                if col["status"] == "high_impact_too"
                else "(extras; a yes fills a blank stage)"
                if has_stage and sheet["layout"] != "form" and asks_if_live(col["header"])
                else "(unmapped → extras)"
            )
            detail = f"{col['score']:.0f} {col['status']}" if col["field"] else col["status"]
            cands = ""
            if col["status"] in ("low_confidence", "unmapped", "taken") and col["candidates"]:
                cands = "  candidates: " + ", ".join(
                    f"{c['field']} {c['score']:.0f}" for c in col["candidates"]
                )
            click.echo(
                f"    {col['column']:>3} {_fitted(col['header'])!r:50} → {target} ({detail}){cands}"
            )
        for letter, values in sheet["dropdowns"].items():
            click.echo(escape_controls(f"    dropdown in column {letter}: {', '.join(values)}"))


def _fitted(label: str, width: int = 48) -> str:
    """A header label on one line in ``width`` characters: a long one keeps its start and its
    end, where a two-row header's own label is ("Question 1. AI Use…nformation 1B. Agency")."""
    label = " ".join(label.split())
    if len(label) <= width:
        return label
    head = (width - 1) // 2
    return f"{label[:head]}…{label[-(width - 1 - head) :]}"


@main.group()
def review() -> None:
    """Feed analysts' decisions from dedupe_report.xlsx back into the state."""


@review.command("apply")
@click.argument("report", type=click.Path(path_type=Path))
@click.option(
    "--state",
    type=click.Path(path_type=Path),
    help="State file (default: state.sqlite beside the report).",
)
@click.pass_context
def review_apply(ctx: click.Context, report: Path, state: Path | None) -> None:
    """Store the merge / keep_separate decisions of an edited dedupe report."""
    with _errors(ctx.obj["verbose"]):
        result = api.apply_review(report, state)
        for problem in result.problems:
            click.echo(escape_controls(f"  {problem}"), err=True)
        if not result.stored and not result.withdrawn and not result.problems:
            click.echo(
                "  no decision in the report is new or changed; the decisions stored before stay "
                "as they are (set one to withdraw on the Decisions sheet to take it back)",
                err=True,
            )
        withdrawn = f", {result.withdrawn} withdrawn" if result.withdrawn else ""
        if not result.stored and not result.withdrawn and result.problems:
            click.echo(f"0 decision(s) stored ({len(result.problems)} note(s) above say why)")
            # As a run whose rows were all rejected: a script sees that nothing was stored.
            sys.exit(3)
        click.echo(
            f"{result.stored} decision(s) stored{withdrawn}; the next import or sync honours them"
            + (f" ({len(result.problems)} note(s) above)" if result.problems else "")
        )


@main.command()
@click.option(
    "--state",
    type=click.Path(path_type=Path),
    default=Path("out/state.sqlite"),
    show_default=True,
    help="State file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@click.pass_context
def runs(ctx: click.Context, state: Path, as_json: bool) -> None:
    """List past runs with their counts and exit codes."""
    with _errors(ctx.obj["verbose"]):
        found = api.list_runs(state)
        if as_json:
            click.echo(json.dumps(found, indent=2))
            return
        click.echo(
            f"{'run':>4}  {'started (UTC)':20} {'exit':>4}  {'files':>5} {'records':>7} "
            f"{'use cases':>9} {'rejects':>7}  command"
        )
        for run in found:
            c = run["counts"]
            # A run that recorded no end: still running, or stopped (killed) before it; a run
            # that failed has its exit code and the reason.
            exit_code = run["exit_code"]
            if exit_code is None:
                exit_code = "run" if run["status"] == "running" else "stop"
            failure = ""
            if "failure" in run:
                during = f" while {run['failed_during']}" if run.get("failed_during") else ""
                failure = f"  (failed{during}: {one_line(run['failure'], 160)})"
            click.echo(
                f"{run['run_id']:>4}  {run['started_at'][:19]:20} {exit_code!s:>4}  "
                f"{c.get('files_seen', ''):>5} {c.get('records', ''):>7} "
                f"{c.get('use_cases', ''):>9} {c.get('rejects', ''):>7}  {run['command']}{failure}"
            )


def _cut(text: str, limit: int = 64) -> str:
    """A long label with its middle left out: its start ("5,000 rows of") and the file name
    stay."""
    if len(text) <= limit:
        return text
    head = limit // 3
    return text[:head] + "…" + text[len(text) - (limit - head - 1) :]


@main.command("export")
@click.option(
    "--to",
    "to",
    required=True,
    help=(
        "Where to: a SQLite file (PATH or sqlite:///PATH) or postgresql://USER@HOST:PORT/DB "
        "(password from PGPASSWORD or ~/.pgpass, never in the URL); with --profile, the "
        ".xlsx or .csv file to write."
    ),
)
@click.option(
    "--state",
    type=click.Path(path_type=Path),
    default=Path("out/state.sqlite"),
    show_default=True,
    help="State file of the import or sync to export.",
)
@click.option("--schema", help="PostgreSQL schema for the tables (default: aiinventory).")
@mappings_option
@click.option(
    "--profile",
    type=click.Choice(["us-federal-2025"]),
    help="Write the inventory in this reporting template (.xlsx or .csv) instead of tables.",
)
@click.pass_context
def export_cmd(
    ctx: click.Context,
    to: str,
    state: Path,
    schema: str | None,
    mappings_dir: Path | None,
    profile: str | None,
) -> None:
    """Export the inventory: as tables into SQLite or PostgreSQL, or as a reporting template."""
    with _errors(ctx.obj["verbose"]):
        if profile is not None:
            if schema is not None:
                raise ConfigError("--schema is for database exports; leave it out with --profile")
            written = api.export_profile(Path(to), profile, state)
            blank = [c.key for c in written.columns if c.key in written.blank_columns]
            click.echo(
                f"{len(written.rows)} use cases written to {to} as {profile} "
                f"({len(written.columns)} columns)."
            )
            click.echo(
                f"{len(blank)} columns left blank (no such field in the inventory; fill them "
                f"before submitting): {', '.join(blank)}",
                err=True,
            )
            for note in written.notes:
                click.echo(escape_controls(f"  {note}"), err=True)
            return
        result = api.export_database(to, state, schema, mappings_dir)
        t = result.tables
        uc = t["use_cases"]
        where = result.target + (f" (schema {result.schema})" if result.schema else "")
        click.echo(
            f"Exported to {where}: {uc.rows} use cases ({uc.inserted} new, {uc.updated} updated, "
            f"{uc.unchanged} unchanged, {len(result.newly_gone)} gone), {t['records'].rows} "
            f"records, {t['provenance'].rows} provenance rows, {t['governance_flags'].rows} "
            f"governance flags, {t['rejects'].rows} rejects; state run {result.state_run_id}."
        )
        if result.nul_values:
            click.echo(
                f"{result.nul_values} values held NUL characters, which PostgreSQL cannot store; "
                "they were written with U+FFFD (\ufffd) in their place",
                err=True,
            )
        if result.newly_gone:
            shown = ", ".join(result.newly_gone[:10])
            more = f" and {len(result.newly_gone) - 10} more" if len(result.newly_gone) > 10 else ""
            click.echo(
                f"Left the inventory since the last export (kept in gone_use_cases): {shown}{more}",
                err=True,
            )


if __name__ == "__main__":  # pragma: no cover
    main()
