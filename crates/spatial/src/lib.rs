//! vitalcore-spatial: places points and names in administrative areas.
//!
//! Point-in-polygon: an `rstar` R-tree of bounding boxes picks candidate
//! areas, then a grid-and-slab index per area (module `grid`) answers with
//! exactly the result of `geo`'s containment test (boundary included) at a
//! fraction of its cost. Polygons are read from the areas' GeoJSON geometry.
//! Names are compared after folding case, accents and punctuation, so that
//! "Haute-Kotto" finds "Haute Kotto" and "Ombella-M'Poko" finds "Ombella M'Poko".

mod fold;
mod grid;

use geo::{BoundingRect, Coord, MultiPolygon, Point};
pub use grid::GridShape;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use std::collections::HashMap;
use thiserror::Error;
use vitalcore_framework::Area;

pub use fold::fold_name;

/// How far (in degrees) a point that falls in no polygon may lie from the
/// nearest area and still be placed in it. Event coordinates on a coast,
/// a river border or a boundary drawn at 1:200k often land just outside
/// every polygon; 0.1 degree is about 11 km at the equator, about the size
/// of ACLED/UCDP precision-1 and -2 locations.
pub const NEAREST_AREA_TOLERANCE_DEG: f64 = 0.1;

#[derive(Debug, Error)]
pub enum SpatialError {
    #[error("area {pcode} ({name}): its geometry is not a GeoJSON Polygon or MultiPolygon: {problem}")]
    Geometry { pcode: String, name: String, problem: String },
}

type BoxEntry = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// One administrative level: polygons and their bounding-box R-tree.
#[derive(Default)]
struct Level {
    /// Indexes into `AreaIndex::areas`, parallel to `grids`.
    members: Vec<usize>,
    /// The areas' polygons prepared for point queries.
    grids: Vec<GridShape>,
    tree: RTree<BoxEntry>,
}

/// Areas of admin levels 1 and 2 ready for point and name look-ups.
pub struct AreaIndex {
    areas: Vec<Area>,
    levels: [Level; 3],
    /// (level, folded name) -> area indexes (several countries may share a name).
    names: HashMap<(u8, String), Vec<usize>>,
    pcodes: HashMap<String, usize>,
}

impl AreaIndex {
    /// Builds the index. Areas without geometry are kept for name and P-code
    /// look-ups only.
    pub fn new(areas: &[Area]) -> Result<AreaIndex, SpatialError> {
        let mut index = AreaIndex {
            areas: areas.to_vec(),
            levels: Default::default(),
            names: HashMap::new(),
            pcodes: HashMap::new(),
        };
        let mut boxes: [Vec<BoxEntry>; 3] = Default::default();
        for (i, area) in areas.iter().enumerate() {
            index.names.entry((area.level, fold_name(&area.name))).or_default().push(i);
            index.pcodes.insert(area.pcode.to_ascii_uppercase(), i);
            let (Some(text), Some(level)) = (&area.geometry, index.levels.get_mut(area.level as usize)) else {
                continue;
            };
            let shape = parse_geometry(text).map_err(|problem| SpatialError::Geometry {
                pcode: area.pcode.clone(),
                name: area.name.clone(),
                problem,
            })?;
            if let Some(rect) = shape.bounding_rect() {
                let (min, max) = (rect.min(), rect.max());
                let slot = level.grids.len();
                boxes[area.level as usize]
                    .push(GeomWithData::new(Rectangle::from_corners([min.x, min.y], [max.x, max.y]), slot));
                level.members.push(i);
                level.grids.push(GridShape::new(&shape));
            }
        }
        for (level, entries) in index.levels.iter_mut().zip(boxes) {
            level.tree = RTree::bulk_load(entries);
        }
        Ok(index)
    }

    pub fn areas(&self) -> &[Area] {
        &self.areas
    }

    /// Whether any level-2 area with a boundary is loaded.
    pub fn has_admin2(&self) -> bool {
        !self.levels[2].grids.is_empty()
    }

    /// The admin-1 and admin-2 areas containing the point (lon, lat).
    /// A point on a shared boundary goes to the first area found. A point in
    /// no polygon goes to the nearest area within
    /// [`NEAREST_AREA_TOLERANCE_DEG`] (coastal and border events), else None.
    pub fn locate(&self, lon: f64, lat: f64) -> (Option<&Area>, Option<&Area>) {
        if !lon.is_finite() || !lat.is_finite() {
            return (None, None);
        }
        (self.locate_level(1, lon, lat, true), self.locate_level(2, lon, lat, true))
    }

    /// Like [`AreaIndex::locate`] without the nearest-area fallback: only
    /// areas whose polygon contains the point (boundary included).
    pub fn locate_strict(&self, lon: f64, lat: f64) -> (Option<&Area>, Option<&Area>) {
        if !lon.is_finite() || !lat.is_finite() {
            return (None, None);
        }
        (self.locate_level(1, lon, lat, false), self.locate_level(2, lon, lat, false))
    }

    fn locate_level(&self, level: usize, lon: f64, lat: f64, nearest: bool) -> Option<&Area> {
        let level = &self.levels[level];
        let point = Point::new(lon, lat);
        let containing = level
            .tree
            .locate_all_at_point(&[lon, lat])
            .find(|entry| level.grids[entry.data].intersects(Coord { x: lon, y: lat }));
        let slot = match containing {
            Some(entry) => entry.data,
            None if nearest => nearest_within(level, point, NEAREST_AREA_TOLERANCE_DEG)?,
            None => return None,
        };
        Some(&self.areas[level.members[slot]])
    }

    /// The area of `level` whose name matches, ignoring case, accents,
    /// spaces and punctuation. With several matches (same name in two
    /// countries) the first loaded wins; use [`AreaIndex::by_name_in`].
    pub fn by_name(&self, level: u8, name: &str) -> Option<&Area> {
        self.names.get(&(level, fold_name(name)))?.first().map(|&i| &self.areas[i])
    }

    /// Like [`AreaIndex::by_name`], restricted to areas of `country` (name or
    /// P-code prefix as stored on the area) when the areas say their country.
    pub fn by_name_in(&self, level: u8, name: &str, country: Option<&str>) -> Option<&Area> {
        let found = self.names.get(&(level, fold_name(name)))?;
        let Some(country) = country.map(fold_name).filter(|c| !c.is_empty()) else {
            return found.first().map(|&i| &self.areas[i]);
        };
        found.iter().map(|&i| &self.areas[i]).find(|a| a.country.as_deref().is_none_or(|c| fold_name(c) == country))
    }

    /// The area with this P-code (case-insensitive).
    pub fn by_pcode(&self, pcode: &str) -> Option<&Area> {
        self.pcodes.get(&pcode.trim().to_ascii_uppercase()).map(|&i| &self.areas[i])
    }
}

/// The slot of the area whose polygon lies closest to `point`, if within
/// `tolerance` (the first such area in R-tree order on a tie). Distances are
/// `geo`'s Euclidean ones, measured by [`GridShape::distance_within`] on
/// the edges near the point only.
fn nearest_within(level: &Level, point: Point<f64>, tolerance: f64) -> Option<usize> {
    let (x, y) = (point.x(), point.y());
    let window = AABB::from_corners([x - tolerance, y - tolerance], [x + tolerance, y + tolerance]);
    level
        .tree
        .locate_in_envelope_intersecting(&window)
        .filter_map(|entry| {
            let d = level.grids[entry.data].distance_within(point.0, tolerance)?;
            Some((entry.data, d))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(slot, _)| slot)
}

/// Reads a GeoJSON Polygon or MultiPolygon geometry object.
pub fn parse_geometry(text: &str) -> Result<MultiPolygon<f64>, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let kind = value.get("type").and_then(|t| t.as_str()).unwrap_or("");
    let coords = value.get("coordinates").ok_or("no `coordinates`")?;
    match kind {
        "Polygon" => Ok(MultiPolygon::new(vec![polygon(coords)?])),
        "MultiPolygon" => {
            let parts = coords.as_array().ok_or("`coordinates` is not a list of polygons")?;
            Ok(MultiPolygon::new(parts.iter().map(polygon).collect::<Result<_, _>>()?))
        }
        other => Err(format!("type is `{other}`")),
    }
}

fn polygon(rings: &serde_json::Value) -> Result<geo::Polygon<f64>, String> {
    let rings = rings.as_array().ok_or("a polygon is not a list of rings")?;
    let mut rings = rings.iter().map(ring);
    let exterior = rings.next().ok_or("a polygon has no ring")??;
    let interiors = rings.collect::<Result<Vec<_>, _>>()?;
    Ok(geo::Polygon::new(exterior, interiors))
}

fn ring(points: &serde_json::Value) -> Result<geo::LineString<f64>, String> {
    let points = points.as_array().ok_or("a ring is not a list of positions")?;
    points
        .iter()
        .map(|p| {
            let xy = p.as_array().filter(|a| a.len() >= 2).ok_or("a position is not [lon, lat]")?;
            match (xy[0].as_f64(), xy[1].as_f64()) {
                (Some(x), Some(y)) => Ok(geo::Coord { x, y }),
                _ => Err("a position holds something other than numbers".to_string()),
            }
        })
        .collect::<Result<Vec<_>, String>>()
        .map(geo::LineString::new)
}
