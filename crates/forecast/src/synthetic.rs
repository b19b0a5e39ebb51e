//! A synthetic PRIO-GRID panel with real-like sparsity, for benchmarks and
//! tests: most cells are zero in most months; violence comes in spatially
//! clustered conflict zones that switch on, persist for months to years and
//! fade; fatalities per event are heavy-tailed (log-normal).

use crate::panel::{Panel, Unit, neighbours_of};
use crate::rng::Rng;
use vitalcore_framework::{Month, UnitKind};

#[derive(Debug, Clone, Copy)]
pub struct SyntheticGrid {
    pub rows: usize,
    pub cols: usize,
    pub months: usize,
    /// Conflict zones per decade.
    pub zones_per_decade: usize,
    pub seed: u64,
}

impl SyntheticGrid {
    /// About Africa's size: 100 x 100 cells (10,000) over 30 years.
    pub fn africa() -> SyntheticGrid {
        SyntheticGrid { rows: 100, cols: 100, months: 360, zones_per_decade: 60, seed: 1 }
    }
}

struct Zone {
    row: f64,
    col: f64,
    radius: f64,
    start: usize,
    end: usize,
    intensity: f64,
}

/// Builds the panel. Cells sit in a block from 35 S, 17 W (PRIO-GRID row 110,
/// column 326) so their gids are real African-area gids.
pub fn synthetic_grid(g: SyntheticGrid) -> Panel {
    let mut rng = Rng::new(g.seed);
    let n = g.rows * g.cols;
    let zones: Vec<Zone> = (0..(g.zones_per_decade * g.months).div_ceil(120))
        .map(|_| {
            let start = rng.below(g.months);
            let duration = (6.0 * (rng.normal() * 0.8 + 2.0).exp()).min(240.0) as usize;
            Zone {
                row: rng.uniform() * g.rows as f64,
                col: rng.uniform() * g.cols as f64,
                radius: 0.8 + rng.uniform() * 3.0,
                start,
                end: (start + duration).min(g.months),
                intensity: 0.4 * (rng.normal() * 0.7).exp(),
            }
        })
        .collect();
    // a persistent propensity per cell: some places are always hotter
    let propensity: Vec<f64> = (0..n).map(|_| (rng.normal() * 0.8 - 0.3).exp()).collect();
    let mut events = vec![0.0; n * g.months];
    let mut fatalities = vec![0.0; n * g.months];
    let mut shock = vec![0.0f64; n];
    for t in 0..g.months {
        let active: Vec<&Zone> = zones.iter().filter(|z| z.start <= t && t < z.end).collect();
        for r in 0..g.rows {
            for c in 0..g.cols {
                let u = r * g.cols + c;
                let mut rate = 0.0005; // isolated background events
                for z in &active {
                    let d2 = (r as f64 + 0.5 - z.row).powi(2) + (c as f64 + 0.5 - z.col).powi(2);
                    if d2 < 9.0 * z.radius * z.radius {
                        rate += z.intensity * (-d2 / (2.0 * z.radius * z.radius)).exp();
                    }
                }
                if rate <= 0.0005 && shock[u] == 0.0 {
                    // quiet cell: skip the AR shock to keep it exactly at rest
                } else {
                    shock[u] = 0.6 * shock[u] + 0.5 * rng.normal();
                }
                let lambda = rate * propensity[u] * shock[u].exp();
                let k = rng.poisson(lambda);
                if k > 0 {
                    let cell = u * g.months + t;
                    events[cell] = k as f64;
                    fatalities[cell] = (0..k).map(|_| (1.0 * rng.normal() + 0.3).exp().round()).sum();
                }
            }
        }
    }
    let units: Vec<Unit> = (0..n)
        .map(|u| {
            let (r, c) = (110 + u / g.cols, 326 + u % g.cols);
            let gid = (r * 720 + c + 1) as u32;
            Unit {
                id: gid.to_string(),
                name: format!("cell {gid}"),
                country: None,
                centroid: Some(vitalcore_framework::domain::prio_grid_centre(gid)),
            }
        })
        .collect();
    let neighbours = neighbours_of(&units, UnitKind::Grid);
    Panel {
        kind: UnitKind::Grid,
        first: Month::new(1990, 1).expect("valid"),
        months: g.months,
        units,
        fatalities,
        events,
        event_types: Vec::new(),
        community: Vec::new(),
        neighbours,
    }
}
