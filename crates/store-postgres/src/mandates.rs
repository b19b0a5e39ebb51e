//! Security Council resolutions read and tagged: vitalcore-store's
//! [`MandateStore`] in PostgreSQL (schema `migrations/0012_mandates.sql`;
//! the same tables and encodings as the SQLite store).

use postgres::{GenericClient, Row};
use vitalcore_mandate::Resolution;
use vitalcore_store::StoreError;
use vitalcore_store::forecasts::damaged;
use vitalcore_store::mandates::{
    MandateCounts, MandateStore, MissionCount, Provenance, ReadRow, ResolutionFilter, StoredResolution, content_hash,
    ids, paragraphs, rows,
};

use crate::{PostgresStore, backend};

/// The resolutions a filter selects (parameters $1 mission, $2 number, $3 adopted after).
const SELECTED: &str = "($1::text IS NULL OR number IN (SELECT number FROM mandate_missions WHERE mission = $1))
    AND ($2::bigint IS NULL OR number = $2) AND ($3::text IS NULL OR adopted > $3)";

fn insert(client: &mut impl GenericClient, res: &Resolution, from: &Provenance, hash: &str) -> Result<(), StoreError> {
    let number = i64::from(res.number);
    client
        .execute(
            "INSERT INTO mandate_resolutions (number, symbol, adopted, year, chapter_vii, agenda_item, missions,
                 content_hash, file_name, file_sha256, imported_at, imported_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                &number,
                &res.symbol,
                &res.date,
                &i64::from(res.year),
                &res.chapter_vii,
                &res.agenda_item,
                &res.missions.join(","),
                &hash,
                &from.file,
                &from.sha256,
                &from.imported_at,
                &from.imported_by,
            ],
        )
        .map_err(backend)?;
    // All its paragraphs in one statement (one round trip, not one a row).
    let rows = rows(res);
    let position: Vec<i64> = rows.iter().map(|r| r.position).collect();
    let parent: Vec<Option<i64>> = rows.iter().map(|r| r.parent).collect();
    let kind: Vec<&str> = rows.iter().map(|r| r.kind).collect();
    let num: Vec<Option<&str>> = rows.iter().map(|r| r.num.as_deref()).collect();
    let eid: Vec<&str> = rows.iter().map(|r| r.eid.as_str()).collect();
    let text: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let tasks: Vec<&str> = rows.iter().map(|r| r.tasks.as_str()).collect();
    let dimensions: Vec<&str> = rows.iter().map(|r| r.dimensions.as_str()).collect();
    let themes: Vec<&str> = rows.iter().map(|r| r.themes.as_str()).collect();
    let strength: Vec<Option<&str>> = rows.iter().map(|r| r.strength.as_deref()).collect();
    let anm: Vec<bool> = rows.iter().map(|r| r.all_necessary_means).collect();
    let missions: Vec<&str> = rows.iter().map(|r| r.missions.as_str()).collect();
    let emphasis: Vec<&str> = rows.iter().map(|r| r.emphasis.as_str()).collect();
    client
        .execute(
            "INSERT INTO mandate_paragraphs (number, position, parent, kind, num, eid, text, tasks, dimensions,
                 themes, strength, all_necessary_means, missions, emphasis)
             SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
                 $8::text[], $9::text[], $10::text[], $11::text[], $12::boolean[], $13::text[], $14::text[])",
            &[
                &number,
                &position,
                &parent,
                &kind,
                &num,
                &eid,
                &text,
                &tasks,
                &dimensions,
                &themes,
                &strength,
                &anm,
                &missions,
                &emphasis,
            ],
        )
        .map_err(backend)?;
    for m in &res.missions {
        client
            .execute("INSERT INTO mandate_missions (mission, number) VALUES ($1, $2)", &[m, &number])
            .map_err(backend)?;
    }
    Ok(())
}

fn number_of(value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| damaged(format!("resolution number {value}")))
}

fn stored_of(r: &Row) -> Result<StoredResolution, StoreError> {
    let year: i64 = r.get(3);
    Ok(StoredResolution {
        resolution: Resolution {
            number: number_of(r.get(0))?,
            symbol: r.get(1),
            date: r.get(2),
            year: i32::try_from(year).map_err(|_| damaged(format!("resolution year {year}")))?,
            chapter_vii: r.get(4),
            agenda_item: r.get(5),
            missions: ids(r.get(6)),
            source_file: r.get(7),
            ..Resolution::default()
        },
        provenance: Provenance { file: r.get(7), sha256: r.get(8), imported_at: r.get(9), imported_by: r.get(10) },
    })
}

fn row_of(r: &Row) -> ReadRow {
    ReadRow {
        position: r.get(1),
        parent: r.get(2),
        kind: r.get(3),
        num: r.get(4),
        eid: r.get(5),
        text: r.get(6),
        tasks: r.get(7),
        dimensions: r.get(8),
        themes: r.get(9),
        strength: r.get(10),
        all_necessary_means: r.get(11),
        missions: r.get(12),
        emphasis: r.get(13),
    }
}

impl MandateStore for PostgresStore {
    fn import_resolutions(&self, batch: &[(Resolution, Provenance)]) -> Result<MandateCounts, StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(backend)?;
        // One import at a time: two importing the same new resolution would
        // otherwise both insert it.
        tx.batch_execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':mandates'))").map_err(backend)?;
        // What is stored of the batch's resolutions, in one query.
        let numbers: Vec<i64> = batch.iter().map(|(r, _)| i64::from(r.number)).collect();
        let mut stored: std::collections::HashMap<i64, String> = tx
            .query("SELECT number, content_hash FROM mandate_resolutions WHERE number = ANY($1)", &[&numbers])
            .map_err(backend)?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let mut counts = MandateCounts::default();
        for (res, from) in batch {
            let hash = content_hash(res);
            let number = i64::from(res.number);
            let was = stored.insert(number, hash.clone());
            match was {
                Some(h) if h == hash => counts.unchanged += 1,
                Some(_) => {
                    tx.execute("DELETE FROM mandate_resolutions WHERE number = $1", &[&number]).map_err(backend)?;
                    insert(&mut tx, res, from, &hash)?;
                    counts.replaced += 1;
                }
                None => {
                    insert(&mut tx, res, from, &hash)?;
                    counts.new += 1;
                }
            }
        }
        tx.commit().map_err(backend)?;
        Ok(counts)
    }

    fn resolutions(&self, filter: &ResolutionFilter) -> Result<Vec<StoredResolution>, StoreError> {
        let mut client = self.client()?;
        let number = filter.number.map(i64::from);
        let args: [&(dyn postgres::types::ToSql + Sync); 3] = [&filter.mission, &number, &filter.adopted_after];
        let mut out: Vec<StoredResolution> = client
            .query(
                &format!(
                    "SELECT number, symbol, adopted, year, chapter_vii, agenda_item, missions, file_name,
                         file_sha256, imported_at, imported_by
                     FROM mandate_resolutions WHERE {SELECTED} ORDER BY adopted, number"
                ),
                &args,
            )
            .map_err(backend)?
            .iter()
            .map(stored_of)
            .collect::<Result<_, _>>()?;
        let rows = client
            .query(
                &format!(
                    "SELECT number, position, parent, kind, num, eid, text, tasks, dimensions, themes, strength,
                         all_necessary_means, missions, emphasis
                     FROM mandate_paragraphs WHERE number IN (SELECT number FROM mandate_resolutions WHERE {SELECTED})
                     ORDER BY number, position"
                ),
                &args,
            )
            .map_err(backend)?;
        let mut by_number: std::collections::HashMap<u32, Vec<ReadRow>> = std::collections::HashMap::new();
        for r in &rows {
            by_number.entry(number_of(r.get(0))?).or_default().push(row_of(r));
        }
        for s in &mut out {
            let rows = by_number.remove(&s.resolution.number).unwrap_or_default();
            s.resolution.paragraphs = paragraphs(rows)?;
        }
        if !by_number.is_empty() {
            return Err(damaged("mandate paragraph without its resolution"));
        }
        Ok(out)
    }

    fn mandate_missions(&self) -> Result<Vec<MissionCount>, StoreError> {
        let mut client = self.client()?;
        let rows = client
            .query(
                "SELECT m.mission, count(*), min(r.adopted), max(r.adopted)
                 FROM mandate_missions m JOIN mandate_resolutions r ON r.number = m.number
                 GROUP BY m.mission ORDER BY m.mission",
                &[],
            )
            .map_err(backend)?;
        Ok(rows
            .iter()
            .map(|r| MissionCount {
                mission: r.get(0),
                resolutions: r.get::<_, i64>(1).max(0) as u64,
                first: r.get(2),
                last: r.get(3),
            })
            .collect())
    }
}
