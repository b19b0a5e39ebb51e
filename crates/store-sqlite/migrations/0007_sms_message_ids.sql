-- vitalcore SQLite schema, version 7: an SMS gateway's message id (Twilio
-- `MessageSid`, RapidPro's message id or uuid), kept as the report's
-- `source_id`, is stored at most once per gateway. A delivery the gateway
-- repeats, or a signed request replayed, then becomes no second report:
-- the intake finds the first one by this index and answers with its
-- reference.
--
-- Self-contained: it only reads and writes `reports` (schema version 2).
--
-- Before this version the same message could be stored twice. Those copies
-- stay (they may have been acted on), and the first stored (lowest id)
-- keeps the message id; each later copy's source id gets
-- ` (repeat of <first's reference>, stored as <its own reference>)`
-- appended, so the index can be built and the copies can be found with
-- `SELECT reference, source_id FROM reports WHERE source_id LIKE '% (repeat of %'`.
-- The first copy is never rewritten, so the subqueries find it whatever
-- order the rows are updated in.

UPDATE reports
SET source_id = source_id || ' (repeat of ' || (
        SELECT f.reference FROM reports f
        WHERE f.channel = 'sms' AND f.channel_name = reports.channel_name AND f.source_id = reports.source_id
        ORDER BY f.id LIMIT 1
    ) || ', stored as ' || reference || ')'
WHERE channel = 'sms' AND source_id IS NOT NULL
  AND id > (
        SELECT min(f.id) FROM reports f
        WHERE f.channel = 'sms' AND f.channel_name = reports.channel_name AND f.source_id = reports.source_id
    );

CREATE UNIQUE INDEX IF NOT EXISTS reports_sms_message_id
    ON reports (channel_name, source_id) WHERE channel = 'sms' AND source_id IS NOT NULL;
