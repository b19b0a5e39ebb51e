//! Events: the versioned import and the reads.

use rusqlite::{Connection, Row, Statement, TransactionBehavior, params};
use vitalcore_framework::{Event, Month, Place, Provenance, Source, Tags};
use vitalcore_store::{EventFilter, EventVersion, ImportCounts, ImportFile, StoreError};

use crate::shared::{
    date_code, date_from_code, grid_of, join_tags, month_code, now_rfc3339, scan_events, split_tags, to_u8,
    to_u32,
};
use crate::{BulkIndexes, Existing, backend, finish_import, start_import};

/// Content columns shared by `events` and `event_versions`, in the order of
/// the `?1..?33` parameters of the write statements.
const COLUMNS: &str = "source, source_id, fingerprint, date, date_end, month, country, iso3, admin1, admin2, \
     location, lat, lon, precision, admin1_pcode, admin2_pcode, grid_gid, event_type, sub_event_type, \
     actor1, actor2, fatalities, civilian_fatalities, civilian_targeting, notes, dimensions, themes, \
     severity, rule, file, line, import_id, stored_at";
const N_COLUMNS: usize = 33;

fn insert_sql() -> String {
    let placeholders: Vec<String> = (1..=N_COLUMNS).map(|i| format!("?{i}")).collect();
    format!("INSERT INTO events (version, {COLUMNS}) VALUES (1, {})", placeholders.join(", "))
}

fn update_sql() -> String {
    let sets: Vec<String> =
        COLUMNS.split(", ").enumerate().map(|(i, c)| format!("{c} = ?{}", i + 1)).collect();
    format!("UPDATE events SET version = version + 1, {} WHERE id = ?{}", sets.join(", "), N_COLUMNS + 1)
}

fn archive_sql() -> String {
    format!(
        "INSERT INTO event_versions (event_id, version, {COLUMNS}) SELECT id, version, {COLUMNS} FROM events WHERE id = ?1"
    )
}

/// Imports one batch in one transaction (see `Store::import_events`).
pub fn import(conn: &mut Connection, file: &ImportFile, events: &[Event]) -> Result<ImportCounts, StoreError> {
    let batch = scan_events(&file.path, events)?;
    let stored_at = now_rfc3339();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
    let import_id = start_import(&tx, file, "events", &stored_at)?;
    let existing = Existing::prepare(&tx, "events", events.len())?;
    let mut counts = ImportCounts { unchanged: batch.duplicates, ..ImportCounts::default() };
    let mut plan = Vec::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        if !batch.first[i] {
            continue;
        }
        match existing.find(&tx, "events", event.provenance.source, &event.provenance.source_id)? {
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
    drop(existing);
    // Revisions in stored-row order (locality in the table and in
    // event_versions' key), then new rows in file order.
    plan.sort_by_key(|&(_, stored_id)| stored_id.unwrap_or(i64::MAX));
    let stored_rows = tx.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0)).map_err(backend)?;
    let rebuild = BulkIndexes::drop_if_worth_it(&tx, "events", plan.len() as i64, stored_rows)?;
    {
        let mut insert = tx.prepare_cached(&insert_sql()).map_err(backend)?;
        let mut update = tx.prepare_cached(&update_sql()).map_err(backend)?;
        let mut archive = tx.prepare_cached(&archive_sql()).map_err(backend)?;
        for (i, stored_id) in plan {
            let (event, fingerprint) = (&events[i], batch.fingerprints[i]);
            match stored_id {
                None => {
                    bind_event(&mut insert, event, fingerprint, import_id, &stored_at)?;
                    insert.raw_execute().map_err(backend)?;
                }
                Some(id) => {
                    archive.execute([id]).map_err(backend)?;
                    bind_event(&mut update, event, fingerprint, import_id, &stored_at)?;
                    update.raw_bind_parameter(N_COLUMNS + 1, id).map_err(backend)?;
                    update.raw_execute().map_err(backend)?;
                }
            }
        }
    }
    rebuild.recreate(&tx)?;
    finish_import(&tx, import_id, &counts)?;
    tx.commit().map_err(backend)?;
    Ok(counts)
}

fn bind_event(
    stmt: &mut Statement<'_>,
    e: &Event,
    fingerprint: i64,
    import_id: i64,
    stored_at: &str,
) -> Result<(), StoreError> {
    let p = &e.place;
    let dimensions = join_tags(&e.tags.dimensions);
    let themes = join_tags(&e.tags.themes);
    let mut b = Binder { stmt, next: 1 };
    b.bind(e.provenance.source.as_str())?;
    b.bind(e.provenance.source_id.as_str())?;
    b.bind(fingerprint)?;
    b.bind(date_code(e.date))?;
    b.bind(e.date_end.map(date_code))?;
    b.bind(month_code(Month::of(e.date)))?;
    bind_place(&mut b, p)?;
    b.bind(e.event_type.as_str())?;
    b.bind(e.sub_event_type.as_deref())?;
    b.bind(e.actor1.as_deref())?;
    b.bind(e.actor2.as_deref())?;
    b.bind(e.fatalities)?;
    b.bind(e.civilian_fatalities)?;
    b.bind(e.civilian_targeting)?;
    b.bind(e.notes.as_deref())?;
    b.bind(dimensions.as_str())?;
    b.bind(themes.as_str())?;
    b.bind(e.tags.severity)?;
    b.bind(e.tags.rule.as_str())?;
    b.bind(e.provenance.file.as_str())?;
    b.bind(e.provenance.line as i64)?;
    b.bind(import_id)?;
    b.bind(stored_at)?;
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
fn event_from_row(r: &Row<'_>, at: usize) -> Result<Event, StoreError> {
    let text = |i: usize| -> Result<String, StoreError> { r.get(at + i).map_err(backend) };
    let opt_text = |i: usize| -> Result<Option<String>, StoreError> { r.get(at + i).map_err(backend) };
    let int = |i: usize| -> Result<i64, StoreError> { r.get(at + i).map_err(backend) };
    let opt_int = |i: usize| -> Result<Option<i64>, StoreError> { r.get(at + i).map_err(backend) };
    let source = text(0)?.parse::<Source>().map_err(StoreError::Corrupt)?;
    let place = place_from_row(r, at + 6)?;
    Ok(Event {
        provenance: Provenance { source, source_id: text(1)?, file: text(29)?, line: int(30)? as u64 },
        date: date_from_code(int(3)?)?,
        date_end: opt_int(4)?.map(date_from_code).transpose()?,
        place,
        event_type: text(17)?,
        sub_event_type: opt_text(18)?,
        actor1: opt_text(19)?,
        actor2: opt_text(20)?,
        fatalities: to_u32(int(21)?, "fatalities")?,
        civilian_fatalities: opt_int(22)?.map(|v| to_u32(v, "civilian fatalities")).transpose()?,
        civilian_targeting: int(23)? != 0,
        notes: opt_text(24)?,
        tags: Tags {
            dimensions: split_tags(&text(25)?),
            themes: split_tags(&text(26)?),
            severity: to_u8(int(27)?, "severity")?,
            rule: text(28)?,
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
        clauses.push(format!("country = ?{} COLLATE NOCASE", args.len() + 1));
        args.push(country.clone().into());
    }
    let where_clause = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
    let sql = format!("SELECT {COLUMNS} FROM events {where_clause} ORDER BY date, id");
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args)).map_err(backend)?;
    let mut visited = 0;
    while let Some(row) = rows.next().map_err(backend)? {
        let event = event_from_row(row, 0)?;
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
pub fn history(conn: &Connection, source: Source, source_id: &str) -> Result<Vec<EventVersion>, StoreError> {
    let sql = format!(
        "SELECT v.version, v.stored_at, {cols} FROM event_versions v JOIN events e ON e.id = v.event_id
          WHERE e.source = ?1 AND e.source_id = ?2
         UNION ALL
         SELECT version, stored_at, {COLUMNS} FROM events WHERE source = ?1 AND source_id = ?2
         ORDER BY 1",
        cols = COLUMNS.split(", ").map(|c| format!("v.{c}")).collect::<Vec<_>>().join(", ")
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let mut rows = stmt.query(params![source.as_str(), source_id]).map_err(backend)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        out.push(EventVersion {
            version: to_u32(row.get(0).map_err(backend)?, "version")?,
            stored_at: row.get(1).map_err(backend)?,
            event: event_from_row(row, 2)?,
        });
    }
    Ok(out)
}
