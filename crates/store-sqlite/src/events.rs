//! Events: the versioned import and the reads.

use foldhash::HashMap;
use rusqlite::{Connection, Row, Statement, TransactionBehavior, params};
use vitalcore_framework::{Event, Month, Place, Provenance, Source, Tags};
use vitalcore_store::columns::{
    date_code, date_from_code, grid_of, join_tags, month_code, now_rfc3339, split_tags, to_u8, to_u32,
};
use vitalcore_store::fingerprint::{BatchKey, Fingerprinter, ScannedBatch, SeenIds, scan_events};
use vitalcore_store::sync::ImportOf;
use vitalcore_store::{EventFilter, EventSource, EventVersion, ImportCounts, ImportFile, StoreError};

use crate::{BulkIndexes, Existing, backend, finish_import, start_import};

/// Content columns shared by `events` and `event_versions`, in the order of
/// the `?1..?32` parameters of the write statements. country, iso3,
/// admin1, admin2, location, event_type, sub_event_type, actor1, actor2,
/// dimensions, themes, rule and file hold ids of `strings` rows ([`StringIds`]); the time a version was
/// stored is its import's `imported_at`.
const COLUMNS: &str = "source, source_id, fingerprint, date, date_end, month, country, iso3, admin1, admin2, \
     location, lat, lon, precision, admin1_pcode, admin2_pcode, grid_gid, event_type, sub_event_type, \
     actor1, actor2, fatalities, civilian_fatalities, civilian_targeting, notes, dimensions, themes, \
     severity, rule, file, line, import_id";
const N_COLUMNS: usize = 32;

fn insert_sql() -> String {
    let placeholders: Vec<String> = (1..=N_COLUMNS).map(|i| format!("?{i}")).collect();
    format!("INSERT INTO events (version, {COLUMNS}) VALUES (1, {})", placeholders.join(", "))
}

fn update_sql() -> String {
    let sets: Vec<String> = COLUMNS.split(", ").enumerate().map(|(i, c)| format!("{c} = ?{}", i + 1)).collect();
    format!("UPDATE events SET version = version + 1, {} WHERE id = ?{}", sets.join(", "), N_COLUMNS + 1)
}

fn archive_sql() -> String {
    format!(
        "INSERT INTO event_versions (event_id, version, {COLUMNS}) SELECT id, version, {COLUMNS} FROM events WHERE id = ?1"
    )
}

/// Dictionary encoding of the strings that repeat from event to event
/// (country, event type, actors, tag lists, rule, file): each is stored
/// once in `strings` and events hold its id. On ACLED-shaped rows this
/// takes a row from ~540 to ~330 bytes, and every phase of a bulk import
/// (row writes, index builds, WAL and checkpoint) scales with the bytes.
/// Ids are only ever added, so prior versions keep pointing at their text.
struct StringIds {
    /// foldhash: 13 look-ups per event, where SipHash cost ~4,500
    /// instructions per event (callgrind, 100k events).
    ids: HashMap<String, i64>,
    /// Tag lists by their items, so that a known list costs no `join`.
    lists: HashMap<Vec<String>, i64>,
    next: i64,
}

impl StringIds {
    fn load(conn: &Connection) -> Result<StringIds, StoreError> {
        let mut stmt = conn.prepare_cached("SELECT id, text FROM strings").map_err(backend)?;
        let mut rows = stmt.query([]).map_err(backend)?;
        let (mut ids, mut next) = (HashMap::default(), 1);
        while let Some(r) = rows.next().map_err(backend)? {
            let id: i64 = r.get(0).map_err(backend)?;
            ids.insert(r.get(1).map_err(backend)?, id);
            next = next.max(id + 1);
        }
        Ok(StringIds { ids, lists: HashMap::default(), next })
    }

    /// The id of `text`, adding it to `strings` (through `add`) when new.
    fn id(&mut self, add: &mut Statement<'_>, text: &str) -> Result<i64, StoreError> {
        if let Some(&id) = self.ids.get(text) {
            return Ok(id);
        }
        let id = self.next;
        add.execute(params![id, text]).map_err(backend)?;
        self.ids.insert(text.to_owned(), id);
        self.next += 1;
        Ok(id)
    }

    fn opt_id(&mut self, add: &mut Statement<'_>, text: Option<&str>) -> Result<Option<i64>, StoreError> {
        text.map(|t| self.id(add, t)).transpose()
    }

    /// The id of a tag list as stored (`personal;political`).
    fn list_id(&mut self, add: &mut Statement<'_>, list: &[String]) -> Result<i64, StoreError> {
        if let Some(&id) = self.lists.get(list) {
            return Ok(id);
        }
        let id = self.id(add, &join_tags(list))?;
        self.lists.insert(list.to_vec(), id);
        Ok(id)
    }
}

/// The text of every `strings` id, for reads.
struct StringTexts(Vec<Option<String>>);

impl StringTexts {
    fn load(conn: &Connection) -> Result<StringTexts, StoreError> {
        let mut stmt = conn.prepare_cached("SELECT id, text FROM strings").map_err(backend)?;
        let mut rows = stmt.query([]).map_err(backend)?;
        let mut texts = Vec::new();
        while let Some(r) = rows.next().map_err(backend)? {
            let id: i64 = r.get(0).map_err(backend)?;
            let slot = usize::try_from(id).map_err(|_| StoreError::Corrupt(format!("string id {id} is negative")))?;
            if texts.len() <= slot {
                texts.resize(slot + 1, None);
            }
            texts[slot] = Some(r.get(1).map_err(backend)?);
        }
        Ok(StringTexts(texts))
    }

    fn text(&self, id: i64) -> Result<String, StoreError> {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.0.get(i))
            .and_then(Clone::clone)
            .ok_or_else(|| StoreError::Corrupt(format!("an event refers to string {id}, which is not stored")))
    }

    fn opt_text(&self, id: Option<i64>) -> Result<Option<String>, StoreError> {
        id.map(|id| self.text(id)).transpose()
    }
}

/// Imports one batch in one transaction (see `Store::import_events`).
pub fn import(conn: &mut Connection, file: &ImportFile, events: &[Event]) -> Result<ImportCounts, StoreError> {
    let batch = scan_events(&file.path, events)?;
    let stored_at = now_rfc3339();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
    let import_id = start_import(&tx, file, "events", &stored_at)?;
    let (counts, plan) = plan_writes(&tx, events, &batch)?;
    write_planned(&tx, events, &batch, plan, import_id)?;
    finish_import(&tx, import_id, &counts)?;
    log_events(&tx, import_id)?;
    tx.commit().map_err(backend)?;
    Ok(counts)
}

/// Which events of a scanned batch are new (`None`) or revise a stored row
/// (its id), with the counts; exact duplicates are left out.
type Plan = Vec<(usize, Option<i64>)>;

fn plan_writes(tx: &Connection, events: &[Event], batch: &ScannedBatch) -> Result<(ImportCounts, Plan), StoreError> {
    let existing = Existing::prepare(tx, "events", events.len())?;
    let mut counts = ImportCounts { unchanged: batch.duplicates, ..ImportCounts::default() };
    let mut plan = Vec::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        if !batch.first[i] {
            continue;
        }
        match existing.find(tx, "events", event.provenance.source, &event.provenance.source_id)? {
            None => {
                plan.push((i, None));
                counts.imported += 1;
            }
            Some((_, stored)) if stored == batch.fingerprints[i] => counts.unchanged += 1,
            Some((id, _)) => {
                plan.push((i, Some(id)));
                counts.updated += 1;
            }
        }
    }
    Ok((counts, plan))
}

/// Writes the planned events under `import_id`: revisions archive the
/// stored row and replace it, new events are inserted.
fn write_planned(
    tx: &Connection,
    events: &[Event],
    batch: &ScannedBatch,
    mut plan: Plan,
    import_id: i64,
) -> Result<(), StoreError> {
    // Revisions in stored-row order (locality in the table and in
    // event_versions' key), then new rows in file order.
    plan.sort_by_key(|&(_, stored_id)| stored_id.unwrap_or(i64::MAX));
    let stored_rows = tx.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0)).map_err(backend)?;
    let rebuild = BulkIndexes::drop_if_worth_it(tx, "events", plan.len() as i64, stored_rows)?;
    {
        let mut insert = tx.prepare_cached(&insert_sql()).map_err(backend)?;
        let mut update = tx.prepare_cached(&update_sql()).map_err(backend)?;
        let mut archive = tx.prepare_cached(&archive_sql()).map_err(backend)?;
        let mut add_string = tx.prepare_cached("INSERT INTO strings (id, text) VALUES (?1, ?2)").map_err(backend)?;
        let mut strings = StringIds::load(tx)?;
        for (i, stored_id) in plan {
            let (event, fingerprint) = (&events[i], batch.fingerprints[i]);
            let ids = EventStrings::of(&mut strings, &mut add_string, event)?;
            match stored_id {
                None => {
                    bind_event(&mut insert, event, &ids, fingerprint, import_id)?;
                    insert.raw_execute().map_err(backend)?;
                }
                Some(id) => {
                    archive.execute([id]).map_err(backend)?;
                    bind_event(&mut update, event, &ids, fingerprint, import_id)?;
                    update.raw_bind_parameter(N_COLUMNS + 1, id).map_err(backend)?;
                    update.raw_execute().map_err(backend)?;
                }
            }
        }
    }
    rebuild.recreate(tx)
}

/// Appends the events import `import_id` added or revised to the
/// synchronisation change log, in the import's transaction (one scan, not
/// a trigger per row of a bulk load).
fn log_events(tx: &Connection, import_id: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO sync_log (kind, row_id, area, origin)
         SELECT 'event', id, coalesce(admin2_pcode, admin1_pcode), (SELECT origin FROM sync_apply_origin LIMIT 1)
         FROM events WHERE import_id = ?1 ORDER BY id",
        [import_id],
    )
    .map_err(backend)?;
    Ok(())
}

/// Events from another node's import, inside a synchronisation batch's
/// transaction (see `SyncTx::put_events`): one import row here, made only
/// when an event is new or revised, names the origin's import.
pub(crate) fn put_synced(tx: &Connection, import: &ImportOf, events: &[Event]) -> Result<ImportCounts, StoreError> {
    let batch = scan_events(&import.file.path, events)?;
    let (counts, plan) = plan_writes(tx, events, &batch)?;
    if plan.is_empty() {
        return Ok(counts);
    }
    let import_id = start_import(tx, &import.file, "events", &import.imported_at)?;
    tx.execute(
        "UPDATE imports SET origin = ?1, origin_import = ?2 WHERE id = ?3",
        params![import.origin, import.id, import_id],
    )
    .map_err(backend)?;
    write_planned(tx, events, &batch, plan, import_id)?;
    finish_import(tx, import_id, &counts)?;
    Ok(counts)
}

/// The current version of the events `ids` (those still stored) with the
/// id of the import that stored it, by event id: one read per 500 ids.
pub(crate) fn by_ids(conn: &Connection, ids: &[i64]) -> Result<HashMap<i64, (i64, Event)>, StoreError> {
    let mut out = HashMap::default();
    if ids.is_empty() {
        return Ok(out);
    }
    let strings = StringTexts::load(conn)?;
    for chunk in ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let sql = format!("SELECT id, import_id, {COLUMNS} FROM events WHERE id IN ({marks})");
        let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(chunk)).map_err(backend)?;
        while let Some(row) = rows.next().map_err(backend)? {
            let id: i64 = row.get(0).map_err(backend)?;
            let import_id: i64 = row.get(1).map_err(backend)?;
            out.insert(id, (import_id, event_from_row(row, 2, &strings)?));
        }
    }
    Ok(out)
}

/// The file records of imports `ids`, by id, as they travel (`origin`: this node).
pub(crate) fn imports_by_ids(
    conn: &Connection,
    ids: &[i64],
    origin: &str,
) -> Result<HashMap<i64, ImportOf>, StoreError> {
    let mut out = HashMap::default();
    let mut stmt = conn
        .prepare_cached(
            "SELECT path, sha256, format, rows_read, rows_rejected, imported_at, coalesce(origin, ?2),
                    coalesce(origin_import, id)
             FROM imports WHERE id = ?1",
        )
        .map_err(backend)?;
    for &id in ids {
        let import = stmt
            .query_row(params![id, origin], |r| {
                Ok(ImportOf {
                    file: ImportFile {
                        path: r.get(0)?,
                        sha256: r.get(1)?,
                        format: r.get(2)?,
                        rows_read: r.get::<_, i64>(3)? as u64,
                        rows_rejected: r.get::<_, i64>(4)? as u64,
                    },
                    imported_at: r.get(5)?,
                    origin: r.get(6)?,
                    id: r.get(7)?,
                })
            })
            .map_err(backend)?;
        out.insert(id, import);
    }
    Ok(out)
}

/// Stored tables up to this many rows are read into memory once for a
/// streamed import (about 100 bytes a row); larger ones are probed per event.
const LOAD_STORED_UP_TO: i64 = 2_000_000;

/// A streamed import in one transaction (see `Store::import_events_streamed`):
/// each event is fingerprinted, checked against the ids already seen in the
/// file ([`SeenIds`]) and against the stored one, and written at once; only
/// the seen ids stay in memory. Into an empty table the indexes are dropped
/// and rebuilt at the end when the file is expected to be large (bulk load).
pub fn import_streamed(
    conn: &mut Connection,
    expected_rows: u64,
    source: EventSource<'_>,
) -> Result<ImportCounts, StoreError> {
    let stored_at = now_rfc3339();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
    let placeholder = ImportFile {
        path: String::new(),
        sha256: String::new(),
        format: String::new(),
        rows_read: 0,
        rows_rejected: 0,
    };
    let import_id = start_import(&tx, &placeholder, "events", &stored_at)?;
    let stored_rows = tx.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0)).map_err(backend)?;
    let (existing, rebuild) = if stored_rows == 0 {
        let expected = i64::try_from(expected_rows).unwrap_or(i64::MAX);
        (Existing::Nothing, BulkIndexes::drop_if_worth_it(&tx, "events", expected, 0)?)
    } else if stored_rows <= LOAD_STORED_UP_TO {
        (Existing::prepare(&tx, "events", usize::MAX / 32)?, BulkIndexes::none())
    } else {
        (Existing::Probe, BulkIndexes::none())
    };
    let mut counts = ImportCounts::default();
    let mut seen = SeenIds::default();
    let file = {
        let mut insert = tx.prepare_cached(&insert_sql()).map_err(backend)?;
        let mut update = tx.prepare_cached(&update_sql()).map_err(backend)?;
        let mut archive = tx.prepare_cached(&archive_sql()).map_err(backend)?;
        let mut add_string = tx.prepare_cached("INSERT INTO strings (id, text) VALUES (?1, ?2)").map_err(backend)?;
        let mut strings = StringIds::load(&tx)?;
        let mut fingerprinter = Fingerprinter::default();
        source(&mut |event: Event| {
            let fingerprint = fingerprinter.event(&event);
            let p = &event.provenance;
            let key = BatchKey { source: p.source, source_id: &p.source_id, fingerprint, line: p.line };
            if !seen.first(&p.file, "source event", key)? {
                return Ok(());
            }
            let stored = existing.find(&tx, "events", p.source, &p.source_id)?;
            let ids = match stored {
                Some((_, f)) if f == fingerprint => {
                    counts.unchanged += 1;
                    return Ok(());
                }
                _ => EventStrings::of(&mut strings, &mut add_string, &event)?,
            };
            match stored {
                None => {
                    bind_event(&mut insert, &event, &ids, fingerprint, import_id)?;
                    insert.raw_execute().map_err(backend)?;
                    counts.imported += 1;
                }
                Some((id, _)) => {
                    archive.execute([id]).map_err(backend)?;
                    bind_event(&mut update, &event, &ids, fingerprint, import_id)?;
                    update.raw_bind_parameter(N_COLUMNS + 1, id).map_err(backend)?;
                    update.raw_execute().map_err(backend)?;
                    counts.updated += 1;
                }
            }
            Ok(())
        })?
    };
    drop(existing);
    counts.unchanged += seen.duplicates;
    rebuild.recreate(&tx)?;
    record_file(&tx, import_id, &file)?;
    finish_import(&tx, import_id, &counts)?;
    log_events(&tx, import_id)?;
    tx.commit().map_err(backend)?;
    Ok(counts)
}

/// Whether no event is stored (the bulk paths of a streamed import).
pub(crate) fn table_is_empty(conn: &Connection) -> Result<bool, StoreError> {
    let any: bool = conn.query_row("SELECT EXISTS (SELECT 1 FROM events)", [], |r| r.get(0)).map_err(backend)?;
    Ok(!any)
}

/// Fills in the file's record of a streamed import, known only at its end.
fn record_file(conn: &Connection, import_id: i64, file: &ImportFile) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE imports SET path = ?1, sha256 = ?2, format = ?3, rows_read = ?4, rows_rejected = ?5 WHERE id = ?6",
        rusqlite::params![
            file.path,
            file.sha256,
            file.format,
            file.rows_read as i64,
            file.rows_rejected as i64,
            import_id
        ],
    )
    .map_err(backend)?;
    Ok(())
}

/// The `strings` ids of one event's interned columns.
struct EventStrings {
    country: Option<i64>,
    iso3: Option<i64>,
    admin1: Option<i64>,
    admin2: Option<i64>,
    location: Option<i64>,
    event_type: i64,
    sub_event_type: Option<i64>,
    actor1: Option<i64>,
    actor2: Option<i64>,
    dimensions: i64,
    themes: i64,
    rule: i64,
    file: i64,
}

impl EventStrings {
    fn of(strings: &mut StringIds, add: &mut Statement<'_>, e: &Event) -> Result<EventStrings, StoreError> {
        Ok(EventStrings {
            country: strings.opt_id(add, e.place.country.as_deref())?,
            iso3: strings.opt_id(add, e.place.iso3.as_deref())?,
            admin1: strings.opt_id(add, e.place.admin1.as_deref())?,
            admin2: strings.opt_id(add, e.place.admin2.as_deref())?,
            location: strings.opt_id(add, e.place.location.as_deref())?,
            event_type: strings.id(add, &e.event_type)?,
            sub_event_type: strings.opt_id(add, e.sub_event_type.as_deref())?,
            actor1: strings.opt_id(add, e.actor1.as_deref())?,
            actor2: strings.opt_id(add, e.actor2.as_deref())?,
            dimensions: strings.list_id(add, &e.tags.dimensions)?,
            themes: strings.list_id(add, &e.tags.themes)?,
            rule: strings.id(add, &e.tags.rule)?,
            file: strings.id(add, &e.provenance.file)?,
        })
    }
}

fn bind_event(
    stmt: &mut Statement<'_>,
    e: &Event,
    ids: &EventStrings,
    fingerprint: i64,
    import_id: i64,
) -> Result<(), StoreError> {
    let p = &e.place;
    let mut b = Binder { stmt, next: 1 };
    b.bind(e.provenance.source.as_str())?;
    b.bind(e.provenance.source_id.as_str())?;
    b.bind(fingerprint)?;
    b.bind(date_code(e.date))?;
    b.bind(e.date_end.map(date_code))?;
    b.bind(month_code(Month::of(e.date)))?;
    b.bind(ids.country)?;
    b.bind(ids.iso3)?;
    b.bind(ids.admin1)?;
    b.bind(ids.admin2)?;
    b.bind(ids.location)?;
    b.bind(p.latitude)?;
    b.bind(p.longitude)?;
    b.bind(p.precision)?;
    b.bind(p.admin1_pcode.as_deref())?;
    b.bind(p.admin2_pcode.as_deref())?;
    b.bind(grid_of(p))?;
    b.bind(ids.event_type)?;
    b.bind(ids.sub_event_type)?;
    b.bind(ids.actor1)?;
    b.bind(ids.actor2)?;
    b.bind(e.fatalities)?;
    b.bind(e.civilian_fatalities)?;
    b.bind(e.civilian_targeting)?;
    b.bind(e.notes.as_deref())?;
    b.bind(ids.dimensions)?;
    b.bind(ids.themes)?;
    b.bind(e.tags.severity)?;
    b.bind(ids.rule)?;
    b.bind(ids.file)?;
    b.bind(e.provenance.line as i64)?;
    b.bind(import_id)?;
    debug_assert_eq!(b.next, N_COLUMNS + 1);
    Ok(())
}

/// The place columns (country .. grid_gid), shared with observations.
pub(crate) fn bind_place(b: &mut Binder<'_, '_>, p: &Place) -> Result<(), StoreError> {
    b.bind(p.country.as_deref())?;
    b.bind(p.iso3.as_deref())?;
    b.bind(p.admin1.as_deref())?;
    b.bind(p.admin2.as_deref())?;
    b.bind(p.location.as_deref())?;
    b.bind(p.latitude)?;
    b.bind(p.longitude)?;
    b.bind(p.precision)?;
    b.bind(p.admin1_pcode.as_deref())?;
    b.bind(p.admin2_pcode.as_deref())?;
    b.bind(grid_of(p))
}

/// Binds positional parameters in order.
pub(crate) struct Binder<'s, 'c> {
    pub stmt: &'s mut Statement<'c>,
    pub next: usize,
}

impl Binder<'_, '_> {
    pub fn bind<T: rusqlite::ToSql>(&mut self, value: T) -> Result<(), StoreError> {
        self.stmt.raw_bind_parameter(self.next, value).map_err(backend)?;
        self.next += 1;
        Ok(())
    }
}

/// Rebuilds an event from the content columns starting at `at` (in
/// [`COLUMNS`] order).
fn event_from_row(r: &Row<'_>, at: usize, strings: &StringTexts) -> Result<Event, StoreError> {
    let text = |i: usize| -> Result<String, StoreError> { r.get(at + i).map_err(backend) };
    let opt_text = |i: usize| -> Result<Option<String>, StoreError> { r.get(at + i).map_err(backend) };
    let int = |i: usize| -> Result<i64, StoreError> { r.get(at + i).map_err(backend) };
    let opt_int = |i: usize| -> Result<Option<i64>, StoreError> { r.get(at + i).map_err(backend) };
    let interned = |i: usize| strings.text(int(i)?);
    let opt_interned = |i: usize| strings.opt_text(opt_int(i)?);
    let source = text(0)?.parse::<Source>().map_err(StoreError::Corrupt)?;
    let precision = opt_int(13)?;
    let place = Place {
        country: opt_interned(6)?,
        iso3: opt_interned(7)?,
        admin1: opt_interned(8)?,
        admin2: opt_interned(9)?,
        location: opt_interned(10)?,
        latitude: r.get(at + 11).map_err(backend)?,
        longitude: r.get(at + 12).map_err(backend)?,
        precision: precision.map(|v| to_u8(v, "precision")).transpose()?,
        admin1_pcode: opt_text(14)?,
        admin2_pcode: opt_text(15)?,
    };
    Ok(Event {
        provenance: Provenance { source, source_id: text(1)?, file: interned(29)?, line: int(30)? as u64 },
        date: date_from_code(int(3)?)?,
        date_end: opt_int(4)?.map(date_from_code).transpose()?,
        place,
        event_type: interned(17)?,
        sub_event_type: opt_interned(18)?,
        actor1: opt_interned(19)?,
        actor2: opt_interned(20)?,
        fatalities: to_u32(int(21)?, "fatalities")?,
        civilian_fatalities: opt_int(22)?.map(|v| to_u32(v, "civilian fatalities")).transpose()?,
        civilian_targeting: int(23)? != 0,
        notes: opt_text(24)?,
        tags: Tags {
            dimensions: split_tags(&interned(25)?),
            themes: split_tags(&interned(26)?),
            severity: to_u8(int(27)?, "severity")?,
            rule: interned(28)?,
        },
    })
}

/// The place columns country .. admin2_pcode starting at `at`.
pub(crate) fn place_from_row(r: &Row<'_>, at: usize) -> Result<Place, StoreError> {
    let opt_text = |i: usize| -> Result<Option<String>, StoreError> { r.get(at + i).map_err(backend) };
    let opt_f64 = |i: usize| -> Result<Option<f64>, StoreError> { r.get(at + i).map_err(backend) };
    let precision: Option<i64> = r.get(at + 7).map_err(backend)?;
    Ok(Place {
        country: opt_text(0)?,
        iso3: opt_text(1)?,
        admin1: opt_text(2)?,
        admin2: opt_text(3)?,
        location: opt_text(4)?,
        latitude: opt_f64(5)?,
        longitude: opt_f64(6)?,
        precision: precision.map(|v| to_u8(v, "precision")).transpose()?,
        admin1_pcode: opt_text(8)?,
        admin2_pcode: opt_text(9)?,
    })
}

/// Streams current events matching `filter`, ordered by date (then by the
/// order they were first stored).
pub fn for_each(conn: &Connection, filter: &EventFilter, visit: &mut dyn FnMut(Event)) -> Result<u64, StoreError> {
    let mut clauses = Vec::new();
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(from) = filter.from {
        clauses.push(format!("date >= ?{}", args.len() + 1));
        args.push((month_code(from) * 100).into());
    }
    if let Some(to) = filter.to {
        clauses.push(format!("date <= ?{}", args.len() + 1));
        args.push((month_code(to) * 100 + 99).into());
    }
    if let Some(source) = filter.source {
        clauses.push(format!("source = ?{}", args.len() + 1));
        args.push(source.as_str().to_string().into());
    }
    // SQLite's NOCASE folds ASCII only: other names are compared in Rust.
    let country_in_rust = filter.country.as_ref().filter(|c| !c.is_ascii()).map(|c| c.to_lowercase());
    if let Some(country) = filter.country.as_ref().filter(|c| c.is_ascii()) {
        clauses.push(format!("country IN (SELECT id FROM strings WHERE text = ?{} COLLATE NOCASE)", args.len() + 1));
        args.push(country.clone().into());
    }
    let where_clause = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
    let sql = format!("SELECT {COLUMNS} FROM events {where_clause} ORDER BY date, id");
    // One read transaction: the strings and the events from one snapshot.
    let snapshot = conn.unchecked_transaction().map_err(backend)?;
    let strings = StringTexts::load(&snapshot)?;
    let mut stmt = snapshot.prepare_cached(&sql).map_err(backend)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args)).map_err(backend)?;
    let mut visited = 0;
    while let Some(row) = rows.next().map_err(backend)? {
        let event = event_from_row(row, 0, &strings)?;
        if let Some(wanted) = &country_in_rust
            && event.place.country.as_deref().map(str::to_lowercase).as_ref() != Some(wanted)
        {
            continue;
        }
        visit(event);
        visited += 1;
    }
    drop(rows);
    drop(stmt);
    snapshot.finish().map_err(backend)?;
    Ok(visited)
}

/// Prior versions oldest first, then the current one.
pub fn history(conn: &Connection, source: Source, source_id: &str) -> Result<Vec<EventVersion>, StoreError> {
    let sql = format!(
        "SELECT v.version, i.imported_at, {cols} FROM event_versions v JOIN events e ON e.id = v.event_id
           JOIN imports i ON i.id = v.import_id
          WHERE e.source = ?1 AND e.source_id = ?2
         UNION ALL
         SELECT e.version, i.imported_at, {e_cols} FROM events e JOIN imports i ON i.id = e.import_id
          WHERE e.source = ?1 AND e.source_id = ?2
         ORDER BY 1",
        cols = prefixed("v"),
        e_cols = prefixed("e"),
    );
    let snapshot = conn.unchecked_transaction().map_err(backend)?;
    let strings = StringTexts::load(&snapshot)?;
    let mut out = Vec::new();
    {
        let mut stmt = snapshot.prepare_cached(&sql).map_err(backend)?;
        let mut rows = stmt.query(params![source.as_str(), source_id]).map_err(backend)?;
        while let Some(row) = rows.next().map_err(backend)? {
            out.push(EventVersion {
                version: to_u32(row.get(0).map_err(backend)?, "version")?,
                stored_at: row.get(1).map_err(backend)?,
                event: event_from_row(row, 2, &strings)?,
            });
        }
    }
    snapshot.finish().map_err(backend)?;
    Ok(out)
}

/// [`COLUMNS`] of table alias `t`.
fn prefixed(t: &str) -> String {
    COLUMNS.split(", ").map(|c| format!("{t}.{c}")).collect::<Vec<_>>().join(", ")
}
