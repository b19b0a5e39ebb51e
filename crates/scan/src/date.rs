//! Event dates as ACLED and UCDP write them, reduced to a month.
//!
//! Accepted (day first, as ACLED and UCDP publish; surrounding spaces ignored):
//! `2020-12-30` (also with a time after a space or `T`, as UCDP exports do),
//! `30/12/2020`, `30/12/20`, `30 December 2020`, `30 Dec 2020`.
//! Two-digit years follow the POSIX `%y` rule: 69-99 are 1969-1999, 00-68 are
//! 2000-2068 (ACLED coverage starts in 1997).

/// A calendar month, stored as `year * 12 + (month - 1)` so months sort and
/// subtract as integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(pub u32);

impl Month {
    pub fn new(year: u32, month: u32) -> Month {
        Month(year * 12 + (month - 1))
    }
    pub fn year(self) -> u32 {
        self.0 / 12
    }
    /// 1 to 12.
    pub fn month(self) -> u32 {
        self.0 % 12 + 1
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

/// The month of a date in any accepted format, or `None` if it is not a valid date.
#[inline]
pub fn parse_month(raw: &[u8]) -> Option<Month> {
    if let Ok(iso) = <&[u8; 10]>::try_from(raw)
        && let Some(month) = parse_plain_iso(iso)
    {
        return Some(month);
    }
    parse_month_general(raw)
}

/// Fast path for exactly `YYYY-MM-DD`, read straight from the bytes.
#[inline]
fn parse_plain_iso(s: &[u8; 10]) -> Option<Month> {
    let d = |i: usize| u32::from(s[i].wrapping_sub(b'0'));
    let digits = [0, 1, 2, 3, 5, 6, 8, 9];
    if s[4] != b'-' || s[7] != b'-' || digits.iter().any(|&i| d(i) > 9) {
        return None;
    }
    let (year, month, day) = (d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3), d(5) * 10 + d(6), d(8) * 10 + d(9));
    valid_ymd(year, month, day).then(|| Month::new(year, month))
}

fn parse_month_general(raw: &[u8]) -> Option<Month> {
    let s = raw.trim_ascii();
    let (year, month, day) = if s.len() >= 10 && s[4] == b'-' && s[7] == b'-' {
        parse_iso(s)?
    } else if s.contains(&b'/') {
        parse_slashed(s)?
    } else {
        parse_long(s)?
    };
    (valid_ymd(year, month, day)).then(|| Month::new(year, month))
}

fn parse_iso(s: &[u8]) -> Option<(u32, u32, u32)> {
    if s.len() > 10 && s[10] != b' ' && s[10] != b'T' {
        return None;
    }
    Some((digits(&s[0..4])?, digits(&s[5..7])?, digits(&s[8..10])?))
}

fn parse_slashed(s: &[u8]) -> Option<(u32, u32, u32)> {
    let mut parts = s.split(|&b| b == b'/');
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !(1..=2).contains(&d.len()) || !(1..=2).contains(&m.len()) {
        return None;
    }
    let year = match y.len() {
        4 => digits(y)?,
        2 => expand_two_digit_year(digits(y)?),
        _ => return None,
    };
    Some((year, digits(m)?, digits(d)?))
}

fn parse_long(s: &[u8]) -> Option<(u32, u32, u32)> {
    let mut parts = s.split(|&b| b == b' ').filter(|p| !p.is_empty());
    let (d, name, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !(1..=2).contains(&d.len()) || y.len() != 4 {
        return None;
    }
    Some((digits(y)?, month_from_name(name)?, digits(d)?))
}

const MONTH_NAMES: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month_from_name(name: &[u8]) -> Option<u32> {
    let lower = name.to_ascii_lowercase();
    MONTH_NAMES
        .iter()
        .position(|full| full.as_bytes() == lower.as_slice() || (lower.len() == 3 && full.as_bytes()[..3] == lower[..]))
        .map(|i| i as u32 + 1)
}

/// POSIX `%y`: 69-99 mean 1969-1999, 00-68 mean 2000-2068.
fn expand_two_digit_year(yy: u32) -> u32 {
    if yy >= 69 { 1900 + yy } else { 2000 + yy }
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u32, |acc, &b| acc * 10 + u32::from(b - b'0')))
}

fn valid_ymd(year: u32, month: u32, day: u32) -> bool {
    (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month) && year >= 1
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(s: &str) -> Option<String> {
        parse_month(s.as_bytes()).map(|m| m.to_string())
    }

    #[test]
    fn every_published_format_gives_the_same_month() {
        for s in ["2020-12-30", "30/12/2020", "30/12/20", "30 December 2020", "30 Dec 2020", " 30 december 2020 "] {
            assert_eq!(month(s).as_deref(), Some("2020-12"), "{s}");
        }
        assert_eq!(month("2013-01-03 00:00:00.000").as_deref(), Some("2013-01"));
        assert_eq!(month("06 July 2018").as_deref(), Some("2018-07"));
        assert_eq!(month("6/7/2018").as_deref(), Some("2018-07"));
    }

    #[test]
    fn two_digit_years_pivot_like_posix() {
        assert_eq!(month("01/01/97").as_deref(), Some("1997-01"));
        assert_eq!(month("01/01/68").as_deref(), Some("2068-01"));
        assert_eq!(month("01/01/69").as_deref(), Some("1969-01"));
    }

    #[test]
    fn impossible_or_garbled_dates_are_rejected() {
        for s in [
            "2021-02-29",
            "31/04/2020",
            "2020-13-01",
            "00/01/2020",
            "",
            "2020/12/30",
            "30 Foo 2020",
            "12-30-2020",
            "30/12/202",
            "2020-12-30x",
        ] {
            assert_eq!(month(s), None, "{s}");
        }
        assert_eq!(month("2020-02-29").as_deref(), Some("2020-02"));
    }
}
