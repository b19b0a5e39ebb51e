//! Durations as operators write them in configuration files: `90m`, `1h`,
//! `1h30m`, `2d`, `1w`.

use jiff::SignedDuration;

/// Parses `1h`, `90m`, `1h30m`, `2d`, `1w`, `45s` into a duration.
pub fn parse_duration(raw: &str) -> Result<SignedDuration, String> {
    let s = raw.trim();
    let bad = || format!("`{raw}` is not a duration: write for example 45m, 1h, 1h30m, 2d or 1w");
    if s.is_empty() {
        return Err(bad());
    }
    let mut total: i64 = 0;
    let mut number = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            ' ' if number.is_empty() => continue,
            _ => return Err(bad()),
        };
        let n: i64 = number.parse().map_err(|_| bad())?;
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
        number.clear();
    }
    if !number.is_empty() {
        return Err(bad());
    }
    Ok(SignedDuration::from_secs(total))
}

/// Writes a duration the way [`parse_duration`] reads it (`1h30m`, `2d`).
pub fn format_duration(d: SignedDuration) -> String {
    let mut secs = d.as_secs();
    let sign = if secs < 0 { "-" } else { "" };
    secs = secs.abs();
    let mut out = String::from(sign);
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    if out.is_empty() || out == "-" {
        out.push_str("0s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_operator_spellings() {
        assert_eq!(parse_duration("1h").unwrap().as_secs(), 3600);
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(parse_duration("2d").unwrap().as_secs(), 172_800);
        assert_eq!(parse_duration("1w").unwrap().as_secs(), 604_800);
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("1y").is_err());
        assert_eq!(format_duration(SignedDuration::from_secs(5400)), "1h30m");
    }
}
