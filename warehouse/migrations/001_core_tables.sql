-- Core tables: one row per article, its sections, paragraphs, figures, cleaning decisions, and rejected inputs.
-- Ids are deterministic hashes (re-running the same input upserts the same rows).

CREATE TABLE documents (
    doc_id          VARCHAR PRIMARY KEY,   -- hash of the canonical URL or the local path
    uri             VARCHAR NOT NULL,      -- page URL, or for local files the path as given
    source_name     VARCHAR NOT NULL,      -- configured source (sources.toml) or 'local'
    title           VARCHAR NOT NULL,      -- '' when the article prints no title
    published_date  DATE,
    source          VARCHAR,               -- outlet: 新华日报, 中国民政, 苏州市民政局 …
    author          VARCHAR,               -- authors joined with 、
    region_province VARCHAR,               -- full name: 江苏省
    region_city     VARCHAR,               -- full name when the article is about one city: 苏州市
    content_hash    VARCHAR NOT NULL,      -- hash of the raw bytes: unchanged input is not parsed again
    text_hash       VARCHAR NOT NULL,      -- hash of the normalized body: equal for reposts
    duplicate_of    VARCHAR,               -- doc_id of the first copy when this article is a repost
    parser_version  VARCHAR NOT NULL,
    char_count      INTEGER NOT NULL,      -- characters of body text
    ingested_at     TIMESTAMP NOT NULL,    -- first time this document was loaded
    updated_at      TIMESTAMP NOT NULL     -- last time its content changed
);

CREATE TABLE sections (
    section_id  VARCHAR PRIMARY KEY,
    doc_id      VARCHAR NOT NULL,
    parent_id   VARCHAR,                   -- enclosing section, NULL at level 1
    level       INTEGER NOT NULL,          -- 1 = top level
    ordinal     INTEGER NOT NULL,          -- order in the article, from 0
    heading     VARCHAR NOT NULL
);

CREATE TABLE paragraphs (
    paragraph_id VARCHAR PRIMARY KEY,
    doc_id       VARCHAR NOT NULL,
    section_id   VARCHAR,                  -- innermost enclosing section, NULL before the first heading
    ordinal      INTEGER NOT NULL,
    text         VARCHAR NOT NULL          -- as published (punctuation not normalized)
);

CREATE TABLE indicators (
    indicator_id  VARCHAR PRIMARY KEY,
    doc_id        VARCHAR NOT NULL,
    section_id    VARCHAR,
    paragraph_id  VARCHAR NOT NULL,
    ordinal       INTEGER NOT NULL,        -- order of the figure in the article
    metric        VARCHAR NOT NULL,        -- what is measured, as worded: 注册登记社会组织
    metric_code   VARCHAR,                 -- stable code from the metric vocabulary, NULL if none fits
    value         DOUBLE NOT NULL,         -- normalized: 7.7万 -> 77000; 8.2% -> 8.2
    unit          VARCHAR NOT NULL,        -- 家, 个, 人, 元, %, 百分点, 倍 …
    unit_implied  BOOLEAN NOT NULL,        -- unit not printed, inferred from context (总规模50亿 -> 元)
    qualifier     VARCHAR NOT NULL,        -- exact | over (超/余/多/以上) | approx (近/约/左右) | under (不足/以下)
    raw_text      VARCHAR NOT NULL,        -- the figure as printed: 7.7万家
    sentence      VARCHAR NOT NULL,
    region        VARCHAR,                 -- most specific division the figure is about: 宝鸡市
    region_province VARCHAR,
    period        VARCHAR,                 -- time expression as printed: 截至目前, 2022年, 今年上半年
    period_start  DATE,                    -- resolved with the publish date where possible
    period_end    DATE
);

CREATE TABLE cleaning_log (
    doc_id   VARCHAR NOT NULL,
    ordinal  INTEGER NOT NULL,
    reason   VARCHAR NOT NULL,             -- breadcrumb, metadata_line, duplicate_paragraph, rejoined_break …
    text     VARCHAR NOT NULL,
    PRIMARY KEY (doc_id, ordinal)
);

CREATE TABLE rejects (
    uri        VARCHAR NOT NULL,
    stage      VARCHAR NOT NULL,           -- read | decode | extract | clean | fetch
    reason     VARCHAR NOT NULL,
    attempts   INTEGER NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    last_seen  TIMESTAMP NOT NULL,
    PRIMARY KEY (uri, stage)
);

CREATE INDEX sections_doc ON sections (doc_id);
CREATE INDEX paragraphs_doc ON paragraphs (doc_id);
CREATE INDEX indicators_doc ON indicators (doc_id);
