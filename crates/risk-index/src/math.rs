//! The arithmetic of composite indices, as pure functions on 0-10 scores.

/// Rounds like Excel's `ROUND(x, digits)`: half away from zero, on the value
/// as Excel displays it (15 significant digits), so that 0.15 rounds to 0.2
/// although its binary value is slightly below 0.15.
pub fn excel_round(x: f64, digits: u32) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(digits as i32);
    let shown: f64 = format!("{:.14e}", x * scale).parse().unwrap_or(x * scale);
    let rounded = shown.round() / scale;
    if rounded == 0.0 { 0.0 } else { rounded } // no "-0.0"
}

/// Min-max scaling to 0-10 with fixed bounds, clamped: values above `max`
/// score 10, below `min` score 0 (INFORM: `10-(MAX-x)/(MAX-MIN)*10`).
/// With `invert`, high raw values mean low scores (`(MAX-x)/(MAX-MIN)*10`).
pub fn min_max(x: f64, min: f64, max: f64, invert: bool) -> f64 {
    if invert {
        if x > max {
            0.0
        } else if x < min {
            10.0
        } else {
            (max - x) / (max - min) * 10.0
        }
    } else if x > max {
        10.0
    } else if x < min {
        0.0
    } else {
        10.0 - (max - x) / (max - min) * 10.0
    }
}

/// Weighted arithmetic mean of the present values; `None` when none is present.
pub fn mean(values: &[(Option<f64>, f64)]) -> Option<f64> {
    let (sum, weight) = present(values).fold((0.0, 0.0), |(s, w), (x, wi)| (s + x * wi, w + wi));
    (weight > 0.0).then(|| sum / weight)
}

/// Weighted geometric mean of the present values; `None` when none is present.
pub fn geometric_mean(values: &[(Option<f64>, f64)]) -> Option<f64> {
    let (log_sum, weight) = present(values).fold((0.0, 0.0), |(s, w), (x, wi)| (s + wi * x.ln(), w + wi));
    (weight > 0.0).then(|| (log_sum / weight).exp())
}

/// INFORM's aggregation of 0-10 scores where one high component must keep the
/// total high: `(10 - GEOMEAN((10-x)/10*9+1, ...)) / 9 * 10`. Each score is
/// mapped to 1..10 (10 -> 1), combined by a geometric mean and mapped back.
pub fn inform_geometric(values: &[(Option<f64>, f64)]) -> Option<f64> {
    let flipped: Vec<(Option<f64>, f64)> =
        values.iter().map(|&(x, w)| (x.map(|x| (10.0 - x) / 10.0 * 9.0 + 1.0), w)).collect();
    geometric_mean(&flipped).map(|g| (10.0 - g) / 9.0 * 10.0)
}

fn present(values: &[(Option<f64>, f64)]) -> impl Iterator<Item = (f64, f64)> + '_ {
    values.iter().filter_map(|&(x, w)| x.map(|x| (x, w)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn excel_round_is_half_away_from_zero_on_displayed_value() {
        assert_eq!(excel_round(0.15, 1), 0.2);
        assert_eq!(excel_round(2.675, 2), 2.68);
        assert_eq!(excel_round(1.45, 1), 1.5);
        assert_eq!(excel_round(-1.25, 1), -1.3);
        assert_eq!(excel_round(7.04999, 1), 7.0);
    }

    #[test]
    fn min_max_scales_and_clamps() {
        // (3-1)/(5-1)*10 = 5
        assert!(close(min_max(3.0, 1.0, 5.0, false), 5.0));
        assert!(close(min_max(3.0, 1.0, 5.0, true), 5.0));
        assert!(close(min_max(2.0, 1.0, 5.0, false), 2.5));
        assert!(close(min_max(2.0, 1.0, 5.0, true), 7.5));
        assert_eq!(min_max(9.0, 1.0, 5.0, false), 10.0);
        assert_eq!(min_max(0.0, 1.0, 5.0, false), 0.0);
        assert_eq!(min_max(9.0, 1.0, 5.0, true), 0.0);
    }

    #[test]
    fn means_skip_missing_values() {
        assert!(close(mean(&[(Some(2.0), 1.0), (None, 1.0), (Some(4.0), 1.0)]).unwrap(), 3.0));
        // weights 2:1 -> (2*2+5)/3 = 3
        assert!(close(mean(&[(Some(2.0), 2.0), (Some(5.0), 1.0)]).unwrap(), 3.0));
        assert!(close(geometric_mean(&[(Some(2.0), 1.0), (Some(8.0), 1.0)]).unwrap(), 4.0));
        assert_eq!(mean(&[(None, 1.0)]), None);
    }

    #[test]
    fn inform_geometric_matches_hand_computation() {
        // x = 10 and 0: mapped to 1 and 10, geomean sqrt(10) = 3.16228,
        // (10 - 3.16228)/9*10 = 7.5975
        let v = inform_geometric(&[(Some(10.0), 1.0), (Some(0.0), 1.0)]).unwrap();
        assert!((v - 7.597469).abs() < 1e-5, "{v}");
        // equal inputs give the input back
        let v = inform_geometric(&[(Some(6.3), 1.0), (Some(6.3), 1.0)]).unwrap();
        assert!(close(v, 6.3));
        // AFG 2023: Natural 6.8, Human 10 -> published Hazard & Exposure 8.9
        let v = inform_geometric(&[(Some(6.8), 1.0), (Some(10.0), 1.0)]).unwrap();
        assert_eq!(excel_round(v, 1), 8.9);
    }
}
