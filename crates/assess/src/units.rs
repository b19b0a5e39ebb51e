//! Which unit an event belongs to, for each unit kind.

use vitalcore_framework::{Event, UnitKind, prio_grid_gid};

/// (unit id, display name) of the event for `kind`, or None when the event
/// cannot be placed at that level (no admin-1 name or P-code, no point).
/// P-codes are preferred; without them the id is `Country/Admin1[/Admin2]`.
pub fn unit_of(event: &Event, kind: UnitKind) -> Option<(String, String)> {
    let p = &event.place;
    let nonempty = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let country = nonempty(&p.country).or_else(|| nonempty(&p.iso3));
    match kind {
        UnitKind::Country => {
            let name = country?;
            Some((nonempty(&p.iso3).unwrap_or_else(|| name.clone()), name))
        }
        UnitKind::Admin1 => {
            let name = nonempty(&p.admin1);
            match (nonempty(&p.admin1_pcode), name) {
                (Some(code), name) => Some((code.clone(), name.unwrap_or(code))),
                (None, Some(name)) => Some((format!("{}/{}", country.unwrap_or_default(), name), name)),
                (None, None) => None,
            }
        }
        UnitKind::Admin2 => {
            let name = nonempty(&p.admin2);
            match (nonempty(&p.admin2_pcode), name) {
                (Some(code), name) => Some((code.clone(), name.unwrap_or(code))),
                (None, Some(name)) => {
                    let a1 = nonempty(&p.admin1).unwrap_or_default();
                    Some((format!("{}/{}/{}", country.unwrap_or_default(), a1, name), name))
                }
                (None, None) => None,
            }
        }
        UnitKind::Grid => {
            let gid = prio_grid_gid(p.latitude?, p.longitude?)?;
            Some((gid.to_string(), format!("PRIO-GRID {gid}")))
        }
    }
}

/// A key for "the same locality": the location name, or the point rounded to
/// about a kilometre when there is no name.
pub fn locality_of(event: &Event) -> Option<String> {
    let p = &event.place;
    if let Some(name) = p.location.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        return Some(name.to_lowercase());
    }
    let (lon, lat) = p.point()?;
    Some(format!("{:.2},{:.2}", lat, lon))
}
