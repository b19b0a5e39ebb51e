//! Domain types shared by importers, the store, analytics and the server.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    UcdpGed,
    Acled,
    Hxl,
    CommunityReport,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::UcdpGed => "ucdp-ged",
            Source::Acled => "acled",
            Source::Hxl => "hxl",
            Source::CommunityReport => "community-report",
        }
    }

    /// Event data recorded by analysts, as opposed to what communities report.
    pub fn is_event_data(self) -> bool {
        !matches!(self, Source::CommunityReport)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Source {
    type Err = String;
    fn from_str(s: &str) -> Result<Source, String> {
        match s {
            "ucdp-ged" => Ok(Source::UcdpGed),
            "acled" => Ok(Source::Acled),
            "hxl" => Ok(Source::Hxl),
            "community-report" => Ok(Source::CommunityReport),
            other => Err(format!("unknown source `{other}`")),
        }
    }
}

/// Source, source id, file and line of a record: every record keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub source: Source,
    /// The id the source gives the record (UCDP `id`, ACLED `event_id_cnty`).
    pub source_id: String,
    pub file: String,
    /// 1-based physical line where the record starts.
    pub line: u64,
}

/// Where something happened, as the source gave it plus what we resolved.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Place {
    pub country: Option<String>,
    pub iso3: Option<String>,
    pub admin1: Option<String>,
    pub admin2: Option<String>,
    pub location: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Source precision code (UCDP `where_prec`, ACLED `geo_precision`).
    pub precision: Option<u8>,
    /// Admin-1 P-code, when resolved against loaded boundaries or given by the source.
    pub admin1_pcode: Option<String>,
    pub admin2_pcode: Option<String>,
}

impl Place {
    pub fn point(&self) -> Option<(f64, f64)> {
        Some((self.longitude?, self.latitude?))
    }
}

/// Dimensions and themes a record is read into, and how severe its harm is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tags {
    pub dimensions: Vec<String>,
    pub themes: Vec<String>,
    /// Severity level on the framework's severity scale (0 = no direct harm).
    pub severity: u8,
    /// Which mapping rule(s) produced the tags, for the record's explanation.
    pub rule: String,
}

/// One event from event data (UCDP, ACLED, HXL rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub provenance: Provenance,
    pub date: Date,
    pub date_end: Option<Date>,
    pub place: Place,
    /// The source's own category (UCDP type of violence name, ACLED event_type).
    pub event_type: String,
    pub sub_event_type: Option<String>,
    pub actor1: Option<String>,
    pub actor2: Option<String>,
    /// Best estimate of deaths.
    pub fatalities: u32,
    pub civilian_fatalities: Option<u32>,
    pub civilian_targeting: bool,
    pub notes: Option<String>,
    pub tags: Tags,
}

/// One row of a tagged table (HXL) that is not an event: an indicator
/// observation such as Ebola cases per health zone or people displaced per
/// county. Values are kept as written, keyed by their full HXL tag spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// `source_id` is a content hash of the row for tables without ids, so
    /// that re-importing the same file changes nothing.
    pub provenance: Provenance,
    pub date: Option<Date>,
    pub place: Place,
    /// (`#affected+infected+confirmed`, `179`) pairs, in column order.
    pub values: Vec<(String, String)>,
    /// Dimensions read from the tags that carry a non-zero value.
    pub tags: Tags,
}

/// The spatial units an assessment can be made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    Country,
    Admin1,
    Admin2,
    /// PRIO-GRID 0.5 x 0.5 degree cells (Tollefsen, Strand and Buhaug 2012).
    Grid,
}

impl UnitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Country => "country",
            UnitKind::Admin1 => "admin1",
            UnitKind::Admin2 => "admin2",
            UnitKind::Grid => "grid",
        }
    }
}

impl fmt::Display for UnitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UnitKind {
    type Err = String;
    fn from_str(s: &str) -> Result<UnitKind, String> {
        match s.to_ascii_lowercase().as_str() {
            "country" | "adm0" | "admin0" => Ok(UnitKind::Country),
            "admin1" | "adm1" => Ok(UnitKind::Admin1),
            "admin2" | "adm2" => Ok(UnitKind::Admin2),
            "grid" | "priogrid" | "prio-grid" | "cell" => Ok(UnitKind::Grid),
            other => Err(format!("`{other}` is not a unit: use country, admin1, admin2 or grid")),
        }
    }
}

/// PRIO-GRID cell id of a point: cells are 0.5 degrees, numbered row by row
/// from (-90, -180), 720 per row, starting at 1 (PRIO-GRID v2 codebook).
pub fn prio_grid_gid(latitude: f64, longitude: f64) -> Option<u32> {
    if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
        return None;
    }
    let row = (((latitude + 90.0) / 0.5).floor() as u32).min(359);
    let col = (((longitude + 180.0) / 0.5).floor() as u32).min(719);
    Some(row * 720 + col + 1)
}

/// Centre (lat, lon) of a PRIO-GRID cell.
pub fn prio_grid_centre(gid: u32) -> (f64, f64) {
    let row = (gid - 1) / 720;
    let col = (gid - 1) % 720;
    (row as f64 * 0.5 - 90.0 + 0.25, col as f64 * 0.5 - 180.0 + 0.25)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prio_grid_matches_ucdp_published_cells() {
        // UCDP GED 23.1 event 300380: (35.763369, 36.558974) -> priogrid_gid 181154.
        assert_eq!(prio_grid_gid(35.763369, 36.558974), Some(181154));
        // Bangui area, CAR: UCDP gives 137213 for (5.399784, 26.486881).
        assert_eq!(prio_grid_gid(5.399784, 26.486881), Some(137213));
        assert_eq!(prio_grid_gid(91.0, 0.0), None);
        let (lat, lon) = prio_grid_centre(181154);
        assert_eq!(prio_grid_gid(lat, lon), Some(181154));
    }
}

/// The file an import batch came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportFile {
    /// Path as the user gave it.
    pub path: String,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// Format detected (e.g. "ucdp-ged-csv", "acled-2016").
    pub format: String,
    /// Rows read from the file (imported + updated + unchanged + rejected).
    pub rows_read: u64,
    pub rows_rejected: u64,
}

/// An administrative area with its boundary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Area {
    pub pcode: String,
    pub name: String,
    /// 0 country, 1 admin-1, 2 admin-2.
    pub level: u8,
    pub parent_pcode: Option<String>,
    pub country: Option<String>,
    /// The boundary as a GeoJSON geometry object (text).
    pub geometry: Option<String>,
}
