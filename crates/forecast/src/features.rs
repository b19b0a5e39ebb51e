//! Features of a unit at a month, computed from data up to that month only
//! (no look-ahead), once for the whole panel.

use crate::panel::{Panel, Target};

/// Months of own history that decayed sums and "time since" look back on.
pub const HISTORY_WINDOW: usize = 36;
/// Half-lives (months) of the exponentially decayed history (VIEWS uses
/// decay functions of time since conflict the same way; Hegre et al. 2019).
pub const HALF_LIVES: [f64; 3] = [3.0, 12.0, 36.0];
/// Temporal lags, in months before the origin month (0 = the origin month).
pub const LAGS: [usize; 5] = [0, 1, 2, 5, 11];

/// A dense feature matrix, row `u * months + t`, `d` columns, f32 to halve
/// memory on large grids. `active[row]` is false when every feature that
/// depends on data is zero: such rows are identical and are fitted as one
/// weighted row.
#[derive(Debug, Clone)]
pub struct Features {
    pub names: Vec<String>,
    pub d: usize,
    pub months: usize,
    pub x: Vec<f32>,
    pub active: Vec<bool>,
    /// Column holding "months since last event / 36" (1 when none in 36 months).
    pub since_col: usize,
}

impl Features {
    pub fn row(&self, unit: usize, month: usize) -> &[f32] {
        let r = unit * self.months + month;
        &self.x[r * self.d..(r + 1) * self.d]
    }

    pub fn is_active(&self, unit: usize, month: usize) -> bool {
        self.active[unit * self.months + month]
    }

    /// Feature vector of an inactive row (no history anywhere near).
    pub fn inactive_row(&self) -> Vec<f32> {
        let mut v = vec![0.0; self.d];
        v[self.since_col] = 1.0;
        v
    }

    /// Builds the features for `target`. Columns: log1p of the target at lags
    /// 0,1,2,5,11; log1p of decayed sums over the last 36 months for each
    /// half-life; months since the last non-zero month / 36; share of the
    /// last 12 months with a non-zero value; trend = log1p(mean of the last 3
    /// months) - log1p(mean of the 9 before); spatial lags: log1p of the
    /// neighbours' summed value this month and of their 12-month decayed
    /// sums; the other target (events when forecasting fatalities and vice
    /// versa) this month and over 12 months; per frequent event type and per
    /// community-report dimension, log1p of the count over the last 3 months.
    pub fn build(panel: &Panel, target: Target) -> Features {
        let t_len = panel.months;
        let n = panel.n_units();
        let y = panel.target(target);
        let other = panel.target(match target {
            Target::Fatalities => Target::Events,
            Target::Events => Target::Fatalities,
        });
        let mut names: Vec<String> = LAGS.iter().map(|l| format!("lag{}", l + 1)).collect();
        names.extend(HALF_LIVES.iter().map(|h| format!("decay_hl{h}")));
        let since_col = names.len();
        names.extend(["months_since".into(), "share_nonzero_12".into(), "trend".into()]);
        names.extend(["spatial_lag1".into(), "spatial_decay_hl12".into(), "other_lag1".into(), "other_sum12".into()]);
        names.extend(panel.event_types.iter().map(|(t, _)| format!("type3:{t}")));
        names.extend(panel.community.iter().map(|(d, _)| format!("reports3:{d}")));
        let d = names.len();

        let decay12: Vec<f64> = (0..n).flat_map(|u| decayed(&y[u * t_len..(u + 1) * t_len], 12.0)).collect();
        let mut x = vec![0f32; n * t_len * d];
        let mut active = vec![false; n * t_len];
        for u in 0..n {
            let ys = &y[u * t_len..(u + 1) * t_len];
            let os = &other[u * t_len..(u + 1) * t_len];
            let decays: Vec<Vec<f64>> = HALF_LIVES.iter().map(|&h| decayed(ys, h)).collect();
            let cum = prefix(ys);
            let cum_other = prefix(os);
            let cum_types: Vec<Vec<f64>> =
                panel.event_types.iter().map(|(_, s)| prefix(&s[u * t_len..(u + 1) * t_len])).collect();
            let cum_comm: Vec<Vec<f64>> =
                panel.community.iter().map(|(_, s)| prefix(&s[u * t_len..(u + 1) * t_len])).collect();
            let nonzero_cum = prefix(&ys.iter().map(|&v| (v > 0.0) as u8 as f64).collect::<Vec<_>>());
            let mut last_nonzero: Option<usize> = None;
            for t in 0..t_len {
                if ys[t] > 0.0 {
                    last_nonzero = Some(t);
                }
                let row = &mut x[(u * t_len + t) * d..(u * t_len + t + 1) * d];
                let mut c = 0;
                for &l in &LAGS {
                    row[c] = if t >= l { ys[t - l].ln_1p() as f32 } else { 0.0 };
                    c += 1;
                }
                for dec in &decays {
                    row[c] = dec[t].ln_1p() as f32;
                    c += 1;
                }
                row[c] = match last_nonzero {
                    Some(s) if t - s < HISTORY_WINDOW => ((t - s) as f64 / HISTORY_WINDOW as f64) as f32,
                    _ => 1.0,
                };
                c += 1;
                row[c] = (window_sum(&nonzero_cum, t, 12) / 12.0) as f32;
                c += 1;
                let recent = window_sum(&cum, t, 3) / 3.0;
                let before = (window_sum(&cum, t, 12) - window_sum(&cum, t, 3)) / 9.0;
                row[c] = (recent.ln_1p() - before.ln_1p()) as f32;
                c += 1;
                let nb = &panel.neighbours[u];
                row[c] = nb.iter().map(|&v| y[v * t_len + t]).sum::<f64>().ln_1p() as f32;
                c += 1;
                row[c] = nb.iter().map(|&v| decay12[v * t_len + t]).sum::<f64>().ln_1p() as f32;
                c += 1;
                row[c] = os[t].ln_1p() as f32;
                c += 1;
                row[c] = window_sum(&cum_other, t, 12).ln_1p() as f32;
                c += 1;
                for ct in cum_types.iter().chain(cum_comm.iter()) {
                    row[c] = window_sum(ct, t, 3).ln_1p() as f32;
                    c += 1;
                }
                active[u * t_len + t] =
                    row.iter().enumerate().any(|(k, &v)| k != since_col && v != 0.0) || row[since_col] != 1.0;
            }
        }
        Features { names, d, months: t_len, x, active, since_col }
    }
}

/// Cumulative sums with a leading zero: sum of s[a..b] = c[b] - c[a].
fn prefix(s: &[f64]) -> Vec<f64> {
    let mut c = Vec::with_capacity(s.len() + 1);
    c.push(0.0);
    let mut acc = 0.0;
    for &v in s {
        acc += v;
        c.push(acc);
    }
    c
}

/// Sum of the `w` months ending at t (fewer at the start of the panel).
fn window_sum(cum: &[f64], t: usize, w: usize) -> f64 {
    cum[t + 1] - cum[(t + 1).saturating_sub(w)]
}

/// sum over the last HISTORY_WINDOW months of y_s * 2^(-(t-s)/half_life);
/// exactly 0 when the window holds no non-zero value.
fn decayed(ys: &[f64], half_life: f64) -> Vec<f64> {
    let r = 0.5f64.powf(1.0 / half_life);
    let r_w = r.powi(HISTORY_WINDOW as i32);
    let mut out = Vec::with_capacity(ys.len());
    let (mut acc, mut nonzero) = (0.0f64, 0usize);
    for t in 0..ys.len() {
        acc = acc * r + ys[t];
        nonzero += (ys[t] > 0.0) as usize;
        if t >= HISTORY_WINDOW {
            let old = ys[t - HISTORY_WINDOW];
            acc -= old * r_w;
            nonzero -= (old > 0.0) as usize;
        }
        if nonzero == 0 {
            acc = 0.0;
        }
        out.push(acc.max(0.0));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decayed_sum_halves_after_one_half_life_and_forgets_after_the_window() {
        let mut ys = vec![0.0; 50];
        ys[0] = 8.0;
        let d = decayed(&ys, 3.0);
        assert!((d[0] - 8.0).abs() < 1e-12);
        assert!((d[3] - 4.0).abs() < 1e-9);
        assert!((d[6] - 2.0).abs() < 1e-9);
        assert_eq!(d[HISTORY_WINDOW], 0.0);
        assert_eq!(d[49], 0.0);
    }

    #[test]
    fn window_sums_clip_at_the_start() {
        let c = prefix(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(window_sum(&c, 0, 3), 1.0);
        assert_eq!(window_sum(&c, 3, 3), 9.0);
    }
}
