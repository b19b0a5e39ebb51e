//! Observations (rows of tagged tables): same versioned import as events.

use rusqlite::{Connection, TransactionBehavior};
use vitalcore_framework::{Month, Observation, Provenance, Source, Tags};
use vitalcore_store::columns::{
    date_code, date_from_code, join_tags, month_code, now_rfc3339, split_tags, to_u8, values_from_json, values_to_json,
};
use vitalcore_store::fingerprint::scan_observations;
use vitalcore_store::{ImportCounts, ImportFile, StoreError};

use crate::events::{Binder, bind_place, place_from_row};
use crate::{Existing, backend, finish_import, start_import};

/// Content columns shared by `observations` and `observation_versions`.
const COLUMNS: &str = "source, source_id, fingerprint, date, month, country, iso3, admin1, admin2, location, \
     lat, lon, precision, admin1_pcode, admin2_pcode, grid_gid, tag_values, dimensions, themes, severity, \
     rule, file, line, import_id, stored_at";
const N_COLUMNS: usize = 25;

pub fn import(conn: &mut Connection, file: &ImportFile, rows: &[Observation]) -> Result<ImportCounts, StoreError> {
    let batch = scan_observations(&file.path, rows)?;
    let stored_at = now_rfc3339();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
    let import_id = start_import(&tx, file, "observations", &stored_at)?;
    let existing = Existing::prepare(&tx, "observations", rows.len())?;
    let placeholders: Vec<String> = (1..=N_COLUMNS).map(|i| format!("?{i}")).collect();
    let insert_sql = format!("INSERT INTO observations (version, {COLUMNS}) VALUES (1, {})", placeholders.join(", "));
    let sets: Vec<String> = COLUMNS.split(", ").enumerate().map(|(i, c)| format!("{c} = ?{}", i + 1)).collect();
    let update_sql =
        format!("UPDATE observations SET version = version + 1, {} WHERE id = ?{}", sets.join(", "), N_COLUMNS + 1);
    let archive_sql = format!(
        "INSERT INTO observation_versions (observation_id, version, {COLUMNS})
         SELECT id, version, {COLUMNS} FROM observations WHERE id = ?1"
    );
    let mut counts = ImportCounts { unchanged: batch.duplicates, ..ImportCounts::default() };
    {
        let mut insert = tx.prepare_cached(&insert_sql).map_err(backend)?;
        let mut update = tx.prepare_cached(&update_sql).map_err(backend)?;
        let mut archive = tx.prepare_cached(&archive_sql).map_err(backend)?;
        for (i, row) in rows.iter().enumerate() {
            if !batch.first[i] {
                continue;
            }
            let fingerprint = batch.fingerprints[i];
            match existing.find(&tx, "observations", row.provenance.source, &row.provenance.source_id)? {
                None => {
                    bind_observation(
                        &mut Binder { stmt: &mut insert, next: 1 },
                        row,
                        fingerprint,
                        import_id,
                        &stored_at,
                    )?;
                    insert.raw_execute().map_err(backend)?;
                    counts.imported += 1;
                }
                Some((_, stored)) if stored == fingerprint => counts.unchanged += 1,
                Some((id, _)) => {
                    archive.execute([id]).map_err(backend)?;
                    bind_observation(
                        &mut Binder { stmt: &mut update, next: 1 },
                        row,
                        fingerprint,
                        import_id,
                        &stored_at,
                    )?;
                    update.raw_bind_parameter(N_COLUMNS + 1, id).map_err(backend)?;
                    update.raw_execute().map_err(backend)?;
                    counts.updated += 1;
                }
            }
        }
    }
    finish_import(&tx, import_id, &counts)?;
    tx.commit().map_err(backend)?;
    Ok(counts)
}

fn bind_observation(
    b: &mut Binder<'_, '_>,
    o: &Observation,
    fingerprint: i64,
    import_id: i64,
    stored_at: &str,
) -> Result<(), StoreError> {
    b.bind(o.provenance.source.as_str())?;
    b.bind(o.provenance.source_id.as_str())?;
    b.bind(fingerprint)?;
    b.bind(o.date.map(date_code))?;
    b.bind(o.date.map(|d| month_code(Month::of(d))))?;
    bind_place(b, &o.place)?;
    b.bind(values_to_json(&o.values))?;
    b.bind(join_tags(&o.tags.dimensions))?;
    b.bind(join_tags(&o.tags.themes))?;
    b.bind(o.tags.severity)?;
    b.bind(o.tags.rule.as_str())?;
    b.bind(o.provenance.file.as_str())?;
    b.bind(o.provenance.line as i64)?;
    b.bind(import_id)?;
    b.bind(stored_at)?;
    debug_assert_eq!(b.next, N_COLUMNS + 1);
    Ok(())
}

/// Streams current observations in the order they were first stored.
pub fn for_each(conn: &Connection, visit: &mut dyn FnMut(Observation)) -> Result<u64, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM observations ORDER BY id")).map_err(backend)?;
    let mut rows = stmt.query([]).map_err(backend)?;
    let mut visited = 0;
    while let Some(r) = rows.next().map_err(backend)? {
        let text = |i: usize| -> Result<String, StoreError> { r.get(i).map_err(backend) };
        let source = text(0)?.parse::<Source>().map_err(StoreError::Corrupt)?;
        let date: Option<i64> = r.get(3).map_err(backend)?;
        let line: i64 = r.get(22).map_err(backend)?;
        let severity: i64 = r.get(19).map_err(backend)?;
        visit(Observation {
            provenance: Provenance { source, source_id: text(1)?, file: text(21)?, line: line as u64 },
            date: date.map(date_from_code).transpose()?,
            place: place_from_row(r, 5)?,
            values: values_from_json(&text(16)?)?,
            tags: Tags {
                dimensions: split_tags(&text(17)?),
                themes: split_tags(&text(18)?),
                severity: to_u8(severity, "severity")?,
                rule: text(20)?,
            },
        });
        visited += 1;
    }
    Ok(visited)
}
