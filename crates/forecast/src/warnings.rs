//! Early warnings: forecast probabilities crossing a threshold, and bursts of
//! community reports above their recent level.

use crate::panel::Panel;
use crate::run::UnitForecast;
use serde::Serialize;
use vitalcore_framework::Month;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Warning {
    /// Unit id (P-code, name key or cell).
    pub area: String,
    pub month: Month,
    pub reason: String,
    pub value: f64,
    pub threshold: f64,
}

/// Which forecast probability a threshold applies to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quantity {
    /// P(any fatality).
    PAny,
    /// P(y >= N) for N in 1, 10, 25.
    PAtLeast(u32),
}

/// Warns for every forecast whose probability is at or above `threshold`.
pub fn threshold_warnings(forecasts: &[UnitForecast], quantity: Quantity, threshold: f64) -> Vec<Warning> {
    forecasts
        .iter()
        .filter_map(|f| {
            let (value, what) = match quantity {
                Quantity::PAny => (f.p_any, "P(any fatality)".to_string()),
                Quantity::PAtLeast(10) => (f.p_ge_10, "P(>= 10)".to_string()),
                Quantity::PAtLeast(25) => (f.p_ge_25, "P(>= 25)".to_string()),
                Quantity::PAtLeast(_) => (f.p_ge_1, "P(>= 1)".to_string()),
            };
            (value >= threshold).then(|| Warning {
                area: f.unit.clone(),
                month: f.month,
                reason: format!(
                    "forecast {what} for {} ({} month{} ahead) is at or above the threshold",
                    f.month,
                    f.horizon,
                    if f.horizon == 1 { "" } else { "s" }
                ),
                value,
                threshold,
            })
        })
        .collect()
}

/// Parameters of the report-burst detector.
#[derive(Debug, Clone, Copy)]
pub struct BurstParams {
    /// EWMA smoothing weight of the baseline (0 < lambda <= 1).
    pub lambda: f64,
    /// How many Poisson standard deviations above the baseline is a burst.
    pub k: f64,
    /// Fewest reports in a month for a burst (avoids alarms on 0 -> 1).
    pub min_count: f64,
    /// Months used to start the baseline before any alarm may fire.
    pub warmup: usize,
}

impl Default for BurstParams {
    fn default() -> BurstParams {
        BurstParams { lambda: 0.3, k: 3.0, min_count: 3.0, warmup: 3 }
    }
}

/// EWMA burst detector for monthly report counts (Roberts 1959's EWMA as the
/// baseline; a Poisson control limit): the baseline is
/// m_t = lambda x_t + (1 - lambda) m_{t-1}, and month t is a burst when
/// x_t >= min_count and x_t > m_{t-1} + k sqrt(max(m_{t-1}, 1)). The month that
/// alarms still updates the baseline, so a lasting rise alarms once or twice
/// and then becomes the new normal.
pub fn burst_warnings(area: &str, first: Month, counts: &[f64], p: BurstParams) -> Vec<Warning> {
    let mut out = Vec::new();
    let Some(&x0) = counts.first() else { return out };
    let mut baseline = x0;
    for (t, &x) in counts.iter().enumerate().skip(1) {
        let limit = baseline + p.k * baseline.max(1.0).sqrt();
        if t >= p.warmup && x >= p.min_count && x > limit {
            out.push(Warning {
                area: area.to_string(),
                month: first.plus(t as i32),
                reason: format!("{x} community reports against a recent level of {baseline:.1}"),
                value: x,
                threshold: limit,
            });
        }
        baseline = p.lambda * x + (1.0 - p.lambda) * baseline;
    }
    out
}

/// Burst warnings for the community-report totals of every unit of a panel.
pub fn panel_burst_warnings(panel: &Panel, p: BurstParams) -> Vec<Warning> {
    (0..panel.n_units())
        .flat_map(|u| burst_warnings(&panel.units[u].id, panel.first, &panel.community_total(u), p))
        .collect()
}
