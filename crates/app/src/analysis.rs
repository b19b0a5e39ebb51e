//! What the analyses read: the stored events of a range of months, with the
//! stored community reports joined as events of their own source (counted
//! apart, never in event scores), and the options the range resolves to.
//! The CLI's assess, profile, export, index, network and warnings commands
//! all start here.
//!
//! The events are streamed from the store, never held all at once: the
//! analyses read them as a compact [`EventTable`] (about 40 bytes an event,
//! [`load_table`]) or roll them up as they come ([`for_each_in_range`]), so
//! memory follows what the analysis keeps, not the full events (about 1.2
//! KB each; 10M stored events no longer fit in memory as `Vec<Event>`).

use thiserror::Error;
use vitalcore_assess::{AssessOptions, EventTable, Period};
use vitalcore_framework::{Event, Month, UnitKind};
use vitalcore_spatial::{AreaIndex, SpatialError};
use vitalcore_store::reports::{ReportFilter, ReportStore};
use vitalcore_store::{Area, EventFilter, Store, StoreError};

/// The months and unit of an analysis. `None` months are resolved from the
/// data (the first and last month with events or reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub unit: UnitKind,
    pub from: Option<Month>,
    pub to: Option<Month>,
}

/// Why the events of a range could not be loaded. The messages name the
/// CLI options (`--from`, `--to`), as the CLI shows them.
#[derive(Debug, Error)]
pub enum AnalysisError {
    #[error("there are no events in the database for this period: import some with `vitalcore import FILE`")]
    NoEvents,
    #[error("--from {from} is after --to {to}")]
    Reversed { from: Month, to: Month },
    #[error("the stored boundaries")]
    Boundaries(#[source] SpatialError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Events in range and the resolved options, all in memory. With
/// `reports`, the community reports stored there join as `CommunityReport`
/// events: counted in their own `reports` column, never in event scores.
/// Callers pass the report store of the database they opened (see
/// [`crate::backend::Database::open`]). For many events use [`load_table`].
pub fn load(
    store: &dyn Store,
    reports: Option<&dyn ReportStore>,
    range: &Range,
    period: Period,
) -> Result<(Vec<Event>, AssessOptions), AnalysisError> {
    let mut events = Vec::new();
    let opts = for_each_in_range(store, reports, range, period, &mut |e| events.push(e.clone()))?;
    Ok((events, opts))
}

/// What [`load`] gives, as an [`EventTable`]: the events are streamed into
/// it one at a time, so memory is what the table needs.
pub fn load_table(
    store: &dyn Store,
    reports: Option<&dyn ReportStore>,
    range: &Range,
    period: Period,
) -> Result<(EventTable, AssessOptions), AnalysisError> {
    let mut builder = EventTable::default().extend();
    let opts = for_each_in_range(store, reports, range, period, &mut |e| builder.push(e))?;
    Ok((builder.finish(), opts))
}

/// Calls `visit` with each event [`load`] would give, in the same order
/// (stored events by date, then community reports), without keeping them;
/// returns the resolved options.
pub fn for_each_in_range(
    store: &dyn Store,
    reports: Option<&dyn ReportStore>,
    range: &Range,
    period: Period,
    visit: &mut dyn FnMut(&Event),
) -> Result<AssessOptions, AnalysisError> {
    let mut seen = MonthSpan::default();
    let filter = EventFilter { from: range.from, to: range.to, ..EventFilter::default() };
    store.for_each_event(&filter, &mut |e| {
        seen.add(&e);
        visit(&e);
    })?;
    let areas = store.areas()?;
    if let Some(reports) = reports {
        let in_range = |e: &Event| {
            range.from.is_none_or(|f| Month::of(e.date) >= f) && range.to.is_none_or(|t| Month::of(e.date) <= t)
        };
        for e in stored_community_events(reports, &areas)?.iter().filter(|e| in_range(e)) {
            seen.add(e);
            visit(e);
        }
    }
    let (Some(from), Some(to)) = (range.from.or(seen.first), range.to.or(seen.last)) else {
        return Err(AnalysisError::NoEvents);
    };
    if from > to {
        return Err(AnalysisError::Reversed { from, to });
    }
    let mut opts = AssessOptions::new(range.unit, from, to, period);
    opts.area_names = areas.into_iter().map(|a| (a.pcode, a.name)).collect();
    Ok(opts)
}

/// The first and last month of the events seen.
#[derive(Default)]
struct MonthSpan {
    first: Option<Month>,
    last: Option<Month>,
}

impl MonthSpan {
    fn add(&mut self, e: &Event) {
        let m = Month::of(e.date);
        self.first = Some(self.first.map_or(m, |f| f.min(m)));
        self.last = Some(self.last.map_or(m, |l| l.max(m)));
    }
}

/// The stored community reports as events placed in `areas` (empty when no
/// reports are stored); see [`crate::reports::community_events`].
pub fn stored_community_events(reports: &dyn ReportStore, areas: &[Area]) -> Result<Vec<Event>, AnalysisError> {
    let reports = reports.reports(&ReportFilter::default())?;
    if reports.is_empty() {
        return Ok(Vec::new());
    }
    let index = AreaIndex::new(areas).map_err(AnalysisError::Boundaries)?;
    Ok(crate::reports::community_events(&reports, &index))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::Date;
    use vitalcore_assess::assess;
    use vitalcore_framework::{Framework, Place, Provenance, Source, Tags};
    use vitalcore_intake::report::Reference;
    use vitalcore_intake::{CategoryMap, Channel, ContactKey, Intake, ReportDraft};
    use vitalcore_store::ImportFile;
    use vitalcore_store::testing::MemoryStore;
    use vitalcore_store_sqlite::SqliteStore;

    fn prefecture() -> Area {
        Area {
            pcode: "CF32".into(),
            name: "Nana-Grébizi".into(),
            level: 1,
            parent_pcode: None,
            country: Some("Central African Republic".into()),
            geometry: None,
        }
    }

    fn event_in_prefecture() -> Event {
        Event {
            provenance: Provenance { source: Source::Acled, source_id: "CAF1".into(), file: "e.csv".into(), line: 2 },
            date: Date::constant(2020, 6, 3),
            date_end: None,
            place: Place {
                admin1_pcode: Some("CF32".into()), admin1: Some("Nana-Grébizi".into()), ..Place::default()
            },
            event_type: "Battles".into(),
            sub_event_type: None,
            actor1: None,
            actor2: None,
            fatalities: 1,
            civilian_fatalities: None,
            civilian_targeting: false,
            notes: None,
            tags: Tags { dimensions: vec!["personal".into()], themes: Vec::new(), severity: 3, rule: "t".into() },
        }
    }

    /// An event store with one prefecture and one event in June 2020.
    fn event_store() -> SqliteStore {
        let store = SqliteStore::open_in_memory().unwrap();
        store.save_areas(&[prefecture()]).unwrap();
        let file = ImportFile {
            path: "e.csv".into(),
            sha256: "0".repeat(64),
            format: "test".into(),
            rows_read: 1,
            rows_rejected: 0,
        };
        store.import_events(&file, &[event_in_prefecture()]).unwrap();
        store
    }

    /// `n` reports of an attack in the prefecture, the month of the event
    /// (plus `outside` reports a year later, out of a June 2020 range).
    fn report_store(n: u32, outside: u32) -> MemoryStore {
        let intake = Intake::new(ContactKey::from_bytes([7; 32]), CategoryMap::built_in());
        let reports = MemoryStore::new();
        for i in 0..n + outside {
            let draft = ReportDraft {
                text: format!("armed men attacked the market, report {i}"),
                category: Some("attack".into()),
                area_pcode: Some("CF32".into()),
                event_time: Some(if i < n { "2020-06-10" } else { "2021-06-10" }.into()),
                ..ReportDraft::default()
            };
            let received = "2021-07-01T00:00:00Z".parse().unwrap();
            let report = intake.accept_as(&draft, Channel::WebForm, received, Reference::from_number(i + 1)).unwrap();
            reports.insert_report(&report).unwrap();
        }
        reports
    }

    fn reports_counted(events: &[Event], opts: &AssessOptions) -> u64 {
        // Each report is counted once per category it carries: count the
        // rows of one category so the total is the number of reports.
        let result = assess(events, &Framework::built_in(), opts);
        result.rows.iter().filter(|r| r.category == "personal").map(|r| r.reports).sum()
    }

    fn june_2020() -> Range {
        Range {
            unit: UnitKind::Admin1,
            from: Some(Month::new(2020, 6).unwrap()),
            to: Some(Month::new(2020, 6).unwrap()),
        }
    }

    #[test]
    fn reports_passed_explicitly_are_counted_in_range_and_only_then() {
        let store = event_store();
        let reports = report_store(3, 2);
        let (with, opts) = load(&store, Some(&reports), &june_2020(), Period::Month).unwrap();
        assert_eq!(with.iter().filter(|e| e.provenance.source == Source::CommunityReport).count(), 3);
        assert_eq!(reports_counted(&with, &opts), 3);
        let (without, opts) = load(&store, None, &june_2020(), Period::Month).unwrap();
        assert_eq!(without.len(), 1, "only the stored event without a report store");
        assert_eq!(reports_counted(&without, &opts), 0);
    }

    #[test]
    fn reports_widen_an_open_range_to_their_months() {
        let store = event_store();
        let reports = report_store(1, 1);
        let open = Range { unit: UnitKind::Admin1, from: None, to: None };
        let (_, opts) = load(&store, Some(&reports), &open, Period::Month).unwrap();
        assert_eq!((opts.from, opts.to), (Month::new(2020, 6).unwrap(), Month::new(2021, 6).unwrap()));
        let (_, opts) = load(&store, None, &open, Period::Month).unwrap();
        assert_eq!((opts.from, opts.to), (Month::new(2020, 6).unwrap(), Month::new(2020, 6).unwrap()));
    }
}
