//! Observations (rows of tagged tables). Tables of indicators are small, so
//! rows are looked up and written one by one, in one transaction.

use postgres::Client;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use vitalcore_framework::{Month, Observation, Provenance, Source, Tags};
use vitalcore_store::columns::{
    date_from_days_since_2000, days_since_2000, grid_of, join_tags, month_code, split_tags, to_u8, values_from_json,
    values_to_json,
};
use vitalcore_store::fingerprint::scan_observations;
use vitalcore_store::{ImportCounts, ImportFile, StoreError};

use crate::events::place_from_row;
use crate::{LOCK_IMPORTS, backend, finish_import, start_import};

/// Content columns, in the order of `$1..$23`; `import_id` is `$24`.
const COLUMNS: &[&str] = &[
    "source",
    "source_id",
    "fingerprint",
    "date",
    "month",
    "country",
    "iso3",
    "admin1",
    "admin2",
    "location",
    "lat",
    "lon",
    "precision",
    "admin1_pcode",
    "admin2_pcode",
    "grid_gid",
    "tag_values",
    "dimensions",
    "themes",
    "severity",
    "rule",
    "file",
    "line",
];

fn value_of(i: usize, c: &str) -> String {
    match c {
        "date" => format!("DATE '2000-01-01' + ${}::int4", i + 1),
        _ => format!("${}", i + 1),
    }
}

pub fn import(client: &mut Client, file: &ImportFile, rows: &[Observation]) -> Result<ImportCounts, StoreError> {
    let batch = scan_observations(&file.path, rows)?;
    let mut tx = client.transaction().map_err(backend)?;
    tx.batch_execute(LOCK_IMPORTS).map_err(backend)?;
    let import_id = start_import(&mut tx, file, "observations")?;
    let cols = COLUMNS.join(", ");
    let values: Vec<String> = COLUMNS.iter().enumerate().map(|(i, c)| value_of(i, c)).collect();
    let sets: Vec<String> = COLUMNS.iter().zip(&values).map(|(c, v)| format!("{c} = {v}")).collect();
    let n = COLUMNS.len();
    let find =
        tx.prepare("SELECT id, fingerprint FROM observations WHERE source = $1 AND source_id = $2").map_err(backend)?;
    let insert = tx
        .prepare(&format!(
            "INSERT INTO observations (version, {cols}, import_id, stored_at) VALUES (1, {}, ${}, now())",
            values.join(", "),
            n + 1
        ))
        .map_err(backend)?;
    let archive = tx
        .prepare(&format!(
            "INSERT INTO observation_versions (observation_id, version, {cols}, import_id, stored_at)
             SELECT id, version, {cols}, import_id, stored_at FROM observations WHERE id = $1"
        ))
        .map_err(backend)?;
    let update = tx
        .prepare(&format!(
            "UPDATE observations SET version = version + 1, {}, import_id = ${}, stored_at = now() WHERE id = ${}",
            sets.join(", "),
            n + 1,
            n + 2
        ))
        .map_err(backend)?;
    let mut counts = ImportCounts { unchanged: batch.duplicates, ..ImportCounts::default() };
    for (i, o) in rows.iter().enumerate() {
        if !batch.first[i] {
            continue;
        }
        let fingerprint = batch.fingerprints[i];
        let stored = tx.query_opt(&find, &[&o.provenance.source.as_str(), &o.provenance.source_id]).map_err(backend)?;
        let row = Row::of(o, fingerprint);
        let mut params = row.params();
        params.push(&import_id);
        match stored.map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1))) {
            None => {
                tx.execute(&insert, &params).map_err(backend)?;
                counts.imported += 1;
            }
            Some((_, stored)) if stored == fingerprint => counts.unchanged += 1,
            Some((id, _)) => {
                tx.execute(&archive, &[&id]).map_err(backend)?;
                params.push(&id);
                tx.execute(&update, &params).map_err(backend)?;
                counts.updated += 1;
            }
        }
    }
    finish_import(&mut tx, import_id, &counts)?;
    tx.commit().map_err(backend)?;
    Ok(counts)
}

/// An observation's column values, owned so they can be borrowed as params.
struct Row<'a> {
    o: &'a Observation,
    source: &'static str,
    fingerprint: i64,
    date: Option<i32>,
    month: Option<i32>,
    precision: Option<i32>,
    grid: Option<i32>,
    values: String,
    dimensions: String,
    themes: String,
    severity: i32,
    line: i64,
}

impl<'a> Row<'a> {
    fn of(o: &'a Observation, fingerprint: i64) -> Row<'a> {
        Row {
            o,
            source: o.provenance.source.as_str(),
            fingerprint,
            date: o.date.map(days_since_2000),
            month: o.date.map(|d| month_code(Month::of(d)) as i32),
            precision: o.place.precision.map(i32::from),
            grid: grid_of(&o.place).map(|g| g as i32),
            values: values_to_json(&o.values),
            dimensions: join_tags(&o.tags.dimensions),
            themes: join_tags(&o.tags.themes),
            severity: i32::from(o.tags.severity),
            line: o.provenance.line as i64,
        }
    }

    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        let p = &self.o.place;
        vec![
            &self.source,
            &self.o.provenance.source_id,
            &self.fingerprint,
            &self.date,
            &self.month,
            &p.country,
            &p.iso3,
            &p.admin1,
            &p.admin2,
            &p.location,
            &p.latitude,
            &p.longitude,
            &self.precision,
            &p.admin1_pcode,
            &p.admin2_pcode,
            &self.grid,
            &self.values,
            &self.dimensions,
            &self.themes,
            &self.severity,
            &self.o.tags.rule,
            &self.o.provenance.file,
            &self.line,
        ]
    }
}

/// Streams current observations in the order they were first stored.
pub fn for_each(client: &mut Client, visit: &mut dyn FnMut(Observation)) -> Result<u64, StoreError> {
    let select: Vec<String> = COLUMNS
        .iter()
        .map(|c| if *c == "date" { "date - DATE '2000-01-01'".to_string() } else { c.to_string() })
        .collect();
    let sql = format!("SELECT {} FROM observations ORDER BY id", select.join(", "));
    let mut rows = client.query_raw(&sql, std::iter::empty::<&dyn ToSql>()).map_err(backend)?;
    let mut visited = 0;
    while let Some(r) = rows.next().map_err(backend)? {
        let source: &str = r.get(0);
        let date: Option<i32> = r.get(3);
        let severity: i32 = r.get(19);
        let line: i64 = r.get(22);
        visit(Observation {
            provenance: Provenance {
                source: source.parse::<Source>().map_err(StoreError::Corrupt)?,
                source_id: r.get(1),
                file: r.get(21),
                line: line as u64,
            },
            date: date.map(date_from_days_since_2000).transpose()?,
            place: place_from_row(&r, 5)?,
            values: values_from_json(r.get(16))?,
            tags: Tags {
                dimensions: split_tags(r.get(17)),
                themes: split_tags(r.get(18)),
                severity: to_u8(severity.into(), "severity")?,
                rule: r.get(20),
            },
        });
        visited += 1;
    }
    Ok(visited)
}
