-- Run history, crawl state, and the analyst-facing indicator views.

CREATE TABLE runs (
    run_id        VARCHAR PRIMARY KEY,     -- Prefect flow run id, or a local id
    flow          VARCHAR NOT NULL,        -- ingest-files | fetch-articles | backfill
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP NOT NULL,
    articles_new        INTEGER NOT NULL,
    articles_updated    INTEGER NOT NULL,
    articles_unchanged  INTEGER NOT NULL,
    sections      INTEGER NOT NULL,
    paragraphs    INTEGER NOT NULL,
    indicators    INTEGER NOT NULL,
    removals      INTEGER NOT NULL,
    rejects       INTEGER NOT NULL,
    summary_json  VARCHAR NOT NULL         -- the full run summary (removals by reason, rejects, fetch counts, timings)
);

CREATE TABLE fetch_log (
    url           VARCHAR PRIMARY KEY,     -- canonical URL
    source_name   VARCHAR NOT NULL,
    kind          VARCHAR NOT NULL,        -- list | article
    status        INTEGER,                 -- last HTTP status (NULL: network error)
    etag          VARCHAR,
    last_modified VARCHAR,
    content_hash  VARCHAR,
    doc_id        VARCHAR,                 -- the document loaded from this URL
    error         VARCHAR,
    attempts      INTEGER NOT NULL,
    first_seen    TIMESTAMP NOT NULL,
    last_fetched  TIMESTAMP NOT NULL
);

-- Every figure next to its article's date, outlet and region; reposts are not counted twice.
CREATE VIEW indicator_facts AS
SELECT i.indicator_id, i.metric_code, i.metric, i.value, i.unit, i.qualifier, i.raw_text,
       coalesce(i.region, d.region_city, d.region_province) AS region,
       coalesce(i.region_province, d.region_province) AS region_province,
       i.period, i.period_start, i.period_end,
       coalesce(i.period_end, d.published_date) AS as_of,
       d.published_date, d.title, d.source, d.uri, d.doc_id, i.sentence
FROM indicators i
JOIN documents d USING (doc_id)
WHERE d.duplicate_of IS NULL;

-- The most recent figure for each coded metric and region.
CREATE VIEW latest_indicators AS
SELECT * FROM indicator_facts
WHERE metric_code IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY metric_code, region, unit
                           ORDER BY as_of DESC NULLS LAST, published_date DESC NULLS LAST, indicator_id) = 1;
