//! Calendar months and the date spellings found in event data.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A calendar month, the default period of every assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Month {
    pub year: i16,
    /// 1..=12
    pub month: u8,
}

impl Month {
    pub fn new(year: i16, month: u8) -> Option<Month> {
        (1..=12).contains(&month).then_some(Month { year, month })
    }

    pub fn of(date: Date) -> Month {
        Month { year: date.year(), month: date.month() as u8 }
    }

    /// Months since January of year 0: a dense index for panels and arithmetic.
    pub fn index(self) -> i32 {
        self.year as i32 * 12 + (self.month as i32 - 1)
    }

    pub fn from_index(index: i32) -> Month {
        Month { year: index.div_euclid(12) as i16, month: (index.rem_euclid(12) + 1) as u8 }
    }

    pub fn succ(self) -> Month {
        Month::from_index(self.index() + 1)
    }

    pub fn plus(self, months: i32) -> Month {
        Month::from_index(self.index() + months)
    }

    /// Every month from `self` to `last`, both included.
    pub fn through(self, last: Month) -> impl Iterator<Item = Month> {
        (self.index()..=last.index()).map(Month::from_index)
    }

    pub fn first_day(self) -> Date {
        Date::new(self.year, self.month as i8, 1).expect("month is always valid")
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = String;
    /// Accepts `YYYY-MM` (and `YYYY-MM-DD`, taking its month).
    fn from_str(s: &str) -> Result<Month, String> {
        let bad = || format!("`{s}` is not a month: write it as YYYY-MM, for example 2014-03");
        let s = s.trim();
        let mut parts = s.split('-');
        let year: i16 = parts.next().and_then(|y| y.parse().ok()).ok_or_else(bad)?;
        let month: u8 = parts.next().and_then(|m| m.parse().ok()).ok_or_else(bad)?;
        Month::new(year, month).ok_or_else(bad)
    }
}

impl TryFrom<String> for Month {
    type Error = String;
    fn try_from(s: String) -> Result<Month, String> {
        s.parse()
    }
}

impl From<Month> for String {
    fn from(m: Month) -> String {
        m.to_string()
    }
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

/// Parses the date spellings used by UCDP, ACLED and HXL tables:
/// `2020-12-30`, `2009-02-20T00:00:00`, `2020-12-30 00:00:00`, `30/12/2015`,
/// `30/12/20` (ACLED writes day first; two-digit years below 70 are 20xx),
/// `06 July 2018`, `6-Jul-2018`, `30 déc. 2020` is not supported.
pub fn parse_date(raw: &str) -> Result<Date, String> {
    let s = raw.trim().trim_matches('"');
    let bad = || {
        format!("`{raw}` is not a date this program reads: use 2020-12-30, 30/12/2020, 30/12/20 or 30 December 2020")
    };
    if s.is_empty() {
        return Err("the date is empty".into());
    }
    let s = s.split(['T', ' ']).next().filter(|p| p.contains(['-', '/'])).unwrap_or(s);
    let (y, m, d) = if let Some((y, m, d)) = split3(s, '-').filter(|(y, _, _)| y.len() == 4) {
        (num(y), num(m), num(d))
    } else if let Some((d, m, y)) = split3(s, '/') {
        (year_of(y), num(m), num(d))
    } else if let Some((d, m, y)) = split3(raw.trim(), ' ').or_else(|| split3(s, '-')) {
        (year_of(y), month_by_name(m), num(d))
    } else {
        return Err(bad());
    };
    match (y, m, d) {
        (Some(y), Some(m), Some(d)) => Date::new(y, m, d).map_err(|_| bad()),
        _ => Err(bad()),
    }
}

fn split3(s: &str, sep: char) -> Option<(&str, &str, &str)> {
    let mut it = s.split(sep).filter(|p| !p.is_empty());
    let parts = (it.next()?, it.next()?, it.next()?);
    it.next().is_none().then_some(parts)
}

fn num<T: FromStr>(s: &str) -> Option<T> {
    s.trim().parse().ok()
}

fn year_of(s: &str) -> Option<i16> {
    let y: i16 = num(s)?;
    match s.trim().len() {
        2 if y < 70 => Some(2000 + y),
        2 => Some(1900 + y),
        4 => Some(y),
        _ => None,
    }
}

fn month_by_name(s: &str) -> Option<i8> {
    let s = s.trim().trim_end_matches('.').to_lowercase();
    if let Ok(n) = s.parse::<i8>() {
        return Some(n);
    }
    if s.len() < 3 {
        return None;
    }
    MONTH_NAMES.iter().position(|name| name.starts_with(&s)).map(|i| i as i8 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(s: &str) -> (i16, i8, i8) {
        let d = parse_date(s).unwrap();
        (d.year(), d.month(), d.day())
    }

    #[test]
    fn reads_every_spelling_in_the_sources() {
        assert_eq!(ymd("2020-12-30"), (2020, 12, 30));
        assert_eq!(ymd("2009-02-20T00:00:00"), (2009, 2, 20));
        assert_eq!(ymd("2009-02-20 00:00:00"), (2009, 2, 20));
        assert_eq!(ymd("30/12/20"), (2020, 12, 30));
        assert_eq!(ymd("29/12/2015"), (2015, 12, 29));
        assert_eq!(ymd("06 July 2018"), (2018, 7, 6));
        assert_eq!(ymd("24 November 2018"), (2018, 11, 24));
        assert_eq!(ymd("6-Jul-2018"), (2018, 7, 6));
        assert_eq!(ymd("09/12/97"), (1997, 12, 9));
    }

    #[test]
    fn rejects_impossible_dates_with_a_reason() {
        for bad in ["", "2020-13-01", "31/02/2020", "yesterday", "12 Foo 2020"] {
            let err = parse_date(bad).unwrap_err();
            assert!(!err.is_empty(), "{bad}");
        }
    }

    #[test]
    fn month_arithmetic_crosses_years() {
        let m: Month = "2013-11".parse().unwrap();
        assert_eq!(m.plus(3).to_string(), "2014-02");
        assert_eq!(m.plus(-11).to_string(), "2012-12");
        let all: Vec<String> = m.through("2014-01".parse().unwrap()).map(|m| m.to_string()).collect();
        assert_eq!(all, ["2013-11", "2013-12", "2014-01"]);
        assert!("2014-00".parse::<Month>().is_err());
    }
}
