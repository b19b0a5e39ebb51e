//! Placing a record in admin areas: point-in-polygon when boundaries are
//! loaded and the record has coordinates, else its admin names or P-codes
//! matched against the loaded areas. (The PRIO-GRID cell follows from the
//! coordinates with `vitalcore_framework::prio_grid_gid` wherever needed.)

use vitalcore_framework::Area;
use vitalcore_framework::{Framework, Place};
use vitalcore_spatial::{AreaIndex, fold_name};

pub(crate) struct Context<'a> {
    pub framework: &'a Framework,
    pub areas: Option<&'a AreaIndex>,
}

impl<'a> Context<'a> {
    pub fn new(framework: &'a Framework, areas: Option<&'a AreaIndex>) -> Context<'a> {
        Context { framework, areas }
    }

    /// Places `place` in the loaded areas. No cache of answers: with the
    /// spatial crate's grid index a lookup costs ~130 ns, less than hashing
    /// the coordinates (measured: 390-412k rows/s without a cache against
    /// 255-283k with one, full OCHA boundaries).
    pub fn resolve(&self, place: &mut Place) {
        resolve(place, self.areas);
    }
}

/// (admin-1 P-code, admin-2 P-code, admin-2's parent P-code).
type Placed = (Option<String>, Option<String>, Option<String>);

/// (admin-1 P-code, admin-2 P-code, admin-2's parent) of a point. Inside a
/// polygon the geometry wins; a point just outside every polygon snaps to
/// the nearest area, but only within the same country.
fn locate_point(place: &Place, index: &AreaIndex, lon: f64, lat: f64) -> Placed {
    let country = place.country.as_deref();
    let (strict1, strict2) = index.locate_strict(lon, lat);
    let (near1, near2) = if strict1.is_none() || (strict2.is_none() && index.has_admin2()) {
        index.locate(lon, lat)
    } else {
        (None, None)
    };
    let a1 = strict1.or(near1.filter(|a| same_country(a, country)));
    let a2 = strict2.or(near2.filter(|a| same_country(a, country)));
    (a1.map(|a| a.pcode.clone()), a2.map(|a| a.pcode.clone()), a2.and_then(|a| a.parent_pcode.clone()))
}

/// Geometry overrides what a source said, but never erases it.
fn set_pcodes(place: &mut Place, admin1: Option<String>, admin2: Option<String>) {
    if admin1.is_some() {
        place.admin1_pcode = admin1;
    }
    if admin2.is_some() {
        place.admin2_pcode = admin2;
    }
}

fn fill_by_name(place: &mut Place, index: &AreaIndex) {
    if place.admin1_pcode.is_none() {
        place.admin1_pcode = by_name_or_pcode(index, 1, place.admin1.as_deref(), place.country.as_deref());
    }
    if place.admin2_pcode.is_none() {
        place.admin2_pcode = by_name_or_pcode(index, 2, place.admin2.as_deref(), place.country.as_deref());
    }
}

/// Sets `admin1_pcode` / `admin2_pcode` where the loaded areas allow.
pub(crate) fn resolve(place: &mut Place, areas: Option<&AreaIndex>) {
    let Some(index) = areas else { return };
    if let Some((lon, lat)) = place.point() {
        let (a1, a2, parent) = locate_point(place, index, lon, lat);
        set_pcodes(place, a1.or(parent), a2);
    }
    fill_by_name(place, index);
}

fn by_name_or_pcode(index: &AreaIndex, level: u8, name: Option<&str>, country: Option<&str>) -> Option<String> {
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
