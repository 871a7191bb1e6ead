"""The read side: stats, ad-hoc SQL, Parquet export."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

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


NO_TOPIC = "(no coded figure)"


def coverage_by_topic(con: duckdb.DuckDBPyConnection, topics: Mapping[str, str]) -> list[tuple[Any, ...]]:
    """(topic, figures, with a code, share coded) — a figure's topic is its code's vocabulary group, and an
    uncoded figure takes its article's topic (the group most of the article's coded figures belong to)."""
    vocabulary = pa.table({"code": list(topics), "topic": list(topics.values())})
    con.register("_code_topics", vocabulary)
    try:
        return con.execute(
            f"""
            WITH coded AS (
                SELECT i.doc_id, i.metric_code, t.topic
                FROM indicators i LEFT JOIN _code_topics t ON t.code = i.metric_code
            ),
            doc_topic AS (
                SELECT doc_id, mode(topic) AS topic FROM coded WHERE topic IS NOT NULL GROUP BY doc_id
            )
            SELECT coalesce(c.topic, d.topic, '{NO_TOPIC}') AS topic,
                   count(*) AS figures,
                   count(c.metric_code) AS coded,
                   round(count(c.metric_code) / count(*), 3) AS share
            FROM coded c LEFT JOIN doc_topic d USING (doc_id)
            GROUP BY ALL ORDER BY figures DESC, topic
            """
        ).fetchall()
    finally:
        con.unregister("_code_topics")


def stats(con: duckdb.DuckDBPyConnection, topics: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What the warehouse holds: table sizes, articles by province, top metrics, code coverage by topic, last runs.

    Read in one transaction: on a lake that writers commit to meanwhile, every figure is of one snapshot.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        return _stats(con, topics)
    finally:
        con.execute("ROLLBACK")


def _stats(con: duckdb.DuckDBPyConnection, topics: Mapping[str, str] | None) -> dict[str, Any]:
    return {
        "coverage_by_topic": coverage_by_topic(con, topics) if topics else [],
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


# --- the report (flows/report.py draws it) ------------------------------------------------------


def _records(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    columns = [d[0] for d in cursor.description or []]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def has_relation(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """True when the warehouse has a table or view of this name (newer warehouses add views)."""
    row = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()
    return bool(row and row[0])


def relation_columns(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, str]:
    """column name -> data type of a table or view."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?", [name]
    ).fetchall()
    return {column: dtype for column, dtype in rows}


FACT_COLUMNS = (
    "metric_code, unit, region, as_of, value, qualifier, raw_text, sentence, title, source, uri, published_date"
)


def metric_series(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """One row per (metric_code, unit) with data: figures, regions, documents, first and last date."""
    return _records(
        con.execute(
            """
            SELECT metric_code, unit, count(*) AS figures, count(DISTINCT region) AS regions,
                   count(DISTINCT doc_id) AS documents, min(as_of) AS first_as_of, max(as_of) AS last_as_of
            FROM indicator_facts WHERE metric_code IS NOT NULL AND region IS NOT NULL
            GROUP BY ALL ORDER BY figures DESC, metric_code, unit
            """
        )
    )


def latest_by_region(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The latest figure of every coded metric, unit and region, with its source (the `latest_indicators` view)."""
    return _records(
        con.execute(
            f"SELECT {FACT_COLUMNS} FROM latest_indicators WHERE region IS NOT NULL "
            "ORDER BY metric_code, unit, value DESC, region"
        )
    )


def series_points(con: duckdb.DuckDBPyConnection, max_regions: int) -> list[dict[str, Any]]:
    """Every dated figure of the `max_regions` regions with the most dates per metric and unit, one per document.

    A document that prints the same figure twice gives one point; two documents give two (a chart shows both).
    """
    return _records(
        con.execute(
            f"""
            WITH facts AS (
                SELECT {FACT_COLUMNS}, doc_id FROM indicator_facts
                WHERE metric_code IS NOT NULL AND region IS NOT NULL AND as_of IS NOT NULL
                QUALIFY row_number() OVER (PARTITION BY metric_code, unit, region, as_of, doc_id, value
                                           ORDER BY indicator_id) = 1
            ), ranked AS (
                SELECT metric_code, unit, region,
                       row_number() OVER (PARTITION BY metric_code, unit
                                          ORDER BY count(DISTINCT as_of) DESC, count(*) DESC, region) AS rank
                FROM facts GROUP BY metric_code, unit, region
            )
            SELECT f.* EXCLUDE (doc_id) FROM facts f JOIN ranked r USING (metric_code, unit, region)
            WHERE r.rank <= ?
            ORDER BY metric_code, unit, region, as_of, value
            """,
            [max_regions],
        )
    )


# Figures of one metric, region and period end (else publish date: `as_of`) from two documents conflict when
# they differ by more than half the rounding step of the coarsest of them: 7.7万 (step 1,000) and 77,312 agree,
# 7.7万 and 79,000 do not; 8.2% and 8.25% agree. Only exact figures take part: 超7万, 约8万 and 不足5% state
# bounds, and 超7万 and 77,312 do not contradict each other.
ROUNDING_STEP = r"""
    CASE WHEN value = trunc(value) THEN power(10, length(CAST(CAST(abs(value) AS HUGEINT) AS VARCHAR))
                                              - length(rtrim(CAST(CAST(abs(value) AS HUGEINT) AS VARCHAR), '0')))
         ELSE power(10, -length(regexp_extract(CAST(round(value, 6) AS VARCHAR), '\.(\d*?)0*$', 1))) END
"""
COMPARED_FIGURES = "metric_code IS NOT NULL AND region IS NOT NULL AND as_of IS NOT NULL AND qualifier = 'exact'"
FACTS_CONFLICT_GROUPS = f"""
    SELECT metric_code, unit, region, as_of AS period_end FROM (
        SELECT *, {ROUNDING_STEP} AS step FROM indicator_facts WHERE {COMPARED_FIGURES})
    GROUP BY ALL
    HAVING count(DISTINCT doc_id) >= 2 AND max(value) - min(value) > max(step) / 2 + 1e-9
"""
# A warehouse with the `observations` view (migration 004 of the metric-vocabulary work: one row per metric,
# region and period end, with the number of documents and whether they agree within rounding) decides itself.
OBSERVATION_CONFLICT_GROUPS = """
    SELECT metric_code, NULL AS unit, region, period_end FROM observations WHERE documents >= 2 AND NOT agree
"""


def conflict_groups_sql(con: duckdb.DuckDBPyConnection) -> str:
    """The query of (metric_code, unit, region, period_end) on which documents disagree."""
    if has_relation(con, "observations") and {"metric_code", "region", "period_end", "documents", "agree"} <= set(
        relation_columns(con, "observations")
    ):
        return OBSERVATION_CONFLICT_GROUPS
    return FACTS_CONFLICT_GROUPS


def conflicts(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every figure of a metric, region and period end on which two documents disagree, with its source."""
    return _records(
        con.execute(
            f"""
            WITH groups AS ({conflict_groups_sql(con)})
            SELECT f.metric_code, f.unit, f.region, f.as_of AS period_end, f.value, f.qualifier, f.raw_text,
                   f.sentence, f.title, f.source, f.uri, f.published_date
            FROM indicator_facts f
            JOIN groups g ON f.metric_code = g.metric_code AND f.region = g.region AND f.as_of = g.period_end
                         AND (g.unit IS NULL OR f.unit = g.unit)
            WHERE f.qualifier = 'exact'
            ORDER BY f.metric_code, f.unit, f.region, f.as_of, f.value, f.uri
            """
        )
    )


def coverage(con: duckdb.DuckDBPyConnection, top_uncoded: int = 15) -> dict[str, Any]:
    """Figures with and without a metric code: totals, by province, and the commonest uncoded wordings."""
    totals = con.execute("SELECT count(*), count(metric_code) FROM indicator_facts").fetchone() or (0, 0)
    return {
        "figures": int(totals[0]),
        "coded": int(totals[1]),
        "by_province": _records(
            con.execute(
                """
                SELECT coalesce(region_province, '(unknown)') AS province,
                       count(metric_code) AS coded, count(*) - count(metric_code) AS uncoded
                FROM indicator_facts GROUP BY ALL ORDER BY count(*) DESC, province
                """
            )
        ),
        "uncoded_metrics": _records(
            con.execute(
                """
                SELECT metric, unit, count(*) AS figures, count(DISTINCT doc_id) AS documents
                FROM indicator_facts WHERE metric_code IS NULL
                GROUP BY ALL ORDER BY figures DESC, metric, unit LIMIT ?
                """,
                [top_uncoded],
            )
        ),
    }


def last_runs(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the newest run, the newest run that added or changed articles); either may be None."""
    columns = (
        "run_id, flow, started_at, finished_at, articles_new, articles_updated, articles_unchanged, "
        "sections, paragraphs, indicators, removals, rejects"
    )
    newest = _records(con.execute(f"SELECT {columns} FROM runs ORDER BY finished_at DESC LIMIT 1"))
    changed = _records(
        con.execute(
            f"SELECT {columns} FROM runs WHERE articles_new + articles_updated > 0 ORDER BY finished_at DESC LIMIT 1"
        )
    )
    return (newest[0] if newest else None), (changed[0] if changed else None)


def run_documents(con: duckdb.DuckDBPyConnection, started_at: Any, finished_at: Any) -> list[dict[str, Any]]:
    """The articles a run added or changed (loaded between its start and end), with their figure counts."""
    return _records(
        con.execute(
            """
            SELECT d.title, d.uri, d.published_date, d.source, d.region_province, d.region_city,
                   d.ingested_at >= ? AS is_new, d.duplicate_of IS NOT NULL AS is_repost,
                   count(i.indicator_id) AS figures, count(i.metric_code) AS coded
            FROM documents d LEFT JOIN indicators i USING (doc_id)
            WHERE d.updated_at BETWEEN ? AND ?
            GROUP BY ALL ORDER BY d.published_date DESC NULLS LAST, d.uri
            """,
            [started_at, started_at, finished_at],
        )
    )
