"""The read side: stats, ad-hoc SQL, Parquet export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

PUBLIC_TABLES = (
    "documents",
    "sections",
    "paragraphs",
    "indicators",
    "cleaning_log",
    "rejects",
    "runs",
    "fetch_log",
)


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every public table."""
    counts = {}
    for table in PUBLIC_TABLES:
        row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def stats(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """What the warehouse holds: table sizes, articles by province, top metrics, last runs.

    Read in one transaction: on a lake that writers commit to meanwhile, every figure is of one snapshot.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        return _stats(con)
    finally:
        con.execute("ROLLBACK")


def _stats(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    return {
        "tables": table_counts(con),
        "articles_by_province": con.execute(
            "SELECT coalesce(region_province, '(unknown)') AS province, count(*) AS articles, "
            "count(*) FILTER (WHERE duplicate_of IS NOT NULL) AS reposts "
            "FROM documents GROUP BY ALL ORDER BY articles DESC, province"
        ).fetchall(),
        "indicators_by_metric": con.execute(
            "SELECT coalesce(metric_code, '(uncoded)') AS metric_code, count(*) AS n "
            "FROM indicators GROUP BY ALL ORDER BY n DESC, metric_code LIMIT 12"
        ).fetchall(),
        "removals_by_reason": con.execute(
            "SELECT reason, count(*) AS n FROM cleaning_log GROUP BY ALL ORDER BY n DESC, reason"
        ).fetchall(),
        "rejects": con.execute("SELECT uri, stage, reason, attempts FROM rejects ORDER BY last_seen DESC").fetchall(),
        "last_runs": con.execute(
            "SELECT flow, finished_at, articles_new, articles_updated, articles_unchanged, indicators, rejects "
            "FROM runs ORDER BY finished_at DESC LIMIT 5"
        ).fetchall(),
    }


def run_query(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(column names, rows) of one SQL statement."""
    cursor = con.execute(sql)
    columns = [d[0] for d in cursor.description or []]
    return columns, cursor.fetchall()


def export_parquet(con: duckdb.DuckDBPyConnection, directory: str | Path) -> list[Path]:
    """Write every public table to DIR/<table>.parquet; returns the files written."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table in PUBLIC_TABLES:
        target = out / f"{table}.parquet"
        con.execute(f"COPY {table} TO '{_sql_path(target)}' (FORMAT parquet)")
        written.append(target)
    return written


def _sql_path(path: Path) -> str:
    """A path as a SQL string literal body (COPY takes no bound parameters for its target)."""
    return str(path).replace("'", "''")


# --- crawl state, read by the fetch flow --------------------------------------------------------


def known_page_urls(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Canonical URLs of article pages (and attachments) already fetched without error, or loaded."""
    rows = con.execute(
        """
        SELECT url FROM fetch_log WHERE kind IN ('article', 'attachment') AND error IS NULL
        UNION SELECT uri FROM documents WHERE uri LIKE 'http%'
        """
    ).fetchall()
    return frozenset(url for (url,) in rows)


def list_validators(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str | None, str | None]]:
    """list page URL -> (ETag, Last-Modified) for conditional GET."""
    rows = con.execute(
        """
        SELECT url, etag, last_modified FROM fetch_log
        WHERE kind = 'list' AND (etag IS NOT NULL OR last_modified IS NOT NULL)
        """
    ).fetchall()
    return {url: (etag, modified) for url, etag, modified in rows}


def failed_article_urls(con: duckdb.DuckDBPyConnection, max_attempts: int) -> list[tuple[str, str]]:
    """(source, URL) of article pages that failed fewer than `max_attempts` times, oldest first."""
    rows = con.execute(
        """
        SELECT source_name, url FROM fetch_log
        WHERE kind = 'article' AND error IS NOT NULL AND attempts < ? ORDER BY last_fetched
        """,
        [max_attempts],
    ).fetchall()
    return [(source, url) for source, url in rows]
