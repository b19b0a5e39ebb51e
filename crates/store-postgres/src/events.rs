//! Events: COPY-based versioned import and the reads.

use std::collections::HashMap;

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{ToSql, Type};
use postgres::{Client, Row};
use vitalcore_framework::{Event, Month, Place, Provenance, Source, Tags};
use vitalcore_store::columns::{
    TAG_SEPARATOR, date_from_days_since_2000, days_since_2000, grid_of, month_code, split_tags, to_u8, to_u32,
};
use vitalcore_store::fingerprint::{BatchKey, Fingerprinter, SeenIds, scan_events};
use vitalcore_store::sync::ImportOf;
use vitalcore_store::{EventFilter, EventSource, EventVersion, ImportCounts, ImportFile, StoreError};

use crate::copy_rows::CopyRows;
use crate::{LOCK_IMPORTS, backend, finish_import, rfc3339, start_import, to_i32};

/// Columns of the staging table, in COPY order. Dates travel as days since
/// 2000-01-01 (int4) and become DATE in the merge.
const STAGE: &[(&str, Type)] = &[
    ("source", Type::TEXT),
    ("source_id", Type::TEXT),
    ("fingerprint", Type::INT8),
    ("date", Type::INT4),
    ("date_end", Type::INT4),
    ("month", Type::INT4),
    ("country", Type::TEXT),
    ("iso3", Type::TEXT),
    ("admin1", Type::TEXT),
    ("admin2", Type::TEXT),
    ("location", Type::TEXT),
    ("lat", Type::FLOAT8),
    ("lon", Type::FLOAT8),
    ("precision", Type::INT4),
    ("admin1_pcode", Type::TEXT),
    ("admin2_pcode", Type::TEXT),
    ("grid_gid", Type::INT4),
    ("event_type", Type::TEXT),
    ("sub_event_type", Type::TEXT),
    ("actor1", Type::TEXT),
    ("actor2", Type::TEXT),
    ("fatalities", Type::INT4),
    ("civilian_fatalities", Type::INT4),
    ("civilian_targeting", Type::BOOL),
    ("notes", Type::TEXT),
    ("dimensions", Type::TEXT),
    ("themes", Type::TEXT),
    ("severity", Type::INT4),
    ("rule", Type::TEXT),
    ("file", Type::TEXT),
    ("line", Type::INT8),
];

/// Content columns shared by `events` and `event_versions` (the staging
/// columns plus the import and the time it was stored).
fn content_columns() -> Vec<&'static str> {
    STAGE.iter().map(|(c, _)| *c).chain(["import_id", "stored_at"]).collect()
}

/// The value of each content column computed from staging row `s`.
fn staged_values() -> Vec<String> {
    content_columns()
        .into_iter()
        .map(|c| match c {
            "date" | "date_end" => format!("DATE '2000-01-01' + s.{c}"),
            "import_id" => "$1".to_string(),
            "stored_at" => "now()".to_string(),
            other => format!("s.{other}"),
        })
        .collect()
}

fn create_stage_sql() -> String {
    let cols: Vec<String> = STAGE.iter().map(|(c, t)| format!("{c} {}", t.name())).collect();
    format!("CREATE TEMP TABLE stage_events ({}) ON COMMIT DROP", cols.join(", "))
}

/// Starts the binary COPY of staging rows ([`write_event_row`] without `direct`).
fn copy_into_stage<'a>(tx: &'a mut postgres::Transaction<'_>) -> Result<CopyRows<'a>, StoreError> {
    let names: Vec<&str> = STAGE.iter().map(|(c, _)| *c).collect();
    let sql = format!("COPY stage_events ({}) FROM STDIN (FORMAT binary)", names.join(", "));
    Ok(CopyRows::new(tx.copy_in(&sql).map_err(backend)?))
}

/// Starts the binary COPY of whole `events` rows ([`write_event_row`] with `direct`).
fn copy_into_events<'a>(tx: &'a mut postgres::Transaction<'_>) -> Result<CopyRows<'a>, StoreError> {
    let mut names = vec!["version"];
    names.extend(content_columns());
    let sql = format!("COPY events ({}) FROM STDIN (FORMAT binary)", names.join(", "));
    Ok(CopyRows::new(tx.copy_in(&sql).map_err(backend)?))
}

/// Imports one batch in one transaction (see `Store::import_events`).
pub fn import(client: &mut Client, file: &ImportFile, events: &[Event]) -> Result<ImportCounts, StoreError> {
    let batch = scan_events(&file.path, events)?;
    let mut tx = client.transaction().map_err(backend)?;
    tx.batch_execute(LOCK_IMPORTS).map_err(backend)?;
    let import_id = start_import(&mut tx, file, "events")?;
    let stored = stored_fingerprints(&mut tx, events.len())?;
    tx.batch_execute(&create_stage_sql()).map_err(backend)?;
    let mut writer = copy_into_stage(&mut tx)?;
    let (mut staged, mut known_unchanged) = (0u64, 0u64);
    for (i, event) in events.iter().enumerate() {
        if !batch.first[i] {
            continue;
        }
        let stored = stored.as_ref().and_then(|by_source| {
            by_source.get(event.provenance.source.as_str())?.get(event.provenance.source_id.as_str())
        });
        if stored == Some(&batch.fingerprints[i]) {
            known_unchanged += 1;
            continue;
        }
        write_event_row(&mut writer, event, batch.fingerprints[i], None)?;
        staged += 1;
    }
    writer.finish()?;
    tx.batch_execute("ANALYZE stage_events").map_err(backend)?;

    let (imported, updated) = merge_stage(&mut tx, import_id)?;
    let counts =
        ImportCounts { imported, updated, unchanged: batch.duplicates + known_unchanged + staged - imported - updated };
    finish_import(&mut tx, import_id, &counts)?;
    log_events(&mut tx, import_id)?;
    tx.commit().map_err(backend)?;
    Ok(counts)
}

/// Moves the staged rows into `events`: revisions archive the stored row
/// and replace it, new ids are inserted. Returns (imported, updated).
fn merge_stage(tx: &mut postgres::Transaction<'_>, import_id: i64) -> Result<(u64, u64), StoreError> {
    let columns = content_columns();
    let cols = columns.join(", ");
    let e_cols: Vec<String> = columns.iter().map(|c| format!("e.{c}")).collect();
    let same_key = "e.source = s.source AND e.source_id = s.source_id";
    tx.execute(
        &format!(
            "INSERT INTO event_versions (event_id, version, {cols})
             SELECT e.id, e.version, {} FROM events e JOIN stage_events s ON {same_key}
              WHERE e.fingerprint <> s.fingerprint",
            e_cols.join(", ")
        ),
        &[],
    )
    .map_err(backend)?;
    let values = staged_values();
    let sets: Vec<String> = columns.iter().zip(&values).map(|(c, v)| format!("{c} = {v}")).collect();
    let updated = tx
        .execute(
            &format!(
                "UPDATE events e SET version = e.version + 1, {} FROM stage_events s
                  WHERE {same_key} AND e.fingerprint <> s.fingerprint",
                sets.join(", ")
            ),
            &[&import_id],
        )
        .map_err(backend)?;
    let imported = tx
        .execute(
            &format!(
                "INSERT INTO events (version, {cols}) SELECT 1, {} FROM stage_events s
                  WHERE NOT EXISTS (SELECT 1 FROM events e WHERE {same_key})",
                values.join(", ")
            ),
            &[&import_id],
        )
        .map_err(backend)?;
    Ok((imported, updated))
}

/// Appends the events import `import_id` added or revised to the
/// synchronisation change log, in the import's transaction (one scan, not
/// a trigger per row of a bulk load). The origin and `logged_at` (the
/// column's default, migration 0015) are computed once for the statement,
/// as uncorrelated subqueries, not once per row: a second of server CPU
/// on 2M events.
fn log_events(tx: &mut postgres::Transaction<'_>, import_id: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO sync_log (kind, row_id, area, origin, logged_at)
         SELECT 'event', id, coalesce(admin2_pcode, admin1_pcode), (SELECT vitalcore_sync_origin()),
                (SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))
         FROM events WHERE import_id = $1 ORDER BY id",
        &[&import_id],
    )
    .map_err(backend)?;
    Ok(())
}

/// Events from another node's import, inside a synchronisation batch's
/// transaction (see `SyncTx::put_events`): staged and merged as an import
/// is, under one import row here (made only when an event is new or
/// revised) that names the origin's import.
pub(crate) fn put_synced(
    tx: &mut postgres::Transaction<'_>,
    import: &ImportOf,
    events: &[Event],
) -> Result<ImportCounts, StoreError> {
    let batch = scan_events(&import.file.path, events)?;
    tx.batch_execute(LOCK_IMPORTS).map_err(backend)?;
    tx.batch_execute(&create_stage_sql()).map_err(backend)?;
    let mut writer = copy_into_stage(tx)?;
    let mut staged = 0u64;
    for (i, event) in events.iter().enumerate() {
        if batch.first[i] {
            write_event_row(&mut writer, event, batch.fingerprints[i], None)?;
            staged += 1;
        }
    }
    writer.finish()?;
    let changed: i64 = tx
        .query_one(
            "SELECT count(*) FROM stage_events s LEFT JOIN events e ON e.source = s.source AND e.source_id = s.source_id
             WHERE e.id IS NULL OR e.fingerprint <> s.fingerprint",
            &[],
        )
        .map_err(backend)?
        .get(0);
    let counts = if changed == 0 {
        ImportCounts { imported: 0, updated: 0, unchanged: batch.duplicates + staged }
    } else {
        let f = &import.file;
        let import_id: i64 = tx
            .query_one(
                "INSERT INTO imports (path, sha256, format, kind, rows_read, rows_rejected, imported_at, origin,
                                      origin_import)
                 VALUES ($1, $2, $3, 'events', $4, $5, $6::text::timestamptz, $7, $8) RETURNING id",
                &[
                    &f.path,
                    &f.sha256,
                    &f.format,
                    &(f.rows_read as i64),
                    &(f.rows_rejected as i64),
                    &import.imported_at,
                    &import.origin,
                    &import.id,
                ],
            )
            .map_err(backend)?
            .get(0);
        let (imported, updated) = merge_stage(tx, import_id)?;
        let counts = ImportCounts { imported, updated, unchanged: batch.duplicates + staged - imported - updated };
        finish_import(tx, import_id, &counts)?;
        counts
    };
    tx.batch_execute("DROP TABLE stage_events").map_err(backend)?;
    Ok(counts)
}

/// The current version of the events `ids` (those still stored) with the
/// id of the import that stored it, by event id.
pub(crate) fn by_ids(
    tx: &mut postgres::Transaction<'_>,
    ids: &[i64],
) -> Result<HashMap<i64, (i64, Event)>, StoreError> {
    let sql = format!("SELECT e.id, e.import_id, {} FROM events e WHERE e.id = ANY($1)", select_list("e"));
    let mut out = HashMap::with_capacity(ids.len());
    for row in tx.query(&sql, &[&ids]).map_err(backend)? {
        out.insert(row.get(0), (row.get(1), event_from_row(&row, 2)?));
    }
    Ok(out)
}

/// The file records of imports `ids`, by id, as they travel (`origin`: this node).
pub(crate) fn imports_by_ids(
    tx: &mut postgres::Transaction<'_>,
    ids: &[i64],
    origin: &str,
) -> Result<HashMap<i64, ImportOf>, StoreError> {
    let sql = format!(
        "SELECT id, path, sha256, format, rows_read, rows_rejected, {}, coalesce(origin, $2),
                coalesce(origin_import, id)
         FROM imports WHERE id = ANY($1)",
        rfc3339("imported_at")
    );
    let mut out = HashMap::with_capacity(ids.len());
    for r in tx.query(&sql, &[&ids, &origin]).map_err(backend)? {
        let rows_read: i64 = r.get(4);
        let rows_rejected: i64 = r.get(5);
        let import = ImportOf {
            file: ImportFile {
                path: r.get(1),
                sha256: r.get(2),
                format: r.get(3),
                rows_read: rows_read as u64,
                rows_rejected: rows_rejected as u64,
            },
            imported_at: r.get(6),
            origin: r.get(7),
            id: r.get(8),
        };
        out.insert(r.get(0), import);
    }
    Ok(out)
}

/// Stored tables up to this many rows are read into memory once for a
/// streamed import, so that unchanged rows never travel to the server.
const LOAD_STORED_UP_TO: i64 = 2_000_000;

/// A streamed import in one transaction (see `Store::import_events_streamed`).
/// Into an empty table every first occurrence of an id is new: events go
/// straight into `events` by binary COPY as they are read, its secondary
/// indexes and constraints set aside until the end ([`BulkLoad`]).
/// Otherwise they are staged by binary COPY (unchanged ones skipped when
/// the stored fingerprints fit in memory) and merged as in [`import`].
/// Memory: the ids seen ([`SeenIds`], a 16-byte entry each), not the events.
pub fn import_streamed(
    client: &mut Client,
    expected_rows: u64,
    source: EventSource<'_>,
) -> Result<ImportCounts, StoreError> {
    // The estimate is not needed: an empty table is always bulk-loaded.
    let _ = expected_rows;
    let mut tx = client.transaction().map_err(backend)?;
    tx.batch_execute(LOCK_IMPORTS).map_err(backend)?;
    let placeholder = ImportFile {
        path: String::new(),
        sha256: String::new(),
        format: String::new(),
        rows_read: 0,
        rows_rejected: 0,
    };
    let import_id = start_import(&mut tx, &placeholder, "events")?;
    let stored_rows: i64 = tx.query_one("SELECT count(*) FROM events", &[]).map_err(backend)?.get(0);
    let mut seen = SeenIds::default();
    let mut fingerprinter = Fingerprinter::default();
    let (file, counts) = if stored_rows == 0 {
        let bulk = BulkLoad::set_aside(&mut tx)?;
        let mut writer = copy_into_events(&mut tx)?;
        let stored_at = pg_timestamp_now();
        let mut imported = 0u64;
        let file = source(&mut |e: Event| {
            let fingerprint = fingerprinter.event(&e);
            let p = &e.provenance;
            let key = BatchKey { source: p.source, source_id: &p.source_id, fingerprint, line: p.line };
            if seen.first(&p.file, "source event", key)? {
                write_event_row(&mut writer, &e, fingerprint, Some((import_id, stored_at)))?;
                imported += 1;
            }
            Ok(())
        })?;
        writer.finish()?;
        bulk.restore(&mut tx)?;
        (file, ImportCounts { imported, updated: 0, unchanged: seen.duplicates })
    } else {
        let stored =
            if stored_rows <= LOAD_STORED_UP_TO { stored_fingerprints(&mut tx, usize::MAX / 32)? } else { None };
        tx.batch_execute(&create_stage_sql()).map_err(backend)?;
        let mut writer = copy_into_stage(&mut tx)?;
        let (mut staged, mut known_unchanged) = (0u64, 0u64);
        let file = source(&mut |e: Event| {
            let fingerprint = fingerprinter.event(&e);
            let p = &e.provenance;
            let key = BatchKey { source: p.source, source_id: &p.source_id, fingerprint, line: p.line };
            if !seen.first(&p.file, "source event", key)? {
                return Ok(());
            }
            let known = stored.as_ref().and_then(|by| by.get(p.source.as_str())?.get(p.source_id.as_str()));
            if known == Some(&fingerprint) {
                known_unchanged += 1;
                return Ok(());
            }
            write_event_row(&mut writer, &e, fingerprint, None)?;
            staged += 1;
            Ok(())
        })?;
        writer.finish()?;
        drop(stored);
        tx.batch_execute("ANALYZE stage_events").map_err(backend)?;
        let (imported, updated) = merge_stage(&mut tx, import_id)?;
        let unchanged = seen.duplicates + known_unchanged + staged - imported - updated;
        (file, ImportCounts { imported, updated, unchanged })
    };
    tx.execute(
        "UPDATE imports SET path = $1, sha256 = $2, format = $3, rows_read = $4, rows_rejected = $5 WHERE id = $6",
        &[&file.path, &file.sha256, &file.format, &(file.rows_read as i64), &(file.rows_rejected as i64), &import_id],
    )
    .map_err(backend)?;
    finish_import(&mut tx, import_id, &counts)?;
    log_events(&mut tx, import_id)?;
    tx.commit().map_err(backend)?;
    Ok(counts)
}

/// Bulk-load mode for an import into an empty `events` table: its unique
/// constraint, foreign key and secondary indexes (all but the primary key)
/// are dropped before the COPY and recreated after it, in the same
/// transaction, so a failed or killed import restores them with the rest.
/// One sort per index and one join for the foreign key cost a fraction of
/// keeping three B-trees and firing the foreign-key trigger row by row.
/// The drop locks `events` until the commit: readers of the still empty
/// table wait for the import.
struct BulkLoad {
    /// (name, definition) of each unique or foreign-key constraint.
    constraints: Vec<(String, String)>,
    /// `CREATE INDEX` statements of the other indexes.
    indexes: Vec<String>,
}

impl BulkLoad {
    /// Memory for each index build (the server's default is 64 MB), and no
    /// JIT compilation for the whole-table statements that follow the COPY
    /// (constraint check, change log; measured once: the change log's insert
    /// of 2M rows took 0.6 s less server CPU without it): scoped to the
    /// import's transaction.
    const REBUILD_SETTINGS: &str = "SET LOCAL maintenance_work_mem = '256MB'; SET LOCAL jit = off";

    fn set_aside(tx: &mut postgres::Transaction<'_>) -> Result<BulkLoad, StoreError> {
        let constraints: Vec<(String, String)> = tx
            .query(
                "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint
                  WHERE conrelid = 'events'::regclass AND contype IN ('u', 'f') ORDER BY contype DESC, conname",
                &[],
            )
            .map_err(backend)?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let indexes: Vec<(String, String)> = tx
            .query(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
                  WHERE indrelid = 'events'::regclass AND NOT indisprimary
                    AND indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE conrelid = 'events'::regclass)
                  ORDER BY 1",
                &[],
            )
            .map_err(backend)?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        for (name, _) in &constraints {
            tx.batch_execute(&format!("ALTER TABLE events DROP CONSTRAINT \"{name}\"")).map_err(backend)?;
        }
        for (name, _) in &indexes {
            tx.batch_execute(&format!("DROP INDEX {name}")).map_err(backend)?;
        }
        Ok(BulkLoad { constraints, indexes: indexes.into_iter().map(|(_, sql)| sql).collect() })
    }

    fn restore(self, tx: &mut postgres::Transaction<'_>) -> Result<(), StoreError> {
        tx.batch_execute(Self::REBUILD_SETTINGS).map_err(backend)?;
        for (name, definition) in &self.constraints {
            tx.batch_execute(&format!("ALTER TABLE events ADD CONSTRAINT \"{name}\" {definition}")).map_err(backend)?;
        }
        for sql in &self.indexes {
            tx.batch_execute(sql).map_err(backend)?;
        }
        Ok(())
    }
}

/// Now as a TIMESTAMPTZ in PostgreSQL's binary format: microseconds since 2000-01-01 UTC.
fn pg_timestamp_now() -> i64 {
    const UNIX_TO_2000_SECONDS: i64 = 946_684_800;
    jiff::Timestamp::now().as_microsecond() - UNIX_TO_2000_SECONDS * 1_000_000
}

/// Fingerprints by source, then source id.
type Fingerprints = HashMap<String, HashMap<String, i64>>;

/// Stored fingerprints by source and id, when the batch is large next to
/// the table: unchanged rows then never travel to the server. For a small
/// batch into a large table, `None`: every row is staged and compared there.
fn stored_fingerprints(
    tx: &mut postgres::Transaction<'_>,
    batch_len: usize,
) -> Result<Option<Fingerprints>, StoreError> {
    let stored: i64 = tx.query_one("SELECT count(*) FROM events", &[]).map_err(backend)?.get(0);
    if stored == 0 || (batch_len as i64) * 16 < stored {
        return Ok(None);
    }
    let mut by_source: Fingerprints = HashMap::new();
    let mut rows = tx
        .query_raw("SELECT source, source_id, fingerprint FROM events", std::iter::empty::<&dyn ToSql>())
        .map_err(backend)?;
    while let Some(row) = rows.next().map_err(backend)? {
        by_source
            .entry(row.get::<_, &str>(0).to_string())
            .or_insert_with(|| HashMap::with_capacity(stored as usize))
            .insert(row.get(1), row.get(2));
    }
    Ok(Some(by_source))
}

/// One event as a COPY row: the staging columns ([`STAGE`]), or with
/// `direct` (import id, time stored as from [`pg_timestamp_now`]) the row
/// of `events` itself (`version` first, then the content columns). Dates
/// are days since 2000-01-01 either way: int4 and DATE share that encoding.
fn write_event_row(
    rows: &mut CopyRows<'_>,
    e: &Event,
    fingerprint: i64,
    direct: Option<(i64, i64)>,
) -> Result<(), StoreError> {
    let p = &e.place;
    let fatalities = to_i32(e.fatalities, "fatalities")?;
    let civilian_fatalities = e.civilian_fatalities.map(|v| to_i32(v, "civilian fatalities")).transpose()?;
    match direct {
        None => rows.row(STAGE.len() as i16)?,
        Some(_) => {
            rows.row(STAGE.len() as i16 + 3)?;
            rows.int4(1);
        }
    }
    rows.text(e.provenance.source.as_str())?;
    rows.text(&e.provenance.source_id)?;
    rows.int8(fingerprint);
    rows.int4(days_since_2000(e.date));
    rows.opt_int4(e.date_end.map(days_since_2000));
    rows.int4(month_code(Month::of(e.date)) as i32);
    rows.opt_text(p.country.as_deref())?;
    rows.opt_text(p.iso3.as_deref())?;
    rows.opt_text(p.admin1.as_deref())?;
    rows.opt_text(p.admin2.as_deref())?;
    rows.opt_text(p.location.as_deref())?;
    rows.opt_float8(p.latitude);
    rows.opt_float8(p.longitude);
    rows.opt_int4(p.precision.map(i32::from));
    rows.opt_text(p.admin1_pcode.as_deref())?;
    rows.opt_text(p.admin2_pcode.as_deref())?;
    rows.opt_int4(grid_of(p).map(|g| g as i32));
    rows.text(&e.event_type)?;
    rows.opt_text(e.sub_event_type.as_deref())?;
    rows.opt_text(e.actor1.as_deref())?;
    rows.opt_text(e.actor2.as_deref())?;
    rows.int4(fatalities);
    rows.opt_int4(civilian_fatalities);
    rows.bool(e.civilian_targeting);
    rows.opt_text(e.notes.as_deref())?;
    rows.joined_text(&e.tags.dimensions, TAG_SEPARATOR)?;
    rows.joined_text(&e.tags.themes, TAG_SEPARATOR)?;
    rows.int4(i32::from(e.tags.severity));
    rows.text(&e.tags.rule)?;
    rows.text(&e.provenance.file)?;
    rows.int8(e.provenance.line as i64);
    if let Some((import_id, stored_at)) = direct {
        rows.int8(import_id);
        rows.int8(stored_at);
    }
    Ok(())
}

/// The select list that [`event_from_row`] reads, for table alias `t`.
fn select_list(t: &str) -> String {
    STAGE
        .iter()
        .map(|(c, _)| match *c {
            "date" | "date_end" => format!("{t}.{c} - DATE '2000-01-01'"),
            other => format!("{t}.{other}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rebuilds an event from the [`select_list`] columns starting at `at`.
fn event_from_row(r: &Row, at: usize) -> Result<Event, StoreError> {
    let source: &str = r.get(at);
    let source = source.parse::<Source>().map_err(StoreError::Corrupt)?;
    let date_end: Option<i32> = r.get(at + 4);
    let fatalities: i32 = r.get(at + 21);
    let civilian_fatalities: Option<i32> = r.get(at + 22);
    let severity: i32 = r.get(at + 27);
    let line: i64 = r.get(at + 30);
    Ok(Event {
        provenance: Provenance { source, source_id: r.get(at + 1), file: r.get(at + 29), line: line as u64 },
        date: date_from_days_since_2000(r.get(at + 3))?,
        date_end: date_end.map(date_from_days_since_2000).transpose()?,
        place: place_from_row(r, at + 6)?,
        event_type: r.get(at + 17),
        sub_event_type: r.get(at + 18),
        actor1: r.get(at + 19),
        actor2: r.get(at + 20),
        fatalities: to_u32(fatalities.into(), "fatalities")?,
        civilian_fatalities: civilian_fatalities.map(|v| to_u32(v.into(), "civilian fatalities")).transpose()?,
        civilian_targeting: r.get(at + 23),
        notes: r.get(at + 24),
        tags: Tags {
            dimensions: split_tags(r.get(at + 25)),
            themes: split_tags(r.get(at + 26)),
            severity: to_u8(severity.into(), "severity")?,
            rule: r.get(at + 28),
        },
    })
}

/// Place columns country .. admin2_pcode starting at `at`.
pub(crate) fn place_from_row(r: &Row, at: usize) -> Result<Place, StoreError> {
    let precision: Option<i32> = r.get(at + 7);
    Ok(Place {
        country: r.get(at),
        iso3: r.get(at + 1),
        admin1: r.get(at + 2),
        admin2: r.get(at + 3),
        location: r.get(at + 4),
        latitude: r.get(at + 5),
        longitude: r.get(at + 6),
        precision: precision.map(|v| to_u8(v.into(), "precision")).transpose()?,
        admin1_pcode: r.get(at + 8),
        admin2_pcode: r.get(at + 9),
    })
}

pub fn for_each(client: &mut Client, filter: &EventFilter, visit: &mut dyn FnMut(Event)) -> Result<u64, StoreError> {
    let mut clauses = Vec::new();
    let mut args: Vec<Box<dyn ToSql + Sync>> = Vec::new();
    if let Some(from) = filter.from {
        args.push(Box::new(days_since_2000(from.first_day())));
        clauses.push(format!("e.date >= DATE '2000-01-01' + ${}::int4", args.len()));
    }
    if let Some(to) = filter.to {
        args.push(Box::new(days_since_2000(to.succ().first_day())));
        clauses.push(format!("e.date < DATE '2000-01-01' + ${}::int4", args.len()));
    }
    if let Some(source) = filter.source {
        args.push(Box::new(source.as_str()));
        clauses.push(format!("e.source = ${}", args.len()));
    }
    // lower() folds non-ASCII letters only under some collations: those
    // names are compared in Rust.
    let country_in_rust = filter.country.as_ref().filter(|c| !c.is_ascii()).map(|c| c.to_lowercase());
    if let Some(country) = filter.country.as_ref().filter(|c| c.is_ascii()) {
        args.push(Box::new(country.to_ascii_lowercase()));
        clauses.push(format!("lower(e.country) = ${}", args.len()));
    }
    let where_clause = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
    let sql = format!("SELECT {} FROM events e {where_clause} ORDER BY e.date, e.id", select_list("e"));
    let mut rows = client.query_raw(&sql, args.iter().map(|a| a.as_ref() as &dyn ToSql)).map_err(backend)?;
    let mut visited = 0;
    while let Some(row) = rows.next().map_err(backend)? {
        let event = event_from_row(&row, 0)?;
        if let Some(wanted) = &country_in_rust
            && event.place.country.as_deref().map(str::to_lowercase).as_ref() != Some(wanted)
        {
            continue;
        }
        visit(event);
        visited += 1;
    }
    Ok(visited)
}

/// Prior versions oldest first, then the current one.
pub fn history(client: &mut Client, source: Source, source_id: &str) -> Result<Vec<EventVersion>, StoreError> {
    let sql = format!(
        "SELECT v.version, {}, {} FROM event_versions v JOIN events e ON e.id = v.event_id
          WHERE e.source = $1 AND e.source_id = $2
         UNION ALL
         SELECT e.version, {}, {} FROM events e WHERE e.source = $1 AND e.source_id = $2
         ORDER BY 1",
        rfc3339("v.stored_at"),
        select_list("v"),
        rfc3339("e.stored_at"),
        select_list("e"),
    );
    let rows = client.query(&sql, &[&source.as_str(), &source_id]).map_err(backend)?;
    rows.iter()
        .map(|r| {
            let version: i32 = r.get(0);
            Ok(EventVersion {
                version: to_u32(version.into(), "version")?,
                stored_at: r.get(1),
                event: event_from_row(r, 2)?,
            })
        })
        .collect()
}
