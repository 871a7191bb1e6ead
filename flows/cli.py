"""The `civic-ingest` command."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from typing import Any

from flows import settings

EXIT_OK, EXIT_REJECTS, EXIT_ERROR = 0, 1, 2
WAREHOUSE_HELP = (
    "warehouse: a DuckDB file, or a lake ducklake:postgres:dbname=… host=… (data folder $CIVIC_LAKE_DATA) "
    "(default: %(default)s or $CIVIC_DB)"
)


def _json_default(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def article_json(article: Any) -> dict[str, Any]:
    """The `inspect --json` object: metadata, sections, paragraphs, indicators, removed text."""
    headings = {s.section_id: s for s in article.sections}
    return {
        "uri": article.uri,
        "title": article.title,
        "published_date": article.published_date,
        "source": article.source,
        "author": article.author,
        "region_province": article.region_province,
        "region_city": article.region_city,
        "sections": [
            {
                "ordinal": s.ordinal,
                "level": s.level,
                "heading": s.heading,
                "parent": headings[s.parent_id].ordinal if s.parent_id else None,
            }
            for s in article.sections
        ],
        "paragraphs": [
            {
                "ordinal": p.ordinal,
                "section": headings[p.section_id].ordinal if p.section_id else None,
                "kind": p.kind,
                "text": p.text,
            }
            for p in article.paragraphs
        ],
        "indicators": [asdict(i) for i in article.indicators],
        "removed": [{"reason": r.reason, "text": r.text} for r in article.removals],
    }


def article_text(article: Any) -> str:
    """A readable view of one parsed article."""
    lines = [
        f"title       {article.title or '(none)'}",
        f"date        {article.published_date or '-'}",
        f"source      {article.source or '-'}",
        f"author      {article.author or '-'}",
        f"region      {article.region_province or '-'} {article.region_city or ''}".rstrip(),
        "",
    ]
    by_section: dict[str | None, list[Any]] = {}
    for p in article.paragraphs:
        by_section.setdefault(p.section_id, []).append(p)
    for p in by_section.get(None, []):
        lines.append(f"    {p.text[:70]}{'…' if len(p.text) > 70 else ''}")
    for s in article.sections:
        lines.append(f"{'  ' * (s.level - 1)}§ {s.heading}")
        for p in by_section.get(s.section_id, []):
            lines.append(f"{'  ' * s.level}  {p.text[:70]}{'…' if len(p.text) > 70 else ''}")
    lines += ["", f"indicators ({len(article.indicators)})"]
    for i in article.indicators:
        q = "" if i.qualifier == "exact" else f" ({i.qualifier})"
        lines.append(
            f"  {i.raw_text:<12} {i.value:>16,.2f} {i.unit:<4}{q:<9} {i.metric[:24]:<24} "
            f"{i.metric_code or '':<24} {i.region or '':<8} {i.period or ''}"
        )
    lines += ["", f"removed ({len(article.removals)})"]
    lines += [f"  [{r.reason}] {r.text[:80]}" for r in article.removals]
    return "\n".join(lines)


def cmd_inspect(args: argparse.Namespace) -> int:
    from flows.sources.seeds import read_file
    from flows.vocabulary import metric_rules
    from parsers.article import parse_document
    from parsers.records import ParseError

    target: str = args.target
    try:
        if target.startswith(("http://", "https://")):
            from flows.sources.web import fetch_one

            raw = fetch_one(target)
        else:
            raw = read_file(target)
        article = parse_document(raw, rules=metric_rules())
    except ParseError as exc:
        print(f"error: {exc.uri}: [{exc.stage}] {exc.reason}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"error: cannot read {target}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.json:
        print(json.dumps(article_json(article), ensure_ascii=False, indent=2, default=_json_default))
    else:
        print(article_text(article))
    return EXIT_OK


def _print_summary(summary: Any) -> int:
    print(summary.to_text())
    return EXIT_REJECTS if summary.rejects else EXIT_OK


def cmd_ingest(args: argparse.Namespace) -> int:
    from flows.precheck import unchanged_ingest
    from flows.sources.seeds import InputError

    try:  # nothing changed: decided from the files' hashes, before Prefect is imported or a server started
        summary = unchanged_ingest(args.paths or [settings.DEFAULT_SEEDS], args.db, **_shard(args))
        if summary is not None:
            print(summary.to_text())
            print("  (nothing changed: no flow run was needed)")
            return EXIT_OK
        with connect_prefect():
            from flows.ingest_files import ingest_files

            summary = ingest_files(
                paths=args.paths or None, db=args.db, workers=args.workers, batch_size=args.batch_size, **_shard(args)
            )
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return _print_summary(summary)


@contextmanager
def connect_prefect() -> Iterator[None]:
    """Flow runs inside report to $PREFECT_API_URL, else to the project's background server (started once).

    Prefect reads its settings when it is imported: a command that imported it already (to check its
    parameters first) gets the server's URL through a settings context instead of the environment.
    """
    from flows.prefect_server import use_local_server

    url = use_local_server(notify=lambda message: print(message, file=sys.stderr, flush=True))
    if "prefect.settings" in sys.modules:
        from prefect.settings import PREFECT_API_URL, temporary_settings

        if PREFECT_API_URL.value() != url:
            with temporary_settings(updates={PREFECT_API_URL: url}):
                yield
            return
    yield


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _shard(args: argparse.Namespace) -> dict[str, int]:
    """The flow parameters of --shard K/N (none without it)."""
    return {"shard": args.shard[0], "shards": args.shard[1]} if args.shard else {}


def _shard_arg(text: str) -> tuple[int, int]:
    from flows.shards import ShardError, parse_shard

    try:
        return parse_shard(text)
    except ShardError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of minutes, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 minutes, got {text}")
    return value


MAX_MINUTES_HELP = (
    "stop requesting pages after this many minutes, load what was fetched, leave the rest to the next run "
    "(default: no limit; SIGTERM/SIGINT stop the same way)"
)


def cmd_fetch(args: argparse.Namespace) -> int:
    from flows.sources.config import SourceConfigError, load_sources

    try:  # a bad sources file or an unknown --source fails here, before a flow run starts
        load_sources(args.sources).select(args.source)
    except SourceConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    with connect_prefect():
        from flows.fetch_articles import fetch_articles

        summary = fetch_articles(
            sources_file=args.sources,
            source_names=args.source or None,
            db=args.db,
            max_pages=args.max_pages,
            refetch=args.refetch,
            max_minutes=args.max_minutes,
            **_shard(args),
        )
    return _print_summary(summary)


def cmd_backfill(args: argparse.Namespace) -> int:
    from flows.backfill import BackfillError, backfill, plan_backfill

    options = {"max_pages": args.max_pages, "sources_file": args.sources}
    try:  # invalid parameters fail here, before a flow run starts
        plan_backfill(args.source, args.date_from, args.date_to, args.urls, **options)
    except BackfillError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    with connect_prefect():
        summary = backfill(
            source=args.source,
            date_from=args.date_from,
            date_to=args.date_to,
            url_file=args.urls,
            db=args.db,
            max_minutes=args.max_minutes,
            **options,
            **_shard(args),
        )
    return _print_summary(summary)


EXIT_NOT_RUNNING = 3  # `server status` when no server runs (as LSB init scripts say it)


def cmd_server(args: argparse.Namespace) -> int:
    """`server status|start|stop`: the background Prefect server that commands report to."""
    from flows import prefect_server

    home = prefect_server.prefect_home()
    external = os.environ.get("PREFECT_API_URL")
    if args.action == "stop":
        stopped = prefect_server.stop_server(home)
        print(f"stopped the Prefect server on {stopped.ui_url} (pid {stopped.pid})" if stopped else "no server running")
        return EXIT_OK
    if args.action == "start":
        state, _ = prefect_server.ensure_server(home, notify=lambda m: print(m, file=sys.stderr, flush=True))
    else:
        state = prefect_server.running_server(home)
    if external:
        print(f"PREFECT_API_URL is set: commands report to {external}")
    if state is None:
        print(f"no server running (Prefect home {home}); the next ingest, fetch or backfill starts one")
        return EXIT_NOT_RUNNING
    print(f"running   pid {state.pid} since {state.started_at}")
    print(f"UI        {state.ui_url}")
    print(f"API       {state.api_url}")
    print(f"home      {state.home} (log {prefect_server.LOG_FILE})")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """`report`: the warehouse as one self-contained HTML page (charts, sources, conflicts, coverage)."""
    from flows.report import write_report
    from warehouse.schema import report_path

    con = _open_for_reading(args.db)
    if con is None:
        return EXIT_ERROR
    try:
        out = write_report(con, args.out or report_path(args.db), warehouse=args.db)
    finally:
        con.close()
    print(f"report written to {out} (open it in a browser: {out.resolve().as_uri()})")
    return EXIT_OK


def cmd_sources_check(args: argparse.Namespace) -> int:
    """Probe sources and print a verdict per source; exit 2 only for bad arguments (a probe never fails the command)."""
    import time

    from flows.sources.check import check_sources
    from flows.sources.config import SourceConfigError, load_sources

    try:
        config = load_sources(args.sources)
        sources = config.select(args.names)
    except SourceConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    started = time.monotonic()
    print(f"checking {len(sources)} source(s) from {args.sources} (timeout {args.timeout:g}s per request)", flush=True)
    checks = check_sources(sources, config.fetch, timeout=args.timeout)
    for check in checks:
        print(check.to_text())
    verdicts: dict[str, int] = {}
    for check in checks:
        verdicts[check.verdict] = verdicts.get(check.verdict, 0) + 1
    summary = ", ".join(f"{n} {verdict}" for verdict, n in sorted(verdicts.items()))
    print(f"{len(checks)} source(s) checked in {time.monotonic() - started:.1f}s: {summary}")
    return EXIT_OK


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], *, max_width: int = 60) -> str:
    """Rows as an aligned text table (CJK characters count double on a terminal)."""

    def cell(value: Any) -> str:
        text = "" if value is None else str(value)
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    def width(text: str) -> int:
        return sum(2 if "\u2e80" <= ch <= "\uffef" else 1 for ch in text)

    table = [[cell(c) for c in columns]] + [[cell(v) for v in row] for row in rows]
    widths = [max(width(r[i]) for r in table) for i in range(len(columns))]
    lines = ["  ".join(v + " " * (w - width(v)) for v, w in zip(r, widths, strict=True)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _open_for_reading(db: str) -> Any:
    """A read-only connection (a file's snapshot, or the lake itself), or None after printing why there is none."""
    from warehouse.backends import LakeError, open_warehouse
    from warehouse.schema import WarehouseLocked

    try:
        return open_warehouse(db, lake_data=settings.LAKE_DATA).reader()
    except (FileNotFoundError, WarehouseLocked, LakeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def cmd_lake_maintain(args: argparse.Namespace) -> int:
    """Compact a lake's small files and expire its old snapshots; print what was done (one JSON object)."""
    from warehouse.backends import open_warehouse

    warehouse = open_warehouse(args.db, lake_data=settings.LAKE_DATA)
    if warehouse.backend != "ducklake":
        print(f"error: {warehouse.name} is a DuckDB file: maintenance is for a DuckLake warehouse", file=sys.stderr)
        return EXIT_ERROR
    with warehouse:
        done = warehouse.maintain(keep_hours=args.keep_hours)
    print(json.dumps(done, ensure_ascii=False, default=str))
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    from flows.vocabulary import metric_rules
    from parsers.metrics import code_topics
    from warehouse.queries import stats

    con = _open_for_reading(args.db)
    if con is None:
        return EXIT_ERROR
    try:
        data = stats(con, code_topics(metric_rules()))
    finally:
        con.close()
    tables = data["tables"]
    from warehouse.backends import open_warehouse

    name = open_warehouse(args.db).name  # a lake's URL without its password
    print(f"warehouse {name}: " + ", ".join(f"{t} {n}" for t, n in tables.items()))
    sections = (
        ("articles by province", ["province", "articles", "reposts"], data["articles_by_province"]),
        ("indicators by metric_code", ["metric_code", "indicators"], data["indicators_by_metric"]),
        ("code coverage by topic", ["topic", "figures", "coded", "share"], data["coverage_by_topic"]),
        ("removed text by reason", ["reason", "pieces"], data["removals_by_reason"]),
        ("rejected inputs", ["uri", "stage", "reason", "attempts"], data["rejects"]),
        (
            "last runs",
            ["flow", "finished_at", "new", "updated", "unchanged", "indicators", "rejects"],
            data["last_runs"],
        ),
    )
    for title, columns, rows in sections:
        if rows:
            print(f"\n{title}\n{format_table(columns, rows)}")
    return EXIT_OK


def cmd_query(args: argparse.Namespace) -> int:
    import csv

    import duckdb

    from warehouse.queries import run_query

    con = _open_for_reading(args.db)
    if con is None:
        return EXIT_ERROR
    try:
        columns, rows = run_query(con, args.sql)
    except duckdb.Error as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        con.close()
    if args.format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    elif args.format == "json":
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        print(json.dumps(records, ensure_ascii=False, indent=2, default=str))
    else:
        print(format_table(columns, rows))
        print(f"({len(rows)} rows)")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from warehouse.queries import export_parquet

    con = _open_for_reading(args.db)
    if con is None:
        return EXIT_ERROR
    try:
        written = export_parquet(con, args.directory)
    finally:
        con.close()
    for path in written:
        print(path)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="civic-ingest", description="Turn Chinese civil-affairs reporting into data (DuckDB)."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="ingest local .txt/.html files (default: the project's seeds/)")
    ingest.add_argument("paths", nargs="*", help="files or folders (default: seeds/)")
    ingest.add_argument("--db", default=settings.DEFAULT_DB, help=WAREHOUSE_HELP)
    ingest.add_argument("--workers", type=int, default=None, help="parser processes (default: all cores)")
    ingest.add_argument("--shard", type=_shard_arg, metavar="K/N", help="only shard K (0..N-1) of the files")
    ingest.add_argument(
        "--batch-size", type=_positive_int, default=500, help="files read and parsed per batch (default: %(default)s)"
    )
    ingest.set_defaults(func=cmd_ingest, needs_prefect=True)

    fetch = sub.add_parser("fetch", help="fetch new articles from the sites in sources.toml")
    fetch.add_argument(
        "--sources", default=settings.DEFAULT_SOURCES, help="sources file (default: %(default)s or $CIVIC_SOURCES)"
    )
    fetch.add_argument("--source", action="extend", nargs="+", metavar="NAME", help="only these sources (default: all)")
    fetch.add_argument("--db", default=settings.DEFAULT_DB, help=WAREHOUSE_HELP)
    fetch.add_argument("--shard", type=_shard_arg, metavar="K/N", help="only shard K (0..N-1) of the sources")
    fetch.add_argument(
        "--max-pages", type=_positive_int, default=None, help="list pages per start URL (default: per source)"
    )
    fetch.add_argument("--refetch", action="store_true", help="download known article pages again")
    fetch.add_argument("--max-minutes", type=_positive_minutes, default=None, metavar="M", help=MAX_MINUTES_HELP)
    fetch.set_defaults(func=cmd_fetch, needs_prefect=True)

    backfill = sub.add_parser(
        "backfill", help="fetch a source's older articles: a date range (inclusive) and/or a file of URLs"
    )
    backfill.add_argument("--source", default="all", metavar="NAME", help="one configured source (default: all)")
    backfill.add_argument("--from", dest="date_from", metavar="DATE", help="oldest publish date, YYYY-MM-DD")
    backfill.add_argument("--to", dest="date_to", metavar="DATE", help="newest publish date, YYYY-MM-DD")
    backfill.add_argument("--urls", metavar="FILE", help="article URLs to fetch too, one a line")
    backfill.add_argument("--db", default=settings.DEFAULT_DB, help=WAREHOUSE_HELP)
    backfill.add_argument("--shard", type=_shard_arg, metavar="K/N", help="only shard K (0..N-1) of the sources")
    backfill.add_argument(
        "--sources", default=settings.DEFAULT_SOURCES, help="sources file (default: %(default)s or $CIVIC_SOURCES)"
    )
    backfill.add_argument(
        "--max-pages", type=_positive_int, default=50, help="list pages per start URL (default: %(default)s)"
    )
    backfill.add_argument("--max-minutes", type=_positive_minutes, default=None, metavar="M", help=MAX_MINUTES_HELP)
    backfill.set_defaults(func=cmd_backfill, needs_prefect=True)

    sources_cmd = sub.add_parser("sources", help="work with sources.toml")
    sources_sub = sources_cmd.add_subparsers(dest="sources_command", required=True)
    check = sources_sub.add_parser(
        "check", help="probe sources: robots, list page, CMS family, article links, one article, statistics table"
    )
    check.add_argument("names", nargs="*", metavar="NAME", help="sources to check (default: all)")
    check.add_argument(
        "--sources", default=settings.DEFAULT_SOURCES, help="sources file (default: %(default)s or $CIVIC_SOURCES)"
    )
    check.add_argument(
        "--timeout", type=_positive_float, default=8.0, help="seconds per connect or read (default: %(default)s)"
    )
    check.set_defaults(func=cmd_sources_check, needs_prefect=False)

    inspect = sub.add_parser("inspect", help="parse one file or URL and print the article (no database)")
    inspect.add_argument("target", help="a .txt/.html file or an http(s) URL")
    inspect.add_argument("--json", action="store_true", help="print one JSON object")
    inspect.set_defaults(func=cmd_inspect, needs_prefect=False)

    db_help = WAREHOUSE_HELP + "; a file is read through its published snapshot, a lake directly"
    stats_cmd = sub.add_parser("stats", help="what the warehouse holds")
    stats_cmd.add_argument("--db", default=settings.DEFAULT_DB, help=db_help)
    stats_cmd.set_defaults(func=cmd_stats)

    query = sub.add_parser("query", help="run read-only SQL against the warehouse snapshot")
    query.add_argument("sql")
    query.add_argument("--db", default=settings.DEFAULT_DB, help=db_help)
    query.add_argument("--format", choices=("table", "csv", "json"), default="table")
    query.set_defaults(func=cmd_query)

    export = sub.add_parser("export", help="write every table to Parquet files")
    export.add_argument("directory")
    export.add_argument("--format", choices=("parquet",), default="parquet")
    export.add_argument("--db", default=settings.DEFAULT_DB, help=db_help)
    export.set_defaults(func=cmd_export)

    lake = sub.add_parser("lake", help="DuckLake warehouse upkeep")
    lake_sub = lake.add_subparsers(dest="lake_command", required=True)
    maintain = lake_sub.add_parser(
        "maintain", help="merge the lake's small Parquet files, expire old snapshots and delete their files"
    )
    maintain.add_argument("--db", default=settings.DEFAULT_DB, help=WAREHOUSE_HELP)
    maintain.add_argument(
        "--keep-hours", type=float, default=24.0, help="keep snapshots younger than this (default: %(default)s)"
    )
    maintain.set_defaults(func=cmd_lake_maintain)
    add_server_and_report_commands(sub, db_help)
    return parser


def add_server_and_report_commands(sub: Any, db_help: str) -> None:
    """The `server` and `report` subcommands."""
    server = sub.add_parser("server", help="the background Prefect server that commands report to")
    server.add_argument("action", choices=("status", "start", "stop"), nargs="?", default="status")
    server.set_defaults(func=cmd_server)

    report = sub.add_parser("report", help="write the warehouse as one HTML page: charts, sources, conflicts")
    report.add_argument("--db", default=settings.DEFAULT_DB, help=db_help)
    report.add_argument("--out", help="HTML file to write (default: beside the warehouse, <name>.report.html)")
    report.set_defaults(func=cmd_report)


def is_warehouse_locked(exc: BaseException) -> bool:
    """True for WarehouseLocked or a lake that cannot be opened as configured (checked without importing DuckDB:
    `inspect` never loads it)."""
    schema = sys.modules.get("warehouse.schema")
    lake = sys.modules.get("warehouse.backends.ducklake")
    return (schema is not None and isinstance(exc, schema.WarehouseLocked)) or (
        lake is not None and isinstance(exc, lake.LakeError)
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "needs_prefect", False):
        settings.configure_prefect_environment()
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print(
            "interrupted: the warehouse keeps every batch committed so far; re-run to complete",
            file=sys.stderr,
        )
        return 130
    except Exception as exc:  # anything unforeseen: one line and exit 2, never 1 ("finished with rejects")
        if is_warehouse_locked(exc):  # the writer waited CIVIC_LOCK_WAIT seconds and gave up
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        if os.environ.get("CIVIC_DEBUG"):
            raise
        print(f"error: {describe_failure(exc)} (CIVIC_DEBUG=1 shows the traceback)", file=sys.stderr)
        return EXIT_ERROR


def describe_failure(exc: BaseException) -> str:
    """`Type: message` of an unexpected failure, on one line."""
    message = " ".join(str(exc).split()) or "(no message)"
    return f"{type(exc).__name__}: {message}"


if __name__ == "__main__":
    sys.exit(main())
