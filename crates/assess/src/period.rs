//! Periods an assessment groups months into.

use jiff::civil::Date;
use std::str::FromStr;
use vitalcore_framework::Month;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Month,
    Quarter,
    Year,
    /// The whole range asked for, as one period.
    All,
}

impl FromStr for Period {
    type Err = String;
    fn from_str(s: &str) -> Result<Period, String> {
        match s {
            "month" => Ok(Period::Month),
            "quarter" => Ok(Period::Quarter),
            "year" => Ok(Period::Year),
            "all" => Ok(Period::All),
            other => Err(format!("`{other}` is not a period: use month, quarter, year or all")),
        }
    }
}

/// A concrete period: its label and its first and last month.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub first: Month,
    pub last: Month,
    pub label: String,
}

impl Span {
    pub fn first_day(&self) -> Date {
        self.first.first_day()
    }

    /// Days in the span, for the temporal spread.
    pub fn days(&self) -> i64 {
        let end = self.last.succ().first_day();
        (end - self.first_day()).get_days() as i64
    }

    pub fn months(&self) -> u32 {
        (self.last.index() - self.first.index() + 1) as u32
    }

    pub fn weeks(&self) -> u64 {
        (self.days() as u64).div_ceil(7)
    }
}

impl Period {
    /// The span `month` falls in, clipped to the requested range.
    pub fn span_of(self, month: Month, from: Month, to: Month) -> Span {
        let (first, last, label) = match self {
            Period::Month => (month, month, month.to_string()),
            Period::Quarter => {
                let q = (month.month - 1) / 3;
                let first = Month { year: month.year, month: q * 3 + 1 };
                (first, first.plus(2), format!("{}-Q{}", month.year, q + 1))
            }
            Period::Year => {
                let first = Month { year: month.year, month: 1 };
                (first, first.plus(11), month.year.to_string())
            }
            Period::All => (from, to, format!("{from}..{to}")),
        };
        Span { first: first.max(from), last: last.min(to), label }
    }
}
