//! What the file-reading examples (`evaluate_files`, `stack_weights`) share:
//! their `--key value` options and the monthly panel built from event files.
use std::collections::HashMap;
use vitalcore_forecast::{Panel, PanelOptions, Target};
use vitalcore_framework::{Event, Framework, Month, UnitKind};

/// `--key value` pairs; a key given twice keeps both values (`--events`).
pub struct Opts(HashMap<String, Vec<String>>);

impl Opts {
    pub fn from_args() -> Opts {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut opt: HashMap<String, Vec<String>> = HashMap::new();
        for pair in args.chunks_exact(2) {
            opt.entry(pair[0].trim_start_matches("--").to_string()).or_default().push(pair[1].clone());
        }
        Opts(opt)
    }

    /// The last value given for `key`.
    pub fn one(&self, key: &str) -> Option<String> {
        self.0.get(key).and_then(|v| v.last().cloned())
    }

    pub fn month(&self, key: &str) -> Option<Month> {
        self.one(key).map(|v| v.parse::<Month>().unwrap_or_else(|e| panic!("--{key}: {e}")))
    }
}

/// The events of every `--events FILE` (placed in `--boundaries FILE` when
/// given, kept to `--country NAME` when given), their panel by `--unit`
/// between `--first` and `--last`, and the `--target`.
pub fn panel_from_files(opt: &Opts) -> (Vec<Event>, Panel, Target) {
    let framework = Framework::built_in();
    let areas = opt.one("boundaries").map(|p| {
        let a = vitalcore_import::read_boundaries(p.as_ref()).expect("boundaries");
        vitalcore_spatial::AreaIndex::new(&a).expect("index")
    });
    let mut events = Vec::new();
    for p in opt.0.get("events").expect("--events FILE") {
        events.extend(
            vitalcore_import::read_events(p.as_ref(), &framework, areas.as_ref(), &|_| {}).expect("events").events,
        );
    }
    if let Some(c) = opt.one("country") {
        let is = |v: &Option<String>| v.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(&c));
        events.retain(|e| is(&e.place.country) || is(&e.place.iso3));
    }
    let unit: UnitKind = opt.one("unit").unwrap_or("admin1".into()).parse().expect("--unit");
    let target: Target = opt.one("target").unwrap_or("fatalities".into()).parse().expect("--target");
    let opts =
        PanelOptions { first: opt.month("first"), last: opt.month("last"), grid_neighbours: false, max_event_types: 4 };
    let (panel, _) = Panel::from_events(&events, unit, &opts).expect("panel");
    (events, panel, target)
}
