-- What each paragraph is, from the page's markup (HTML) or the text's shape (plain text):
-- 'paragraph', 'list_item' or 'table_row' (a data table's row, its cells joined by ' | ').
-- Rows loaded before this migration were all read as paragraphs.
ALTER TABLE paragraphs ADD COLUMN IF NOT EXISTS kind VARCHAR DEFAULT 'paragraph';
UPDATE paragraphs SET kind = 'paragraph' WHERE kind IS NULL;
