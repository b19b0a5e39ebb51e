//! Integration tests of vitalcore-forecast on synthetic events and panels
//! (no data files needed).

use jiff::civil::date;
use vitalcore_forecast::metrics::Draws;
use vitalcore_forecast::models::OriginState;
use vitalcore_forecast::rng::Rng;
use vitalcore_forecast::score_engine::{Score, score_matrix};
use vitalcore_forecast::synthetic::{SyntheticGrid, synthetic_grid};
use vitalcore_forecast::warnings::{BurstParams, Quantity, burst_warnings, threshold_warnings};
use vitalcore_forecast::{
    ALL_MODELS, BacktestConfig, Features, ModelKind, Panel, PanelOptions, RunConfig, Target, UnitForecast, backtest,
    forecast,
};
use vitalcore_framework::{Event, Month, Place, Provenance, Source, Tags, UnitKind};

fn event(y: i16, m: i8, admin1: &str, pcode: Option<&str>, fatalities: u32, source: Source) -> Event {
    Event {
        provenance: Provenance { source, source_id: format!("{y}{m}{admin1}"), file: "t.csv".into(), line: 2 },
        date: date(y, m, 15),
        date_end: None,
        place: Place {
            country: Some("Testland".into()),
            admin1: Some(admin1.into()),
            admin1_pcode: pcode.map(String::from),
            latitude: Some(4.0),
            longitude: Some(20.0),
            ..Place::default()
        },
        event_type: "Battles".into(),
        sub_event_type: None,
        actor1: None,
        actor2: None,
        fatalities,
        civilian_fatalities: None,
        civilian_targeting: false,
        notes: None,
        tags: Tags { dimensions: vec!["personal".into()], ..Tags::default() },
    }
}

fn month(s: &str) -> Month {
    s.parse().unwrap()
}

#[test]
fn panel_fills_months_without_events_with_zeros() {
    let events = vec![
        event(2020, 1, "North", None, 5, Source::Acled),
        event(2020, 1, "North", None, 2, Source::Acled),
        event(2020, 3, "South", None, 1, Source::Acled),
        event(2020, 3, "South", None, 0, Source::CommunityReport),
    ];
    let (p, skipped) = Panel::from_events(&events, UnitKind::Admin1, &PanelOptions::default()).unwrap();
    assert_eq!(skipped, 0);
    assert_eq!(p.months, 3, "January to March");
    assert_eq!(p.n_units(), 2);
    let north = p.units.iter().position(|u| u.name == "North").unwrap();
    let south = p.units.iter().position(|u| u.name == "South").unwrap();
    assert_eq!(p.value(Target::Fatalities, north, 0), 7.0);
    assert_eq!(p.value(Target::Events, north, 0), 2.0);
    assert_eq!(p.value(Target::Fatalities, north, 1), 0.0, "February is filled with zero");
    assert_eq!(p.value(Target::Events, south, 1), 0.0);
    // the community report counts as a report, not as an event
    assert_eq!(p.value(Target::Events, south, 2), 1.0);
    assert_eq!(p.community.len(), 1);
    assert_eq!(p.community[0].0, "personal");
    assert_eq!(p.community_total(south), vec![0.0, 0.0, 1.0]);
    assert_eq!(p.units[north].id, "Testland/North");
}

#[test]
fn panel_prefers_pcodes_and_extends_to_requested_months() {
    let events = vec![
        event(2020, 2, "Nord", Some("CF41"), 1, Source::UcdpGed),
        event(2020, 2, "North", Some("CF41"), 1, Source::UcdpGed),
    ];
    let opts = PanelOptions { first: Some(month("2019-12")), last: Some(month("2020-04")), ..PanelOptions::default() };
    let (p, _) = Panel::from_events(&events, UnitKind::Admin1, &opts).unwrap();
    assert_eq!(p.n_units(), 1, "same P-code, two spellings: one unit");
    assert_eq!(p.units[0].id, "CF41");
    assert_eq!(p.months, 5);
    assert_eq!(p.value(Target::Fatalities, 0, 2), 2.0);
}

#[test]
fn grid_panel_adds_neighbour_cells_on_request() {
    let events = vec![event(2020, 1, "A", None, 3, Source::UcdpGed)];
    let (plain, _) = Panel::from_events(&events, UnitKind::Grid, &PanelOptions::default()).unwrap();
    assert_eq!(plain.n_units(), 1);
    let opts = PanelOptions { grid_neighbours: true, ..PanelOptions::default() };
    let (p, _) = Panel::from_events(&events, UnitKind::Grid, &opts).unwrap();
    assert_eq!(p.n_units(), 9);
    assert_eq!(p.neighbours[0].len(), 8, "the event cell sees its 8 neighbours");
    assert_eq!(p.fatalities.iter().sum::<f64>(), 3.0);
}

#[test]
fn events_without_the_unit_are_reported_not_invented() {
    let mut e = event(2020, 1, "", None, 1, Source::Acled);
    e.place.admin1 = None;
    let err = Panel::from_events(&[e], UnitKind::Admin1, &PanelOptions::default()).unwrap_err();
    assert!(err.to_string().contains("admin1"), "{err}");
}

/// A one-unit panel with the given monthly fatalities.
fn series_panel(values: &[f64]) -> Panel {
    let mut p = synthetic_grid(SyntheticGrid { rows: 1, cols: 1, months: values.len(), zones_per_decade: 0, seed: 3 });
    p.fatalities = values.to_vec();
    p.events = values.iter().map(|&v| (v > 0.0) as u8 as f64).collect();
    p
}

#[test]
fn baselines_behave_as_defined() {
    let mut values = vec![0.0; 40];
    values[10] = 50.0; // inside the last 36 months (4..=39) at origin 39
    values[2] = 999.0; // before the 36-month window
    values[30] = 4.0;
    values[39] = 6.0;
    let p = series_panel(&values);
    let f = Features::build(&p, Target::Fatalities);
    let s = OriginState::new(&p.fatalities, p.months, 1, &f, 39, 39, 1, 120, false);
    let mut rng = Rng::new(5);
    let zero = s.draw(ModelKind::Zero, 0, 1, 500, &mut rng);
    assert_eq!(zero, Draws::zero(500));
    let last = s.draw(ModelKind::Last, 0, 1, 4000, &mut rng);
    assert!((last.view().mean() - 6.0).abs() < 0.3, "Poisson around the last value: {}", last.view().mean());
    let c = s.draw(ModelKind::Conflictology, 0, 1, 3600, &mut rng);
    assert!(c.pos.iter().all(|&v| [50.0, 4.0, 6.0].contains(&v)), "only values of the last 36 months");
    let share = c.pos.len() as f64 / 3600.0;
    assert!((share - 3.0 / 36.0).abs() < 0.02, "3 of 36 months were non-zero: {share}");
    let b = s.draw(ModelKind::Bootstrap, 0, 1, 4000, &mut rng);
    assert!(b.pos.contains(&999.0), "the bootstrap reads the whole training window");
    assert!(b.pos.iter().all(|&v| [999.0, 50.0, 4.0, 6.0].contains(&v)));
    let share = b.pos.len() as f64 / 4000.0;
    assert!((share - 4.0 / 40.0).abs() < 0.02, "4 of 40 unit-months non-zero: {share}");
    // last value zero: a point mass at zero
    let mut quiet = values.clone();
    quiet[39] = 0.0;
    let q = series_panel(&quiet);
    let fq = Features::build(&q, Target::Fatalities);
    let sq = OriginState::new(&q.fatalities, q.months, 1, &fq, 39, 39, 1, 120, false);
    assert_eq!(sq.draw(ModelKind::Last, 0, 1, 100, &mut rng), Draws::zero(100));
}

fn small_backtest(seed: u64, models: Vec<ModelKind>) -> (Panel, BacktestConfig) {
    let panel = synthetic_grid(SyntheticGrid { rows: 18, cols: 18, months: 132, zones_per_decade: 30, seed: 11 });
    let end = panel.last().plus(-3);
    let cfg = BacktestConfig {
        target: Target::Fatalities,
        start: end.plus(-17),
        end,
        horizons: vec![1, 2, 3],
        samples: 200,
        seed,
        train_window: 96,
        refit_every: 6,
        threads: 2,
        models,
    };
    (panel, cfg)
}

#[test]
fn hurdle_model_beats_conflictology_on_a_persistent_clustered_process() {
    // The synthetic process is persistent (conflict zones last months to
    // years, cells keep a propensity) and spatially clustered: a model that
    // reads recent levels and neighbours should beat resampling the last
    // 36 months, which forgets whether a zone has switched on or off.
    let (panel, cfg) = small_backtest(1, vec![ModelKind::Conflictology, ModelKind::Hurdle, ModelKind::Zero]);
    let features = Features::build(&panel, Target::Fatalities);
    let r = backtest(&panel, &features, &cfg, &|_, _| {}).unwrap();
    for h in ["h1", "h2", "h3"] {
        let learned = &r.models["hurdle"][h];
        let conf = &r.models["conflictology"][h];
        assert!(learned.crps < conf.crps, "{h}: hurdle {} vs conflictology {}", learned.crps, conf.crps);
        assert!(learned.brier < conf.brier, "{h}: brier {} vs {}", learned.brier, conf.brier);
        let bias = learned.bias_ratio.unwrap();
        assert!((0.7..1.4).contains(&bias), "{h}: bias ratio {bias}");
        assert!(r.models["zero"][h].bias_ratio == Some(0.0));
    }
    assert_eq!(r.best, "hurdle");
    assert_eq!(r.origins.len(), 18);
}

#[test]
fn same_seed_same_scores_other_seed_other_draws() {
    let (panel, cfg) = small_backtest(7, vec![ModelKind::Last, ModelKind::Hurdle]);
    let features = Features::build(&panel, Target::Fatalities);
    let a = backtest(&panel, &features, &cfg, &|_, _| {}).unwrap();
    let one_thread = BacktestConfig { threads: 1, ..cfg.clone() };
    let b = backtest(&panel, &features, &one_thread, &|_, _| {}).unwrap();
    assert_eq!(a.models, b.models, "thread count does not change the draws");
    let other = BacktestConfig { seed: 8, ..cfg };
    let c = backtest(&panel, &features, &other, &|_, _| {}).unwrap();
    assert_ne!(a.models["hurdle"]["h1"].crps, c.models["hurdle"]["h1"].crps);
}

#[test]
fn ensemble_pools_the_hurdle_and_the_baselines_in_the_fixed_shares() {
    use vitalcore_forecast::ensemble::{STACK_WEIGHTS, component_draws, pool};
    let a = Draws::from_positive(3, vec![4.0]);
    let b = Draws::from_positive(2, vec![1.0, 9.0]);
    assert_eq!(pool(&a, &b), Draws::from_positive(5, vec![1.0, 4.0, 9.0]));
    assert_eq!(component_draws(1000), [850, 50, 50, 50]);

    // One quiet unit next to a violent one: for the quiet unit, last value
    // and conflictology are point masses at 0, so the ensemble's P(any) is
    // w_hurdle x the hurdle's + w_bootstrap x the bootstrap's.
    let mut p = synthetic_grid(SyntheticGrid { rows: 1, cols: 2, months: 60, zones_per_decade: 0, seed: 3 });
    p.fatalities = vec![0.0; 120];
    for t in (0..60).step_by(3) {
        p.fatalities[60 + t] = 40.0; // unit 1: 40 every third month
    }
    p.events = p.fatalities.iter().map(|&v| (v > 0.0) as u8 as f64).collect();
    let f = Features::build(&p, Target::Fatalities);
    let s = OriginState::new(&p.fatalities, p.months, 2, &f, 59, 59, 1, 48, true);
    let n = 200_000;
    let ens = s.draw(ModelKind::Ensemble, 0, 1, n, &mut Rng::new(9));
    let hurdle = s.draw(ModelKind::Hurdle, 0, 1, n, &mut Rng::new(10));
    let boot = s.draw(ModelKind::Bootstrap, 0, 1, n, &mut Rng::new(11));
    let share = |d: &Draws| d.pos.len() as f64 / d.n as f64;
    let w = |m: ModelKind| STACK_WEIGHTS.iter().find(|(k, _)| *k == m).unwrap().1;
    let expected = w(ModelKind::Hurdle) * share(&hurdle) + w(ModelKind::Bootstrap) * share(&boot);
    assert_eq!(ens.n, n);
    assert!((share(&ens) - expected).abs() < 0.004, "P(any) {} vs {expected}", share(&ens));
    assert!(share(&boot) > 0.1, "the bootstrap pool holds the other unit's months");
    // the same draws again from the same seed
    assert_eq!(s.draw(ModelKind::Ensemble, 0, 1, n, &mut Rng::new(9)), ens);

    let (panel, cfg) = small_backtest(3, vec![ModelKind::Conflictology, ModelKind::Ensemble, ModelKind::Hurdle]);
    let features = Features::build(&panel, Target::Fatalities);
    let r = backtest(&panel, &features, &cfg, &|_, _| {}).unwrap();
    for h in ["h1", "h2", "h3"] {
        let (e, hu) = (&r.models["ensemble"][h], &r.models["hurdle"][h]);
        assert!(e.crps.is_finite() && e.n == hu.n && e.mean_obs == hu.mean_obs);
        assert!(e.crps < r.models["conflictology"][h].crps, "{h}: {} vs conflictology", e.crps);
    }
}

#[test]
fn spatial_lag_sums_the_neighbours_of_a_grid_cell() {
    // a 3 x 3 block of cells around one event cell (grid_neighbours), with
    // events in the centre and in two of its neighbours
    let mut centre = event(2020, 1, "A", None, 3, Source::UcdpGed);
    centre.place.latitude = Some(4.25);
    centre.place.longitude = Some(20.25);
    let mut north = centre.clone();
    north.place.latitude = Some(4.75);
    north.fatalities = 5;
    let mut east = centre.clone();
    east.place.longitude = Some(20.75);
    east.fatalities = 7;
    east.date = date(2020, 2, 15);
    let opts = PanelOptions { grid_neighbours: true, ..PanelOptions::default() };
    let (p, _) = Panel::from_events(&[centre, north, east], UnitKind::Grid, &opts).unwrap();
    let f = Features::build(&p, Target::Fatalities);
    let lag = f.names.iter().position(|n| n == "spatial_lag1").unwrap();
    let unit = |lat: f64, lon: f64| {
        let gid = vitalcore_framework::prio_grid_gid(lat, lon).unwrap().to_string();
        p.units.iter().position(|u| u.id == gid).unwrap()
    };
    let (c, n, e) = (unit(4.25, 20.25), unit(4.75, 20.25), unit(4.25, 20.75));
    let jan = p.month_index(month("2020-01")).unwrap();
    let feb = jan + 1;
    // centre in January: its neighbours hold 5 (north), not its own 3
    assert!((f.row(c, jan)[lag] as f64 - 5f64.ln_1p()).abs() < 1e-6);
    // centre in February: 7 (east)
    assert!((f.row(c, feb)[lag] as f64 - 7f64.ln_1p()).abs() < 1e-6);
    // north in January: the centre's 3 (east is a diagonal neighbour of north, and quiet then)
    assert!((f.row(n, jan)[lag] as f64 - 3f64.ln_1p()).abs() < 1e-6);
    // east in January: centre 3 + north 5 (diagonal)
    assert!((f.row(e, jan)[lag] as f64 - 8f64.ln_1p()).abs() < 1e-6);
}

#[test]
fn forecasts_ahead_summarise_the_draws_consistently() {
    let (panel, _) = small_backtest(1, vec![]);
    let features = Features::build(&panel, Target::Fatalities);
    let cfg = RunConfig {
        target: Target::Fatalities,
        horizons: vec![1, 2],
        samples: 500,
        seed: 3,
        train_window: 96,
        model: ModelKind::Hurdle,
    };
    let rows = forecast(&panel, &features, &cfg).unwrap();
    assert_eq!(rows.len(), panel.n_units() * 2);
    for r in &rows {
        assert!(r.p_ge_25 <= r.p_ge_10 && r.p_ge_10 <= r.p_ge_1 && (r.p_ge_1 - r.p_any).abs() < 1e-12);
        assert!(r.q05 <= r.q50 && r.q50 <= r.q95);
        assert_eq!(r.month, panel.last().plus(r.horizon as i32));
    }
    assert!(rows.iter().any(|r| r.p_any > 0.5), "some cells of an active zone are forecast to see violence");
}

#[test]
fn score_engine_matches_per_row_scoring() {
    let mut rng = Rng::new(9);
    let (rows, n) = (300, 50);
    // mostly zeros and small counts, plus values the counting sort must merge
    // in: fractions, counts above 255, a few negative rows
    let samples: Vec<f64> = (0..rows * n)
        .map(|i| match rng.below(20) {
            0..=12 => 0.0,
            13..=16 => rng.poisson(4.0) as f64,
            17 => rng.poisson(4.0) as f64 + 0.5,
            18 => 200.0 + rng.poisson(100.0) as f64,
            _ if (i / n) % 10 == 0 => -(rng.poisson(2.0) as f64),
            _ => 3.0,
        })
        .collect();
    let obs: Vec<f64> = (0..rows).map(|_| rng.poisson(1.0) as f64).collect();
    let out = score_matrix(&obs, &samples, n, &[Score::Crps, Score::Ignorance, Score::Interval], 3).unwrap();
    for r in 0..rows {
        let row = &samples[r * n..(r + 1) * n];
        let d = Draws::from_samples(row);
        // brute-force CRPS: E|X-y| - 0.5 E|X-X'| over all pairs
        let e1: f64 = row.iter().map(|x| (x - obs[r]).abs()).sum::<f64>() / n as f64;
        let e2: f64 = row.iter().flat_map(|a| row.iter().map(move |b| (a - b).abs())).sum::<f64>() / (n * n) as f64;
        assert!((out[0][r] - (e1 - 0.5 * e2)).abs() < 1e-9);
        assert_eq!(out[1][r], d.view().ignorance(obs[r]));
        assert_eq!(out[2][r], d.view().interval_score(obs[r], 0.95));
        // the interval score by hand from a fully sorted copy
        let mut sorted = row.to_vec();
        sorted.sort_by(f64::total_cmp);
        let q = |p: f64| {
            let vi = p * (n - 1) as f64;
            let i = vi.floor() as usize;
            sorted[i] + (vi - vi.floor()) * (sorted[(i + 1).min(n - 1)] - sorted[i])
        };
        let (l, u) = (q(0.025), q(0.975));
        let by_hand = (u - l) + 40.0 * (l - obs[r]).max(0.0) + 40.0 * (obs[r] - u).max(0.0);
        assert!((out[2][r] - by_hand).abs() < 1e-9 * by_hand.abs().max(1.0), "{} vs {by_hand}", out[2][r]);
    }
    assert!(score_matrix(&obs, &samples[1..], n, &[Score::Crps], 1).is_err());
}

#[test]
fn score_engine_on_whole_number_draws_matches_brute_force() {
    // the histogram path: whole-number draws only, mostly-zero and dense
    // rows, counts above 255 (the sorted tail), n not a multiple of 8,
    // observations that are fractions, negative, or in the open top bin
    let mut rng = Rng::new(21);
    let (rows, n) = (240, 203);
    let counts: Vec<u16> = (0..rows * n)
        .map(|i| match (i / n) % 4 {
            0 => 0,
            1 => {
                if rng.below(40) == 0 {
                    rng.poisson(2.0) as u16
                } else {
                    0
                }
            }
            2 => rng.poisson(6.0) as u16,
            _ => match rng.below(10) {
                0..=3 => 0,
                4..=7 => rng.poisson(30.0) as u16,
                8 => 250 + rng.poisson(10.0) as u16,
                _ => 900 + rng.below(3000) as u16,
            },
        })
        .collect();
    let obs: Vec<f64> = (0..rows)
        .map(|r| match r % 6 {
            0 => 0.0,
            1 => 2.5,
            2 => -1.0,
            3 => 1500.0,
            _ => rng.poisson(5.0) as f64,
        })
        .collect();
    let all = [Score::Crps, Score::Ignorance, Score::Interval];
    let out = score_matrix(&obs, &counts, n, &all, 2).unwrap();
    let as_f64: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
    let bits = |v: &Vec<Vec<f64>>| v.iter().flatten().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&score_matrix(&obs, &as_f64, n, &all, 1).unwrap()), bits(&out), "u16 and f64 draws score alike");
    let ign_only = score_matrix(&obs, &counts, n, &[Score::Ignorance], 2).unwrap();
    for r in 0..rows {
        let row = &as_f64[r * n..(r + 1) * n];
        let y = obs[r];
        let e1: f64 = row.iter().map(|x| (x - y).abs()).sum::<f64>() / n as f64;
        let e2: f64 = row.iter().flat_map(|a| row.iter().map(move |b| (a - b).abs())).sum::<f64>() / (n * n) as f64;
        let crps = e1 - 0.5 * e2;
        assert!((out[0][r] - crps).abs() <= 1e-9 * crps.abs().max(1e-3), "row {r}: {} vs {crps}", out[0][r]);
        // ignorance by hand: draws in the observation's VIEWS bin, + 1 per bin
        let edges = vitalcore_forecast::metrics::IGN_EDGES;
        let bin = |v: f64| edges.iter().rposition(|&e| e <= v);
        let ign = match bin(y) {
            None => f64::NAN,
            Some(b) => -((row.iter().filter(|&&x| bin(x) == Some(b)).count() as f64 + 1.0) / (n as f64 + 11.0)).log2(),
        };
        for (what, got) in [("histogram", out[1][r]), ("count", ign_only[0][r])] {
            assert!(got == ign || (got.is_nan() && ign.is_nan()), "row {r} {what}: {got} vs {ign}");
        }
        let d = Draws::from_samples(row);
        assert_eq!(out[2][r], d.view().interval_score(y, 0.95), "row {r}");
    }
}

fn fc(unit: &str, p_any: f64, p_ge_25: f64) -> UnitForecast {
    UnitForecast {
        unit: unit.into(),
        name: unit.into(),
        country: None,
        origin: month("2021-01"),
        month: month("2021-02"),
        horizon: 1,
        model: "hurdle".into(),
        mean: 1.0,
        p_any,
        p_ge_1: p_any,
        p_ge_10: p_ge_25,
        p_ge_25,
        q05: 0.0,
        q50: 0.0,
        q95: 3.0,
    }
}

#[test]
fn threshold_warnings_fire_at_and_above_the_threshold_only() {
    let f = vec![fc("A", 0.7, 0.3), fc("B", 0.5, 0.0), fc("C", 0.49, 0.1)];
    let w = threshold_warnings(&f, Quantity::PAny, 0.5);
    let areas: Vec<&str> = w.iter().map(|w| w.area.as_str()).collect();
    assert_eq!(areas, ["A", "B"]);
    assert_eq!(w[0].value, 0.7);
    assert_eq!(w[0].threshold, 0.5);
    assert_eq!(w[0].month, month("2021-02"));
    let w25 = threshold_warnings(&f, Quantity::PAtLeast(25), 0.2);
    assert_eq!(w25.len(), 1);
    assert!(w25[0].reason.contains(">= 25"));
}

#[test]
fn burst_detector_flags_a_jump_not_a_steady_level() {
    let p = BurstParams::default();
    // steady around 4 a month: no alarm
    let steady = [4.0, 5.0, 3.0, 4.0, 4.0, 5.0, 3.0, 4.0];
    assert!(burst_warnings("A", month("2020-01"), &steady, p).is_empty());
    // a jump to 20 in month 7: baseline ~4, limit 4 + 3*2 = 10 -> alarm
    let mut jump = steady.to_vec();
    jump.push(20.0);
    let w = burst_warnings("A", month("2020-01"), &jump, p);
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].month, month("2020-09"));
    assert_eq!(w[0].value, 20.0);
    assert!(w[0].threshold > 8.0 && w[0].threshold < 12.0, "{}", w[0].threshold);
    // 0 -> 2 reports is below the minimum count
    assert!(burst_warnings("A", month("2020-01"), &[0.0, 0.0, 0.0, 0.0, 2.0], p).is_empty());
}

#[test]
fn every_model_name_round_trips() {
    for m in ALL_MODELS {
        assert_eq!(ModelKind::parse(m.name()).unwrap(), m);
    }
    assert!(ModelKind::parse("oracle").is_err());
}

mod panel_stream;
mod reference;
