-- fetch_log learns which CMS family read each list page, and which page linked each attachment.
--
-- family:     hanweb | trs | gkmlpt | feeds | links for list pages (how the crawler paged them); NULL otherwise.
-- parent_url: for an attachment (a statistics .xls/.xlsx stored as its own document), the canonical URL of
--             the article or report page that links it; NULL otherwise.

ALTER TABLE fetch_log ADD COLUMN family VARCHAR;
ALTER TABLE fetch_log ADD COLUMN parent_url VARCHAR;
