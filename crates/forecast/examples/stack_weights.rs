//! Sufficient statistics for choosing the weights of a linear pool (a
//! stacked ensemble) of the hurdle model and the baselines, from the same
//! rolling-origin backtest as `evaluate_files` (same draws, same seeds).
//!
//! The CRPS of a mixture F = sum_i w_i F_i is, exactly,
//!   sum_i w_i E|X_i - y| - 1/2 sum_ij w_i w_j E|X_i - X_j|
//! (Gneiting and Raftery 2007, eq. 21, expanded over the components), so one
//! backtest that records E|X_i - y| and every E|X_i - X_j| per unit-month
//! scores every weight vector afterwards. Brier and bias are linear or
//! quadratic in the weights and are recorded the same way.
//!
//! cargo run --release -p vitalcore-forecast --features files --example stack_weights -- \
//!   --events FILE [--boundaries FILE] [--country NAME] [--unit admin1] [--target fatalities] \
//!   [--first YYYY-MM] [--last YYYY-MM] --start YYYY-MM --end YYYY-MM --name LABEL --acc OUT \
//!   [--score-country NAME]   (fit on every country's units, score only NAME's: pooling across countries)
//!
//! WINDOW=N trains on N months instead of 120 (the CLI's --train-window).
//!
//! Appends one line per horizon to OUT: `LABEL h N obs any ey[4] ex[4x4] mean[4] p[4] pp[4x4] po[4]`,
//! components in the order hurdle, conflictology, bootstrap, last, conflictology over 120 months,
//! spatial conflictology (the last two are candidates tried, not library models).
//! `bench/forecast/stack.py` fits and checks weights from these lines.
mod common;

use std::io::Write;
use vitalcore_forecast::models::OriginState;
use vitalcore_forecast::rng::{Rng, mix_seed};
use vitalcore_forecast::{ALL_MODELS, Draws, Features, ModelKind};

const COMPONENTS: [ModelKind; 4] = [ModelKind::Hurdle, ModelKind::Conflictology, ModelKind::Bootstrap, ModelKind::Last];
/// Two candidate baselines tried as further components (not in the library):
/// the unit's own last 120 months resampled ("long conflictology"), and the
/// last 36 months of the unit and its neighbours resampled ("spatial
/// conflictology").
const K: usize = COMPONENTS.len() + 2;

fn resample(nonzero: &[f64], pool_n: usize, n: usize, rng: &mut Rng) -> Draws {
    if nonzero.is_empty() || pool_n == 0 {
        return Draws::zero(n);
    }
    let k = rng.binomial(n as u32, nonzero.len() as f64 / pool_n as f64) as usize;
    let pos = (0..k).map(|_| nonzero[rng.below(nonzero.len())]).collect();
    Draws::from_positive(n, pos)
}

#[derive(Clone, Default)]
struct Acc {
    n: f64,
    obs: f64,
    any: f64,
    ey: [f64; K],
    ex: [[f64; K]; K],
    mean: [f64; K],
    p: [f64; K],
    pp: [[f64; K]; K],
    po: [f64; K],
}

impl Acc {
    fn merge(&mut self, o: &Acc) {
        self.n += o.n;
        self.obs += o.obs;
        self.any += o.any;
        for i in 0..K {
            self.ey[i] += o.ey[i];
            self.mean[i] += o.mean[i];
            self.p[i] += o.p[i];
            self.po[i] += o.po[i];
            for j in 0..K {
                self.ex[i][j] += o.ex[i][j];
                self.pp[i][j] += o.pp[i][j];
            }
        }
    }
}

/// sum over all pairs (i, j) of |a_i - b_j| / (n_a n_b), zeros counted, not stored.
fn mean_abs_diff(a: &Draws, b: &Draws) -> f64 {
    let (za, zb) = ((a.n - a.pos.len()) as f64, (b.n - b.pos.len()) as f64);
    let (sa, sb): (f64, f64) = (a.pos.iter().sum(), b.pos.iter().sum());
    let mut total = za * sb + zb * sa;
    // positive pairs: for each a_i, sum_j |a_i - b_j| with b sorted
    let mut k = 0usize;
    let mut below = 0.0f64;
    for &x in &a.pos {
        while k < b.pos.len() && b.pos[k] <= x {
            below += b.pos[k];
            k += 1;
        }
        let above = sb - below;
        total += x * k as f64 - below + above - x * (b.pos.len() - k) as f64;
    }
    total / (a.n as f64 * b.n as f64)
}

fn main() {
    let opt = common::Opts::from_args();
    let one = |k: &str| opt.one(k);
    let month = |k: &str| opt.month(k);
    let (_, panel, target) = common::panel_from_files(&opt);
    let mut features = Features::build(&panel, target);
    // ABLATE=prefix,prefix: those feature columns set to 0 everywhere (the
    // hurdle then fits them a zero coefficient): spatial_, type3:, other_
    if let Ok(list) = std::env::var("ABLATE") {
        let cols: Vec<usize> = (0..features.d)
            .filter(|&c| list.split(',').any(|p| !p.is_empty() && features.names[c].starts_with(p)))
            .collect();
        let d = features.d;
        for row in features.x.chunks_mut(d) {
            for &c in &cols {
                row[c] = 0.0;
            }
        }
        eprintln!("ablated {:?}", cols.iter().map(|&c| &features.names[c]).collect::<Vec<_>>());
    }
    let start = panel.month_index(month("start").expect("--start")).expect("start inside the data");
    let end = panel.month_index(month("end").expect("--end")).expect("end inside the data");
    let samples: usize = one("samples").map(|s| s.parse().expect("--samples")).unwrap_or(1000);
    let window: usize = std::env::var("WINDOW").ok().and_then(|v| v.parse().ok()).unwrap_or(120);
    let (seed, horizons) = (1u64, 3usize);
    let y = panel.target(target);
    let t_len = panel.months;
    let n_units = panel.n_units();
    // --score-country NAME: fit on every unit of the panel (all countries'
    // events: pooling across countries) but score only that country's units
    let scored: Vec<usize> = match one("score-country") {
        Some(c) => (0..n_units)
            .filter(|&u| panel.units[u].country.as_deref().is_some_and(|v| v.eq_ignore_ascii_case(&c)))
            .collect(),
        None => (0..n_units).collect(),
    };
    assert!(!scored.is_empty(), "no unit to score");
    let origins: Vec<usize> = (start..=end).collect();
    let chunk = origins.len().div_ceil(2);
    let parts: Vec<Vec<(usize, Vec<Acc>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = origins
            .chunks(chunk)
            .map(|os| {
                let (panel, features, scored) = (&panel, &features, &scored);
                s.spawn(move || {
                    let mut out = Vec::new();
                    for &o in os {
                        let state = OriginState::new(y, t_len, n_units, features, o, o, horizons, window, true);
                        let origin_month = panel.first.plus(o as i32).index() as u64;
                        let mut accs = vec![Acc::default(); horizons];
                        for (hk, acc) in accs.iter_mut().enumerate() {
                            let h = hk + 1;
                            if o + h >= t_len {
                                continue;
                            }
                            for &u in scored {
                                let obs = y[u * t_len + o + h];
                                let mut draws: Vec<Draws> = COMPONENTS
                                    .iter()
                                    .map(|&m| {
                                        let id = ALL_MODELS.iter().position(|&x| x == m).unwrap() as u64;
                                        let mut rng = Rng::new(mix_seed(&[seed, id, origin_month, h as u64, u as u64]));
                                        state.draw(m, u, h, samples, &mut rng)
                                    })
                                    .collect();
                                let mut rng = Rng::new(mix_seed(&[seed, 100, origin_month, h as u64, u as u64]));
                                let lo = (o + 1).saturating_sub(120);
                                let own = &y[u * t_len + lo..=u * t_len + o];
                                let nz: Vec<f64> = own.iter().copied().filter(|&v| v > 0.0).collect();
                                draws.push(resample(&nz, own.len(), samples, &mut rng));
                                let lo = (o + 1).saturating_sub(36);
                                let mut nz = Vec::new();
                                let mut count = 0;
                                for &v in std::iter::once(&u).chain(panel.neighbours[u].iter()) {
                                    let s = &y[v * t_len + lo..=v * t_len + o];
                                    nz.extend(s.iter().copied().filter(|&x| x > 0.0));
                                    count += s.len();
                                }
                                draws.push(resample(&nz, count, samples, &mut rng));
                                let yd = Draws::from_positive(1, if obs > 0.0 { vec![obs] } else { vec![] });
                                acc.n += 1.0;
                                acc.obs += obs;
                                acc.any += (obs > 0.0) as u8 as f64;
                                let ps: Vec<f64> = draws.iter().map(|d| d.pos.len() as f64 / d.n as f64).collect();
                                for i in 0..K {
                                    acc.ey[i] += mean_abs_diff(&draws[i], &yd);
                                    acc.mean[i] += draws[i].pos.iter().sum::<f64>() / draws[i].n as f64;
                                    acc.p[i] += ps[i];
                                    acc.po[i] += ps[i] * (obs > 0.0) as u8 as f64;
                                    for j in i..K {
                                        let v = mean_abs_diff(&draws[i], &draws[j]);
                                        acc.ex[i][j] += v;
                                        acc.pp[i][j] += ps[i] * ps[j];
                                        if j != i {
                                            acc.ex[j][i] += v;
                                            acc.pp[j][i] += ps[i] * ps[j];
                                        }
                                    }
                                }
                            }
                        }
                        out.push((o, accs));
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("worker")).collect()
    });
    let mut all: Vec<(usize, Vec<Acc>)> = parts.into_iter().flatten().collect();
    all.sort_by_key(|p| p.0);
    let mut total = vec![Acc::default(); horizons];
    for (_, accs) in &all {
        for (t, a) in total.iter_mut().zip(accs) {
            t.merge(a);
        }
    }
    let name = one("name").unwrap_or_else(|| "set".into());
    let mut lines = String::new();
    for (hk, a) in total.iter().enumerate() {
        lines.push_str(&format!("{}\th{}\t{}\n", name, hk + 1, acc_fields(a)));
        let crps = |i: usize| (a.ey[i] - 0.5 * a.ex[i][i]) / a.n;
        println!(
            "{name} h{}: crps hurdle {:.4} confl {:.4} boot {:.4} last {:.4} ratio {:.3} bias {:.3}",
            hk + 1,
            crps(0),
            crps(1),
            crps(2),
            crps(3),
            crps(0) / crps(1),
            a.mean[0] / a.obs
        );
    }
    if let Some(out) = one("acc") {
        append(&out, &lines);
    }
    // --acc-origins FILE: the same sums per origin (`LABEL h ORIGIN-MONTH ...`),
    // for pool weights fitted causally on earlier origins (online stacking)
    if let Some(out) = one("acc-origins") {
        let mut lines = String::new();
        for (o, accs) in &all {
            for (hk, a) in accs.iter().enumerate().filter(|(_, a)| a.n > 0.0) {
                let month = panel.first.plus(*o as i32);
                lines.push_str(&format!("{}\th{}\t{}\t{}\n", name, hk + 1, month, acc_fields(a)));
            }
        }
        append(&out, &lines);
    }
}

/// The sums of one accumulator, tab-separated, in the order stack.py reads them.
fn acc_fields(a: &Acc) -> String {
    let mut v = vec![a.n, a.obs, a.any];
    v.extend(a.ey);
    v.extend(a.ex.iter().flatten());
    v.extend(a.mean);
    v.extend(a.p);
    v.extend(a.pp.iter().flatten());
    v.extend(a.po);
    v.iter().map(|x| format!("{x:.10e}")).collect::<Vec<_>>().join("\t")
}

fn append(path: &str, text: &str) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("--acc file");
    f.write_all(text.as_bytes()).expect("write");
}
