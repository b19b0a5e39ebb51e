//! Column encodings every backend shares: dates and months as integers,
//! tag lists as text, observation values as JSON, and range-checked reads
//! of small integers.

use jiff::civil::Date;
use vitalcore_framework::{Month, Place, prio_grid_gid};

use crate::StoreError;

/// Separator of the compact tag lists stored in `dimensions` and `themes`
/// (`personal;political`). Framework keys never contain it.
pub const TAG_SEPARATOR: char = ';';

/// A date as the integer yyyymmdd (2020-12-30 -> 20201230): compact,
/// sortable, and readable in a SQL shell.
pub fn date_code(d: Date) -> i64 {
    d.year() as i64 * 10_000 + d.month() as i64 * 100 + d.day() as i64
}

pub fn date_from_code(code: i64) -> Result<Date, StoreError> {
    let (y, m, d) = (code / 10_000, (code / 100) % 100, code % 100);
    Date::new(y as i16, m as i8, d as i8)
        .map_err(|_| StoreError::Corrupt(format!("stored date {code} is not a yyyymmdd date")))
}

/// A month as the integer yyyymm (2014-03 -> 201403).
pub fn month_code(m: Month) -> i64 {
    m.year as i64 * 100 + m.month as i64
}

/// Days since 2000-01-01 (PostgreSQL's date epoch), proleptic Gregorian
/// (H. Hinnant, "chrono-compatible low-level date algorithms", days_from_civil).
pub fn days_since_2000(d: Date) -> i32 {
    let (y, m, day) = (d.year() as i64, d.month() as i64, d.day() as i64);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days_since_1970 = era * 146_097 + doe - 719_468;
    (days_since_1970 - 10_957) as i32
}

/// Inverse of [`days_since_2000`] (Hinnant's civil_from_days).
pub fn date_from_days_since_2000(days: i32) -> Result<Date, StoreError> {
    let z = days as i64 + 10_957 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    Date::new(y as i16, m as i8, d as i8)
        .map_err(|_| StoreError::Corrupt(format!("stored date {days} (days since 2000-01-01) is out of range")))
}

pub fn join_tags(list: &[String]) -> String {
    list.join(";")
}

pub fn split_tags(text: &str) -> Vec<String> {
    if text.is_empty() { Vec::new() } else { text.split(TAG_SEPARATOR).map(str::to_owned).collect() }
}

/// PRIO-GRID cell of a place's point, when it has one.
pub fn grid_of(place: &Place) -> Option<i64> {
    prio_grid_gid(place.latitude?, place.longitude?).map(i64::from)
}

pub fn now_rfc3339() -> String {
    jiff::Timestamp::now().to_string()
}

/// Tag-value pairs of an observation as stored: a JSON array of pairs.
pub fn values_to_json(values: &[(String, String)]) -> String {
    serde_json::to_string(values).expect("string pairs always serialise")
}

pub fn values_from_json(text: &str) -> Result<Vec<(String, String)>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("stored observation values are not valid: {e}")))
}

pub fn to_u32(v: i64, column: &str) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("stored {column} {v} is out of range")))
}

pub fn to_u8(v: i64, column: &str) -> Result<u8, StoreError> {
    u8::try_from(v).map_err(|_| StoreError::Corrupt(format!("stored {column} {v} is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_epoch_days_match_known_dates() {
        // PostgreSQL: SELECT DATE '2020-12-30' - DATE '2000-01-01' = 7669.
        assert_eq!(days_since_2000(Date::constant(2000, 1, 1)), 0);
        assert_eq!(days_since_2000(Date::constant(2020, 12, 30)), 7669);
        assert_eq!(days_since_2000(Date::constant(1999, 12, 31)), -1);
        assert_eq!(days_since_2000(Date::constant(1970, 1, 1)), -10_957);
        for d in [Date::constant(1989, 2, 28), Date::constant(2024, 2, 29), Date::constant(2100, 3, 1)] {
            assert_eq!(date_from_days_since_2000(days_since_2000(d)).unwrap(), d);
        }
    }

    #[test]
    fn date_and_month_codes_are_readable_integers() {
        assert_eq!(date_code(Date::constant(2020, 12, 30)), 20201230);
        assert_eq!(date_from_code(20201230).unwrap(), Date::constant(2020, 12, 30));
        assert!(date_from_code(20201332).is_err());
        assert_eq!(month_code(Month::new(2014, 3).unwrap()), 201403);
    }

    #[test]
    fn tag_lists_round_trip_including_empty() {
        let tags = vec!["personal".to_string(), "political".to_string()];
        assert_eq!(join_tags(&tags), "personal;political");
        assert_eq!(split_tags("personal;political"), tags);
        assert!(split_tags("").is_empty());
    }

    #[test]
    fn observation_values_round_trip_as_json_and_bad_json_is_corrupt() {
        let values =
            vec![("#population".to_string(), "1 200".to_string()), ("#org".to_string(), "\"MSF\";x".to_string())];
        assert_eq!(values_from_json(&values_to_json(&values)).unwrap(), values);
        assert!(values_from_json("[]").unwrap().is_empty());
        assert!(matches!(values_from_json("{not json"), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn small_integers_out_of_range_are_corrupt_and_name_the_column() {
        assert_eq!(to_u8(255, "precision").unwrap(), 255);
        assert_eq!(to_u32(4_294_967_295, "fatalities").unwrap(), u32::MAX);
        let err = to_u8(256, "precision").unwrap_err();
        assert!(matches!(&err, StoreError::Corrupt(m) if m.contains("precision 256")), "{err}");
        assert!(matches!(to_u32(-1, "fatalities"), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn a_place_has_a_grid_cell_only_with_both_coordinates() {
        let point = Place { latitude: Some(6.98), longitude: Some(19.18), ..Place::default() };
        let cell = grid_of(&point).expect("a point in the grid");
        assert_eq!(Some(cell), prio_grid_gid(6.98, 19.18).map(i64::from));
        assert_eq!(grid_of(&Place { longitude: None, ..point.clone() }), None);
        assert_eq!(grid_of(&Place::default()), None);
    }
}
