//! Security Council resolutions read and tagged: vitalcore-store's
//! [`MandateStore`] in this database (schema `migrations/0012_mandates.sql`;
//! the same tables and encodings as the PostgreSQL store).

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use vitalcore_mandate::Resolution;
use vitalcore_store::StoreError;
use vitalcore_store::forecasts::damaged;
use vitalcore_store::mandates::{
    MandateCounts, MandateStore, MissionCount, Provenance, ReadRow, ResolutionFilter, StoredResolution, content_hash,
    ids, paragraphs, rows,
};

use crate::{SqliteStore, backend};

/// The resolutions a filter selects (parameters ?1 mission, ?2 number, ?3 adopted after).
const SELECTED: &str = "(?1 IS NULL OR number IN (SELECT number FROM mandate_missions WHERE mission = ?1))
    AND (?2 IS NULL OR number = ?2) AND (?3 IS NULL OR adopted > ?3)";

fn insert(conn: &Connection, res: &Resolution, from: &Provenance, hash: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO mandate_resolutions (number, symbol, adopted, year, chapter_vii, agenda_item, missions,
             content_hash, file_name, file_sha256, imported_at, imported_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            res.number,
            res.symbol,
            res.date,
            res.year,
            res.chapter_vii,
            res.agenda_item,
            res.missions.join(","),
            hash,
            from.file,
            from.sha256,
            from.imported_at,
            from.imported_by
        ],
    )
    .map_err(backend)?;
    let mut para = conn
        .prepare_cached(
            "INSERT INTO mandate_paragraphs (number, position, parent, kind, num, eid, text, tasks, dimensions,
                 themes, strength, all_necessary_means, missions, emphasis)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )
        .map_err(backend)?;
    for r in rows(res) {
        para.execute(params![
            res.number,
            r.position,
            r.parent,
            r.kind,
            r.num,
            r.eid,
            r.text,
            r.tasks,
            r.dimensions,
            r.themes,
            r.strength,
            r.all_necessary_means,
            r.missions,
            r.emphasis
        ])
        .map_err(backend)?;
    }
    let mut mission =
        conn.prepare_cached("INSERT INTO mandate_missions (mission, number) VALUES (?1, ?2)").map_err(backend)?;
    for m in &res.missions {
        mission.execute(params![m, res.number]).map_err(backend)?;
    }
    Ok(())
}

impl MandateStore for SqliteStore {
    fn import_resolutions(&self, batch: &[(Resolution, Provenance)]) -> Result<MandateCounts, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
        let mut counts = MandateCounts::default();
        for (res, from) in batch {
            let hash = content_hash(res);
            let stored: Option<String> = tx
                .query_row("SELECT content_hash FROM mandate_resolutions WHERE number = ?1", [res.number], |r| r.get(0))
                .optional()
                .map_err(backend)?;
            match stored {
                Some(h) if h == hash => counts.unchanged += 1,
                Some(_) => {
                    tx.execute("DELETE FROM mandate_resolutions WHERE number = ?1", [res.number]).map_err(backend)?;
                    insert(&tx, res, from, &hash)?;
                    counts.replaced += 1;
                }
                None => {
                    insert(&tx, res, from, &hash)?;
                    counts.new += 1;
                }
            }
        }
        tx.commit().map_err(backend)?;
        Ok(counts)
    }

    fn resolutions(&self, filter: &ResolutionFilter) -> Result<Vec<StoredResolution>, StoreError> {
        let args = params![filter.mission, filter.number, filter.adopted_after];
        self.read(|conn| {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT number, symbol, adopted, year, chapter_vii, agenda_item, missions, file_name,
                         file_sha256, imported_at, imported_by
                     FROM mandate_resolutions WHERE {SELECTED} ORDER BY adopted, number"
                ))
                .map_err(backend)?;
            let mut out: Vec<StoredResolution> = stmt
                .query_map(args, |r| {
                    Ok(StoredResolution {
                        resolution: Resolution {
                            number: r.get(0)?,
                            symbol: r.get(1)?,
                            date: r.get(2)?,
                            year: r.get(3)?,
                            chapter_vii: r.get(4)?,
                            agenda_item: r.get(5)?,
                            missions: ids(&r.get::<_, String>(6)?),
                            source_file: r.get(7)?,
                            ..Resolution::default()
                        },
                        provenance: Provenance {
                            file: r.get(7)?,
                            sha256: r.get(8)?,
                            imported_at: r.get(9)?,
                            imported_by: r.get(10)?,
                        },
                    })
                })
                .map_err(backend)?
                .collect::<Result<_, _>>()
                .map_err(backend)?;
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT number, position, parent, kind, num, eid, text, tasks, dimensions, themes, strength,
                         all_necessary_means, missions, emphasis
                     FROM mandate_paragraphs WHERE number IN (SELECT number FROM mandate_resolutions WHERE {SELECTED})
                     ORDER BY number, position"
                ))
                .map_err(backend)?;
            let mut by_number: std::collections::HashMap<u32, Vec<ReadRow>> = std::collections::HashMap::new();
            let read = stmt
                .query_map(args, |r| {
                    Ok((
                        r.get::<_, u32>(0)?,
                        ReadRow {
                            position: r.get(1)?,
                            parent: r.get(2)?,
                            kind: r.get(3)?,
                            num: r.get(4)?,
                            eid: r.get(5)?,
                            text: r.get(6)?,
                            tasks: r.get(7)?,
                            dimensions: r.get(8)?,
                            themes: r.get(9)?,
                            strength: r.get(10)?,
                            all_necessary_means: r.get(11)?,
                            missions: r.get(12)?,
                            emphasis: r.get(13)?,
                        },
                    ))
                })
                .map_err(backend)?;
            for row in read {
                let (number, row) = row.map_err(backend)?;
                by_number.entry(number).or_default().push(row);
            }
            for s in &mut out {
                let rows = by_number.remove(&s.resolution.number).unwrap_or_default();
                s.resolution.paragraphs = paragraphs(rows)?;
            }
            if !by_number.is_empty() {
                return Err(damaged("mandate paragraph without its resolution"));
            }
            Ok(out)
        })
    }

    fn mandate_missions(&self) -> Result<Vec<MissionCount>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT m.mission, count(*), min(r.adopted), max(r.adopted)
                     FROM mandate_missions m JOIN mandate_resolutions r ON r.number = m.number
                     GROUP BY m.mission ORDER BY m.mission",
                )
                .map_err(backend)?;
            stmt.query_map([], |r| {
                Ok(MissionCount {
                    mission: r.get(0)?,
                    resolutions: r.get::<_, i64>(1)? as u64,
                    first: r.get(2)?,
                    last: r.get(3)?,
                })
            })
            .map_err(backend)?
            .collect::<Result<_, _>>()
            .map_err(backend)
        })
    }
}
