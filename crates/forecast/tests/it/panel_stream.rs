//! The streaming `PanelBuilder` (behind `Panel::from_events`) gives the
//! same panel as the reference that held every event, on real UCDP data
//! (data/demo) with community reports mixed in.

use crate::reference;
use vitalcore_forecast::{Panel, PanelBuilder, PanelOptions};
use vitalcore_framework::{Event, Framework, Month, Source, UnitKind};

/// The Central African Republic events of UCDP GED 23.1, and a community
/// report beside every seventh of them (tagged with one or two dimensions).
fn demo_events() -> Vec<Event> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/ucdp-ged-23.1-caf.geojson");
    let parsed = vitalcore_import::read_events(path.as_ref(), &Framework::built_in(), None, &|_| {}).unwrap();
    let mut events = parsed.events;
    assert!(events.len() > 1000, "the demo file holds the UCDP events ({} read)", events.len());
    let reports: Vec<Event> = events
        .iter()
        .step_by(7)
        .enumerate()
        .map(|(i, e)| {
            let mut r = e.clone();
            r.provenance.source = Source::CommunityReport;
            r.tags.dimensions =
                if i % 2 == 0 { vec!["community".into()] } else { vec!["personal".into(), "political".into()] };
            r
        })
        .collect();
    events.extend(reports);
    events
}

fn streamed(events: &[Event], kind: UnitKind, opts: &PanelOptions) -> (Panel, usize) {
    let mut builder = PanelBuilder::new(kind);
    for e in events {
        builder.push(e);
    }
    builder.finish(opts).unwrap()
}

#[test]
fn streamed_panel_equals_the_reference_on_demo_data() {
    let events = demo_events();
    let month = |s: &str| s.parse::<Month>().unwrap();
    let cut = PanelOptions {
        first: Some(month("2015-01")),
        last: Some(month("2020-12")),
        grid_neighbours: false,
        max_event_types: 2,
    };
    let with_neighbours = PanelOptions { grid_neighbours: true, max_event_types: 4, ..PanelOptions::default() };
    let cases = [
        (UnitKind::Admin1, PanelOptions { max_event_types: 4, ..PanelOptions::default() }),
        (UnitKind::Admin1, cut.clone()),
        (UnitKind::Admin2, cut),
        (UnitKind::Country, PanelOptions { max_event_types: 3, ..PanelOptions::default() }),
        (UnitKind::Grid, with_neighbours),
    ];
    for (kind, opts) in cases {
        let expected = reference::from_events(&events, kind, &opts).unwrap();
        // Every part of the panel is exercised: targets, event types and report series.
        assert!(expected.0.n_units() > 0 && expected.0.events.iter().sum::<f64>() > 0.0);
        assert!(!expected.0.event_types.is_empty(), "{kind}: the demo data have several event types");
        assert_eq!(expected.0.community.len(), 3, "{kind}: community, personal, political");
        assert_eq!(streamed(&events, kind, &opts), expected, "{kind} {opts:?}");
        assert_eq!(Panel::from_events(&events, kind, &opts).unwrap(), expected, "{kind} {opts:?}");
    }
}
