//! Which columns to read, found by name in the header row.

use crate::agg::Key;
use crate::split::Wanted;

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

/// Roles of the columns a scan may read, as indexes into [`Projection`]'s arrays.
pub(crate) const COUNTRY: usize = 0;
pub(crate) const ADMIN1: usize = 1;
pub(crate) const ADMIN2: usize = 2;
pub(crate) const LOCATION: usize = 3;
pub(crate) const DATE: usize = 4;
pub(crate) const FATALITIES: usize = 5;
/// ACLED's `event_id_cnty`, read to fold the rows of one event (one per
/// actor) into one; UCDP GED has one row per event.
pub(crate) const EVENT_ID: usize = 6;
pub(crate) const ROLE_COUNT: usize = 7;

/// Accepted header names for each role, in role order (compared case-insensitively).
const ROLES: [(&str, &[&str]); ROLE_COUNT] = [
    ("country", &["country"]),
    ("admin1", &["admin1", "adm_1"]),
    ("admin2", &["admin2", "adm_2"]),
    ("location", &["location", "where_coordinates"]),
    ("date", &["event_date", "date_start"]),
    ("fatalities", &["fatalities", "best"]),
    ("event id", &["event_id_cnty"]),
];

/// The columns a file's rows are projected onto: the date, fatalities,
/// the names grouped by and, in ACLED files, the event id.
#[derive(Clone, Debug)]
pub struct Projection {
    pub schema: Schema,
    /// Header name of each role's column, as written in the file (empty when not read).
    pub names: [String; ROLE_COUNT],
    /// Column index of each role's column, when read.
    pub columns: [Option<usize>; ROLE_COUNT],
    /// Span slot of each role's column, when read.
    pub(crate) slots: [Option<usize>; ROLE_COUNT],
    /// The projected columns for the splitter.
    pub(crate) wanted: Wanted,
}

impl Projection {
    /// Finds the columns for grouping by `keys` in a header row. On failure
    /// returns the roles that no column matched, e.g. `["admin1 (admin1 or adm_1)"]`.
    pub fn from_header(header: &[String], keys: &[Key]) -> Result<Projection, Vec<String>> {
        let lower: Vec<String> = header.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
        let mut required = [false; ROLE_COUNT];
        required[DATE] = true;
        required[FATALITIES] = true;
        for k in keys {
            if let Some(role) = k.name_slot() {
                required[role] = true;
            }
        }
        let mut columns = [None; ROLE_COUNT];
        let mut missing = Vec::new();
        for (role, (what, names)) in ROLES.iter().enumerate() {
            let found = lower.iter().position(|h| names.contains(&h.as_str()));
            match found {
                Some(col) if required[role] || role == EVENT_ID => columns[role] = Some(col),
                None if required[role] => missing.push(format!("{what} ({})", names.join(" or "))),
                _ => {}
            }
        }
        if !missing.is_empty() {
            return Err(missing);
        }
        let mut slots = [None; ROLE_COUNT];
        let mut projected = Vec::new();
        for (role, col) in columns.iter().enumerate() {
            if let Some(col) = *col {
                slots[role] = Some(projected.len());
                projected.push(col);
            }
        }
        let wanted = Wanted::new(&projected);
        let names = columns.map(|c| c.map(|c| header[c].trim().to_string()).unwrap_or_default());
        Ok(Projection { schema: detect_schema(header, &lower), names, columns, slots, wanted })
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

    const KEYS: [Key; 3] = [Key::Country, Key::Admin1, Key::Month];

    #[test]
    fn finds_columns_in_each_schema() {
        let acled = Projection::from_header(
            &header("event_id_cnty,event_date,year,country,admin1,admin2,fatalities,tags"),
            &KEYS,
        )
        .unwrap();
        let n = None;
        assert_eq!((acled.schema, acled.columns), (Schema::Acled, [Some(3), Some(4), n, n, Some(1), Some(6), Some(0)]));
        let old = Projection::from_header(&header("GWNO,EVENT_DATE,COUNTRY,ADMIN1,FATALITIES,,,"), &KEYS).unwrap();
        assert_eq!((old.schema, old.columns), (Schema::AcledUpperCase, [Some(2), Some(3), n, n, Some(1), Some(4), n]));
        let ucdp =
            Projection::from_header(&header("id,adm_1,adm_2,country,date_start,date_end,best,high"), &KEYS).unwrap();
        assert_eq!((ucdp.schema, ucdp.columns), (Schema::UcdpGed, [Some(3), Some(1), n, n, Some(4), Some(6), n]));
        assert_eq!(ucdp.min_fields(), 7);
        let by_admin2 = Projection::from_header(
            &header("id,adm_1,adm_2,country,date_start,date_end,best,high"),
            &[Key::Admin2, Key::Month],
        )
        .unwrap();
        assert_eq!(by_admin2.columns, [n, n, Some(2), n, Some(4), Some(6), n]);
    }

    #[test]
    fn names_the_missing_columns() {
        let err = Projection::from_header(&header("country,event_date,fatalities"), &KEYS).unwrap_err();
        assert_eq!(err, ["admin1 (admin1 or adm_1)"]);
        let err =
            Projection::from_header(&header("country,admin1,event_date,fatalities"), &[Key::Location]).unwrap_err();
        assert_eq!(err, ["location (location or where_coordinates)"]);
    }
}
