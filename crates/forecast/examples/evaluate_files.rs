//! The backtest on event files without the CLI (same library calls as
//! `vitalcore forecast evaluate`), for when other crates of the workspace are
//! mid-edit: EVENTS LAST_MONTH UNIT START END [BOUNDARIES]
use vitalcore_forecast::{ALL_MODELS, BacktestConfig, Features, Panel, PanelOptions, Target, backtest};
use vitalcore_framework::Framework;

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let fw = Framework::built_in();
    let areas = a.get(5).map(|b| {
        let areas = vitalcore_import::read_boundaries(b.as_ref()).expect("boundaries");
        vitalcore_spatial::AreaIndex::new(&areas).expect("index")
    });
    let events = vitalcore_import::read_events(a[0].as_ref(), &fw, areas.as_ref(), &|_| {}).expect("events").events;
    let opts = PanelOptions { last: Some(a[1].parse().unwrap()), max_event_types: 4, ..PanelOptions::default() };
    let (panel, _) = Panel::from_events(&events, a[2].parse().unwrap(), &opts).unwrap();
    let features = Features::build(&panel, Target::Fatalities);
    let cfg = BacktestConfig {
        target: Target::Fatalities,
        start: a[3].parse().unwrap(),
        end: a[4].parse().unwrap(),
        horizons: vec![1, 2, 3],
        samples: 1000,
        seed: 1,
        train_window: 120,
        refit_every: 1,
        threads: 2,
        models: ALL_MODELS.to_vec(),
    };
    let r = backtest(&panel, &features, &cfg, &|_, _| {}).unwrap();
    println!("{}", serde_json::to_string(&r).unwrap());
}
