//! ACLED's "monadic" exports: one row per actor. The export tool can write an
//! event as several consecutive rows with the same `event_id_cnty` (and
//! `data_id`), the same date, place, notes and fatalities, differing only in
//! the actor columns (`actor1`, `assoc_actor_1`, `inter1`, and on the other
//! side `actor2`, `assoc_actor_2`, `inter2`, `interaction`). Read as they are,
//! such rows either look like a conflict (same id, different content) or,
//! accepted, count the event and its fatalities once per actor.
//!
//! The one rule, used by `import`, `forecast --events` (through
//! [`crate::read_events`]) and `aggregate` (which applies [`same_event`]'s
//! definition on the columns it reads): **a row whose id equals the previous
//! row's id and whose content equals it except for the actor columns is the
//! same event**. Its actors are added to the event, its fatalities are not.
//! Rows with the same id that differ in anything else (date, fatalities,
//! place, notes...) are a true conflict and stay apart, so the store's batch
//! rule refuses the file as before.

use vitalcore_framework::Event;

/// The actor columns that may differ between the rows of one event.
pub const ACTOR_COLUMNS: [&str; 7] =
    ["actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction"];

/// How actors beyond the first are joined in `actor2` (ACLED's own separator
/// in `assoc_actor_*`).
const ACTOR_SEPARATOR: &str = "; ";

/// Whether `next` is another row of the event `first`: same source id and
/// the same content but for the actors and the row's line.
pub fn same_event(first: &Event, next: &Event) -> bool {
    let (a, b) = (first, next);
    a.provenance.source == b.provenance.source
        && a.provenance.source_id == b.provenance.source_id
        && a.date == b.date
        && a.date_end == b.date_end
        && a.fatalities == b.fatalities
        && a.civilian_fatalities == b.civilian_fatalities
        && a.place == b.place
        && a.event_type == b.event_type
        && a.sub_event_type == b.sub_event_type
        && a.civilian_targeting == b.civilian_targeting
        && a.notes == b.notes
        && a.tags == b.tags
}

/// Adds the actors of `row` (another row of the same event) to `event`:
/// the first actor stays `actor1`, every other distinct actor goes in
/// `actor2`, joined with `; `. Fatalities are counted once.
pub fn add_actors(event: &mut Event, row: &Event) {
    for actor in [&row.actor1, &row.actor2].into_iter().flatten() {
        let known = event.actor1.as_deref() == Some(actor.as_str())
            || event.actor2.as_deref().is_some_and(|a| a.split(ACTOR_SEPARATOR).any(|x| x == actor));
        if known {
            continue;
        }
        match (&mut event.actor1, &mut event.actor2) {
            (None, _) => event.actor1 = Some(actor.clone()),
            (Some(_), None) => event.actor2 = Some(actor.clone()),
            (Some(_), Some(more)) => {
                more.push_str(ACTOR_SEPARATOR);
                more.push_str(actor);
            }
        }
    }
}

/// Folds consecutive rows of one event into one, as rows arrive (bounded
/// memory: only the event being built is held).
#[derive(Default)]
pub struct MonadicMerger {
    pending: Option<Event>,
    /// Rows folded into an earlier row of their event.
    pub merged_rows: u64,
}

impl MonadicMerger {
    /// Takes the next row; returns the previous event when `row` starts a new one.
    pub fn push(&mut self, row: Event) -> Option<Event> {
        if let Some(event) = &mut self.pending
            && same_event(event, &row)
        {
            add_actors(event, &row);
            self.merged_rows += 1;
            return None;
        }
        self.pending.replace(row)
    }

    /// The last event, at the end of the file.
    pub fn finish(&mut self) -> Option<Event> {
        self.pending.take()
    }
}

/// For readers that use events straight from files (`forecast --events`),
/// the store's batch rule: a later row with an id already read and the same
/// content is dropped (returns how many); with other content the file is
/// refused, since which of the two rows is right cannot be told.
pub fn one_event_per_id(events: &mut Vec<Event>) -> Result<u64, crate::ImportError> {
    let mut first: std::collections::HashMap<(vitalcore_framework::Source, &str), usize> =
        std::collections::HashMap::with_capacity(events.len());
    let mut repeats = Vec::new();
    for (i, e) in events.iter().enumerate() {
        match first.entry((e.provenance.source, e.provenance.source_id.as_str())) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(i);
            }
            std::collections::hash_map::Entry::Occupied(seen) => {
                let a = &events[*seen.get()];
                if same_event(a, e) && a.actor1 == e.actor1 && a.actor2 == e.actor2 {
                    repeats.push(i);
                } else {
                    return Err(crate::ImportError::Conflict {
                        file: e.provenance.file.clone(),
                        id: e.provenance.source_id.clone(),
                        first_line: a.provenance.line,
                        second_line: e.provenance.line,
                    });
                }
            }
        }
    }
    drop(first);
    let dropped = repeats.len() as u64;
    for i in repeats.into_iter().rev() {
        events.remove(i);
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitalcore_framework::{Provenance, Source};

    fn row(id: &str, actor1: &str, fatalities: u32) -> Event {
        Event {
            provenance: Provenance { source: Source::Acled, source_id: id.into(), file: "f.csv".into(), line: 2 },
            date: jiff::civil::date(2024, 3, 1),
            date_end: None,
            place: Default::default(),
            event_type: "Battles".into(),
            sub_event_type: None,
            actor1: Some(actor1.into()),
            actor2: None,
            fatalities,
            civilian_fatalities: None,
            civilian_targeting: false,
            notes: Some("n".into()),
            tags: Default::default(),
        }
    }

    #[test]
    fn folds_the_rows_of_one_event_and_keeps_others_apart() {
        let mut m = MonadicMerger::default();
        let mut out = Vec::new();
        for r in [row("A1", "X", 4), row("A1", "Y", 4), row("A1", "Z", 4), row("A2", "X", 1), row("A2", "X", 2)] {
            out.extend(m.push(r));
        }
        out.extend(m.finish());
        assert_eq!(m.merged_rows, 2);
        assert_eq!(out.len(), 3, "A1 merged; A2's two rows differ in fatalities: a conflict, kept apart");
        assert_eq!(out[0].actor1.as_deref(), Some("X"));
        assert_eq!(out[0].actor2.as_deref(), Some("Y; Z"));
        assert_eq!(out[0].fatalities, 4);
        assert_eq!((out[1].fatalities, out[2].fatalities), (1, 2));
        let mut twice = vec![out[0].clone(), out[0].clone()];
        assert_eq!(one_event_per_id(&mut twice).unwrap(), 1);
        assert_eq!(twice.len(), 1);
        let mut conflict = out[1..].to_vec();
        assert!(one_event_per_id(&mut conflict).is_err());
    }
}
