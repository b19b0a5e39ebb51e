//! Placing a record in admin areas: point-in-polygon when boundaries are
//! loaded and the record has coordinates, else its admin names or P-codes
//! matched against the loaded areas. (The PRIO-GRID cell follows from the
//! coordinates with `vitalcore_framework::prio_grid_gid` wherever needed.)

use vitalcore_framework::{Framework, Place};
use vitalcore_spatial::{AreaIndex, fold_name};
use vitalcore_store::Area;

pub(crate) struct Context<'a> {
    pub framework: &'a Framework,
    pub areas: Option<&'a AreaIndex>,
}

/// Sets `admin1_pcode` / `admin2_pcode` where the loaded areas allow.
pub(crate) fn resolve(place: &mut Place, areas: Option<&AreaIndex>) {
    let Some(index) = areas else { return };
    if let Some((lon, lat)) = place.point() {
        // Inside a polygon: the geometry wins. Snapped to the nearest area
        // (a point just outside every polygon): only within the same country.
        let country = place.country.as_deref();
        let (strict1, strict2) = index.locate_strict(lon, lat);
        let (near1, near2) = if strict1.is_none() || (strict2.is_none() && index.has_admin2()) {
            index.locate(lon, lat)
        } else {
            (None, None)
        };
        let a1 = strict1.or(near1.filter(|a| same_country(a, country)));
        let a2 = strict2.or(near2.filter(|a| same_country(a, country)));
        if let Some(a) = a1 {
            place.admin1_pcode = Some(a.pcode.clone());
        }
        if let Some(a) = a2 {
            place.admin2_pcode = Some(a.pcode.clone());
            if place.admin1_pcode.is_none() {
                place.admin1_pcode = a.parent_pcode.clone();
            }
        }
    }
    if place.admin1_pcode.is_none() {
        place.admin1_pcode =
            by_name_or_pcode(index, 1, place.admin1.as_deref(), place.country.as_deref());
    }
    if place.admin2_pcode.is_none() {
        place.admin2_pcode =
            by_name_or_pcode(index, 2, place.admin2.as_deref(), place.country.as_deref());
    }
}

fn by_name_or_pcode(
    index: &AreaIndex,
    level: u8,
    name: Option<&str>,
    country: Option<&str>,
) -> Option<String> {
    let name = name?.trim();
    if name.is_empty() {
        return None;
    }
    index
        .by_pcode(name)
        .filter(|a| a.level == level)
        .or_else(|| index.by_name_in(level, name, country))
        .map(|a| a.pcode.clone())
}

/// Whether an area can belong to the record's country. Unknown on either
/// side counts as the same; names are compared folded, and one containing
/// the other counts, as do names sharing their first 8 letters
/// ("Democratic Republic of Congo" / "... of the Congo"). This keeps a point
/// a few kilometres across a border, snapped to the nearest area, from
/// landing in the neighbouring country's area.
fn same_country(area: &Area, country: Option<&str>) -> bool {
    let (Some(a), Some(b)) = (area.country.as_deref(), country) else {
        return true;
    };
    let (a, b) = (fold_name(a), fold_name(b));
    if a.is_empty() || b.is_empty() || a.contains(&b) || b.contains(&a) {
        return true;
    }
    let prefix = |s: &str| s.chars().take(8).collect::<String>();
    prefix(&a) == prefix(&b)
}
