-- vitalcore SQLite schema, version 5: drops two event indexes no query uses.
--
-- Events are read by date (`events_date`), by (source_id, source)
-- (`events_source_id`: history and the import's duplicate check) and by
-- country (a scan). Nothing reads by (admin1_pcode, month) or
-- (grid_gid, month), yet a bulk import rebuilt both: without them importing
-- 1M new events is ~25% faster (bench/store/RESULTS.md). A query that
-- filters by area or cell should add the index it needs, in its own
-- migration, with a measurement.

DROP INDEX IF EXISTS events_admin1_month;
DROP INDEX IF EXISTS events_grid_month;
