//! Which columns to read, found by name in the header row.

use crate::split::{MAX_WANTED, Wanted};

/// The family of event file, told apart by its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    /// ACLED export with lower-case headers (2019 and later, `disorder_type`,
    /// or the 2017-2018 lower-case files).
    Acled,
    /// ACLED export with upper-case headers (2016 and before: `EVENT_DATE`, `GWNO`).
    AcledUpperCase,
    /// UCDP Georeferenced Event Dataset CSV (`date_start`, `adm_1`, `best`).
    UcdpGed,
}

impl std::fmt::Display for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Schema::Acled => "ACLED",
            Schema::AcledUpperCase => "ACLED (upper-case headers, 2016 and before)",
            Schema::UcdpGed => "UCDP GED",
        })
    }
}

/// Slots of the projected columns in [`crate::split::Span`] arrays.
pub(crate) const COUNTRY: usize = 0;
pub(crate) const ADMIN1: usize = 1;
pub(crate) const DATE: usize = 2;
pub(crate) const FATALITIES: usize = 3;

/// Accepted header names for each slot, in slot order (compared case-insensitively).
const ROLES: [(&str, &[&str]); MAX_WANTED] = [
    ("country", &["country"]),
    ("admin1", &["admin1", "adm_1"]),
    ("date", &["event_date", "date_start"]),
    ("fatalities", &["fatalities", "best"]),
];

/// The columns a file's rows are projected onto.
#[derive(Clone, Debug)]
pub struct Projection {
    pub schema: Schema,
    /// Header name of each projected column, as written in the file.
    pub names: [String; MAX_WANTED],
    /// Column index of each projected column.
    pub columns: [usize; MAX_WANTED],
    /// The projected columns for the splitter.
    pub(crate) wanted: Wanted,
}

impl Projection {
    /// Finds the projected columns in a header row. On failure returns the
    /// roles that no column matched, e.g. `["admin1 (admin1 or adm_1)"]`.
    pub fn from_header(header: &[String]) -> Result<Projection, Vec<String>> {
        let lower: Vec<String> = header.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
        let mut columns = [usize::MAX; MAX_WANTED];
        let mut missing = Vec::new();
        for (slot, (role, names)) in ROLES.iter().enumerate() {
            match lower.iter().position(|h| names.contains(&h.as_str())) {
                Some(col) => columns[slot] = col,
                None => missing.push(format!("{role} ({})", names.join(" or "))),
            }
        }
        if !missing.is_empty() {
            return Err(missing);
        }
        let wanted = Wanted::new(&columns);
        let names = columns.map(|c| header[c].trim().to_string());
        Ok(Projection { schema: detect_schema(header, &lower), names, columns, wanted })
    }

    /// The number of fields a row needs to hold every projected column.
    pub fn min_fields(&self) -> usize {
        self.wanted.slot_of_col.len()
    }
}

fn detect_schema(header: &[String], lower: &[String]) -> Schema {
    if lower.iter().any(|h| h == "date_start") {
        Schema::UcdpGed
    } else if header.iter().any(|h| h.trim() == "EVENT_DATE") {
        Schema::AcledUpperCase
    } else {
        Schema::Acled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(s: &str) -> Vec<String> {
        s.split(',').map(str::to_string).collect()
    }

    #[test]
    fn finds_columns_in_each_schema() {
        let acled =
            Projection::from_header(&header("event_id_cnty,event_date,year,country,admin1,admin2,fatalities,tags"))
                .unwrap();
        assert_eq!((acled.schema, acled.columns), (Schema::Acled, [3, 4, 1, 6]));
        let old = Projection::from_header(&header("GWNO,EVENT_DATE,COUNTRY,ADMIN1,FATALITIES,,,")).unwrap();
        assert_eq!((old.schema, old.columns), (Schema::AcledUpperCase, [2, 3, 1, 4]));
        let ucdp = Projection::from_header(&header("id,adm_1,adm_2,country,date_start,date_end,best,high")).unwrap();
        assert_eq!((ucdp.schema, ucdp.columns), (Schema::UcdpGed, [3, 1, 4, 6]));
        assert_eq!(ucdp.min_fields(), 7);
    }

    #[test]
    fn names_the_missing_columns() {
        let err = Projection::from_header(&header("country,event_date,fatalities")).unwrap_err();
        assert_eq!(err, ["admin1 (admin1 or adm_1)"]);
    }
}
