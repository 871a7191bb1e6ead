-- Figures from statistical tables next to figures from prose, and one comparable observation per quantity.
--
-- `indicators.origin` tells a row of a statistical table ('table') from a figure printed in a sentence
-- ('prose'; every figure loaded before this migration). `observations` lines up what several documents say
-- about one coded quantity, one place and one period end: how many documents report it, whether they agree
-- within the rounding of what they printed (6.1万人 stands for 60,500-61,500), and the preferred value —
-- a statistics table over prose, then the later publication. Only exact measured figures take part (超/约/近
-- figures state bounds, targets are not yet facts, ranges are not one value); reposts are left out. Plain SQL only (no index, no constraint): the same
-- migration runs on a DuckLake catalog.

ALTER TABLE indicators ADD COLUMN origin VARCHAR DEFAULT 'prose';
-- 'value' (a measurement), 'target' (a goal or forecast: 力争到2025年达到100%), 'range' (300至500元: value is the
-- low end, value_high the high end)
ALTER TABLE indicators ADD COLUMN figure_kind VARCHAR DEFAULT 'value';
ALTER TABLE indicators ADD COLUMN value_high DOUBLE;

CREATE VIEW observations AS
WITH figures AS (
    SELECT i.indicator_id, i.metric_code, i.value, i.unit, i.raw_text,
           coalesce(i.origin, 'prose') AS origin,
           coalesce(i.region, d.region_city, d.region_province) AS region,
           coalesce(i.period_end, d.published_date) AS period_end,
           d.doc_id, d.uri, d.published_date,
           try_cast(replace(regexp_extract(i.raw_text, '[0-9][0-9,]*(?:[.][0-9]+)?'), ',', '') AS DOUBLE) AS printed,
           length(regexp_extract(i.raw_text, '[0-9][0-9,]*[.]([0-9]+)', 1)) AS decimals
    FROM indicators i
    JOIN documents d USING (doc_id)
    WHERE d.duplicate_of IS NULL AND i.metric_code IS NOT NULL AND i.qualifier = 'exact'
      AND coalesce(i.figure_kind, 'value') = 'value'
),
bounded AS (
    SELECT *,
           -- half a unit of the last printed digit, in the normalized unit: 6.1万 -> 500, 1,107 -> 0.5
           CASE WHEN printed IS NULL OR printed = 0 THEN 0
                ELSE 0.5 * abs(value / printed) * pow(10, -decimals) END AS tolerance
    FROM figures
),
ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY metric_code, region, period_end
                              ORDER BY origin = 'table' DESC, published_date DESC NULLS LAST, indicator_id) AS preference
    FROM bounded
)
SELECT metric_code, region, period_end,
       any_value(value) FILTER (WHERE preference = 1) AS value,
       any_value(unit) FILTER (WHERE preference = 1) AS unit,
       any_value(origin) FILTER (WHERE preference = 1) AS preferred_origin,
       any_value(uri) FILTER (WHERE preference = 1) AS preferred_uri,
       count(DISTINCT doc_id) AS documents,
       count(*) AS figures,
       max(value) = min(value) OR max(value - tolerance) < min(value + tolerance) AS agree,
       min(value) AS min_value,
       max(value) AS max_value,
       list(DISTINCT doc_id ORDER BY doc_id) AS doc_ids,
       list(DISTINCT uri ORDER BY uri) AS uris
FROM ranked
GROUP BY metric_code, region, period_end;
