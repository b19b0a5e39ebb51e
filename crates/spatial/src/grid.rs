//! Accelerated point-in-polygon with the same answers as `geo`'s
//! `MultiPolygon::intersects(&Point)` (boundary included).
//!
//! Why: placing events was the import's costliest step. Synthetic ACLED
//! import over the Central African Republic (`throughput` example of
//! vitalcore-import, 200k rows, thread CPU time): ~600k rows/s without
//! placement, ~220k rows/s with it on the simplified boundaries and ~80k
//! rows/s on the full-resolution OCHA ones (26k vertices for 17
//! prefectures), because `geo` tests every edge of every candidate polygon
//! (winding number, O(n)), and the nearest-area fallback measured the
//! distance to every edge too. Per point on the full boundaries (example
//! `pip_bench`): `geo` ~3 us, this index ~60 ns. After: ~290k rows/s on
//! both.
//! `geo`'s own options do not fit: `PreparedGeometry` answers through
//! `Relate` (a DE-9IM graph per query: no faster than the plain test),
//! `IntervalTreeMultiPolygon` only offers `Contains` (boundary excluded) and
//! sums windings over all rings of all polygons (differs from the
//! per-polygon answer when a hole has the exterior's orientation), and
//! `MonotonicPolygons` panics while building on the (invalid) simplified
//! fixture; the last two are also 1.4-3x slower than this index.
//!
//! Method (a uniform grid over the bounding box plus horizontal edge slabs):
//! - the bounding box is cut into a coarse grid of cells; a cell that no
//!   edge's bounding box touches lies inside one connected piece of the
//!   plane minus the boundary, so every point in it has the answer of the
//!   cell's centre, computed once at build time: such points are answered
//!   by one array read;
//! - the box is also cut into thin horizontal slabs, each listing (grouped
//!   by polygon and ring, in ring order) the edges whose y-range meets it.
//!   A point in a mixed cell runs `geo`'s winding-number test
//!   (`coord_pos_relative_to_ring`: same half-open crossing rules, same
//!   robust `orient2d`, boundary short-cut) on its slab's edges only: an edge
//!   whose y-range misses the point's y, or that lies wholly to its left,
//!   adds nothing to the winding number and cannot hold the point, in `geo`
//!   too. Rings combine as in `geo`: a polygon holds the point if its
//!   exterior does (or has it on its boundary) and the first hole that does
//!   not leave it outside has it on its boundary rather than inside.
//!
//! Distances for the nearest-area fallback: each cell also lists the
//! exterior edges whose bounding box meets it; only edges in cells within
//! the tolerance are measured, with `geo`'s own point-segment distance, so
//! the minimum is `geo`'s number whenever it is within the tolerance.
//!
//! Cell and slab look-ups use stored cell bounds and move to the
//! neighbouring cell when rounding put the point across a bound, and edges
//! are given to one extra cell/slab on each side, so rounding can only make
//! a cell mixed, never mis-answer.

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{BoundingRect, Coord, Distance, Euclidean, Line, LineString, MultiPolygon, Point};

/// Coarse-grid cells per edge, and bounds of the cell count.
const CELLS_PER_EDGE: usize = 4;
const MIN_CELLS: usize = 256;
const MAX_CELLS: usize = 1 << 16;
/// Slabs per edge and the maximum slab count: thin slabs keep a slab's edge
/// list short (a few boundary crossings plus the edges lying inside it).
const SLABS_PER_EDGE: f64 = 0.5;
const MAX_SLABS: usize = 1 << 14;

const OUTSIDE: u8 = 0;
const INSIDE: u8 = 1;
const MIXED: u8 = 2;

/// The bounds of equal-width intervals covering `[lo, hi]`, with look-up of
/// the (closed) interval holding a value.
#[derive(Debug, Clone)]
struct Axis {
    bounds: Vec<f64>,
    lo: f64,
    inverse_width: f64,
}

impl Axis {
    fn new(lo: f64, hi: f64, count: usize) -> Axis {
        let count = if hi > lo { count.max(1) } else { 1 };
        let width = (hi - lo) / count as f64;
        let mut bounds: Vec<f64> = (0..count).map(|i| lo + i as f64 * width).collect();
        bounds.push(hi);
        let inverse_width = if width > 0.0 { 1.0 / width } else { 0.0 };
        Axis { bounds, lo, inverse_width }
    }

    fn count(&self) -> usize {
        self.bounds.len() - 1
    }

    /// The interval `i` with `bounds[i] <= v <= bounds[i + 1]`, for `v` within `[lo, hi]`.
    fn locate(&self, v: f64) -> usize {
        let last = self.count() - 1;
        let mut i = (((v - self.lo) * self.inverse_width) as usize).min(last);
        while i > 0 && v < self.bounds[i] {
            i -= 1;
        }
        while i < last && v > self.bounds[i + 1] {
            i += 1;
        }
        i
    }

    /// The intervals that may meet `[a, b]`, one more on each side.
    fn span(&self, a: f64, b: f64) -> std::ops::RangeInclusive<usize> {
        let last = self.count() - 1;
        self.locate(a).saturating_sub(1)..=(self.locate(b) + 1).min(last)
    }

    /// The intervals covering `[a, b]` (within `[lo, hi]`), no extra ones.
    fn cover(&self, a: f64, b: f64) -> std::ops::RangeInclusive<usize> {
        self.locate(a)..=self.locate(b)
    }

    fn middle(&self, i: usize) -> f64 {
        (self.bounds[i] + self.bounds[i + 1]) * 0.5
    }
}

#[derive(Debug, Clone, Copy)]
struct Edge {
    start: Coord<f64>,
    end: Coord<f64>,
}

/// Consecutive edges of one ring within a slab.
#[derive(Debug, Clone, Copy)]
struct Run {
    polygon: u32,
    /// 0 for the exterior, 1.. for holes in their order.
    ring: u32,
    end: u32,
}

/// Where a point lies relative to one ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RingPos {
    Outside,
    Inside,
    OnBoundary,
}

/// A multipolygon prepared for fast point queries: a coarse grid of cells
/// known inside or outside, and horizontal slabs of edges for the rest
/// (see the `grid` module source for the method and why).
#[derive(Debug, Clone)]
pub struct GridShape {
    /// Bounding box (min x, min y, max x, max y); None for an empty shape.
    bbox: Option<[f64; 4]>,
    columns: Axis,
    rows: Axis,
    /// Row-major cell states: OUTSIDE, INSIDE or MIXED.
    cells: Vec<u8>,
    slabs: Axis,
    /// `runs[slab_runs[s]..slab_runs[s + 1]]` are the runs of slab `s`.
    slab_runs: Vec<u32>,
    runs: Vec<Run>,
    edges: Vec<Edge>,
    /// For distances: `exterior_edges[cell_edges[c]..cell_edges[c + 1]]`
    /// are the exterior edges whose bounding box may meet cell `c`.
    cell_edges: Vec<u32>,
    exterior_edges: Vec<Edge>,
    /// Per cell, the Chebyshev distance (in cells) to the nearest cell
    /// listing an exterior edge: 0 for such cells, capped at `u16::MAX`.
    edge_free_rings: Vec<u16>,
    /// The narrowest cell side, a little under (for the distance bound).
    cell_side: f64,
    /// Holes, measured with `geo` itself (rare in admin boundaries).
    holes: Vec<LineString<f64>>,
    /// A polygon with no exterior ring: `geo` puts it at distance 0.
    has_empty_polygon: bool,
}

impl GridShape {
    pub fn new(shape: &MultiPolygon<f64>) -> GridShape {
        let bbox = shape.bounding_rect().map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]);
        let [x0, y0, x1, y1] = bbox.unwrap_or([0.0, 0.0, 0.0, 0.0]);
        let rings = rings_of(shape);
        let edge_count: usize = rings.iter().map(|(_, _, e)| e.len()).sum();
        let (columns, rows) = grid_axes([x0, y0, x1, y1], (edge_count * CELLS_PER_EDGE).clamp(MIN_CELLS, MAX_CELLS));
        let slab_count = ((edge_count as f64 * SLABS_PER_EDGE) as usize).clamp(1, MAX_SLABS);
        let slabs = Axis::new(y0, y1, slab_count);
        let mut grid = GridShape {
            bbox,
            cells: vec![OUTSIDE; columns.count() * rows.count()],
            columns,
            rows,
            slabs,
            slab_runs: Vec::new(),
            runs: Vec::new(),
            edges: Vec::new(),
            cell_edges: Vec::new(),
            exterior_edges: Vec::new(),
            edge_free_rings: Vec::new(),
            cell_side: 0.0,
            holes: shape.iter().flat_map(|p| p.interiors().iter().cloned()).collect(),
            has_empty_polygon: shape.iter().any(|p| p.exterior().0.is_empty()),
        };
        grid.fill_slabs(&rings);
        grid.classify_cells(&rings);
        grid.fill_cell_edges(shape);
        grid.measure_edge_free_rings();
        grid
    }

    /// `geo`'s `Euclidean.distance(&Point, &MultiPolygon)` when it is at
    /// most `tolerance`, else None. Only exterior edges near the point are
    /// measured (the cells within `tolerance`), with `geo`'s own segment
    /// distance, so the minimum is the same number whenever it is within
    /// the tolerance: the closest edge then lies in the window.
    pub fn distance_within(&self, p: Coord<f64>, tolerance: f64) -> Option<f64> {
        let within = |d: f64| (d <= tolerance).then_some(d);
        if self.has_empty_polygon || self.intersects(p) {
            return within(0.0);
        }
        let point = Point(p);
        let mut best = self.holes.iter().map(|hole| Euclidean.distance(&point, hole)).fold(f64::MAX, f64::min);
        let [x0, y0, x1, y1] = self.bbox?;
        // A little slack over the tolerance for rounding in the distance.
        let reach = tolerance * (1.0 + 1e-9);
        let (wx0, wy0, wx1, wy1) = (p.x - reach, p.y - reach, p.x + reach, p.y + reach);
        if !(wx1 >= x0 && wx0 <= x1 && wy1 >= y0 && wy0 <= y1) {
            return within(best);
        }
        let width = self.columns.count();
        if p.x >= x0 && p.x <= x1 && p.y >= y0 && p.y <= y1 {
            // Every exterior edge lies in cells at least `rings` cells away
            // from p's cell, so at least `rings - 1` cell sides from p.
            let rings = self.edge_free_rings[self.rows.locate(p.y) * width + self.columns.locate(p.x)];
            if (f64::from(rings) - 1.0) * self.cell_side > reach {
                return within(best);
            }
        }
        // Every point of an edge lies in a cell the edge is listed in, so
        // the cells covering the window hold every edge within reach.
        for row in self.rows.cover(wy0.max(y0), wy1.min(y1)) {
            let (cy0, cy1) = (self.rows.bounds[row], self.rows.bounds[row + 1]);
            for column in self.columns.cover(wx0.max(x0), wx1.min(x1)) {
                let (cx0, cx1) = (self.columns.bounds[column], self.columns.bounds[column + 1]);
                if box_distance_squared(p, cx0, cy0, cx1, cy1) > reach * reach {
                    continue;
                }
                let cell = row * width + column;
                let range = self.cell_edges[cell] as usize..self.cell_edges[cell + 1] as usize;
                for edge in &self.exterior_edges[range] {
                    // Cheap bound first: an edge's box farther than the
                    // tolerance (or the best so far, with slack) cannot
                    // change the answer.
                    let (ex0, ex1) = min_max(edge.start.x, edge.end.x);
                    let (ey0, ey1) = min_max(edge.start.y, edge.end.y);
                    let bound = reach.min(best * (1.0 + 1e-9));
                    if box_distance_squared(p, ex0, ey0, ex1, ey1) > bound * bound {
                        continue;
                    }
                    best = best.min(Euclidean.distance(p, &Line::new(edge.start, edge.end)));
                }
            }
        }
        within(best)
    }

    /// Whether the shape holds the point, boundary included: the answer of
    /// `geo`'s `MultiPolygon::intersects(&Point)`.
    pub fn intersects(&self, p: Coord<f64>) -> bool {
        let Some([x0, y0, x1, y1]) = self.bbox else {
            return false;
        };
        if !(p.x >= x0 && p.x <= x1 && p.y >= y0 && p.y <= y1) {
            return false;
        }
        let cell = self.rows.locate(p.y) * self.columns.count() + self.columns.locate(p.x);
        match self.cells[cell] {
            INSIDE => true,
            OUTSIDE => false,
            _ => self.slab_intersects(self.slabs.locate(p.y), p),
        }
    }

    /// Puts every edge in the slabs its y-range may meet, grouped by
    /// (slab, polygon, ring) and in ring order within a group.
    fn fill_slabs(&mut self, rings: &[(u32, u32, Vec<Edge>)]) {
        let mut placed: Vec<(usize, u32, u32, Edge)> = Vec::new();
        for (polygon, ring, edges) in rings {
            for edge in edges {
                let (lo, hi) = min_max(edge.start.y, edge.end.y);
                for slab in self.slabs.span(lo, hi) {
                    placed.push((slab, *polygon, *ring, *edge));
                }
            }
        }
        // Stable: edges keep their ring order within a group.
        placed.sort_by_key(|&(slab, polygon, ring, _)| (slab, polygon, ring));
        self.slab_runs = vec![0; self.slabs.count() + 1];
        for (i, &(slab, polygon, ring, edge)) in placed.iter().enumerate() {
            let new_run = i == 0 || {
                let (s, p, r, _) = placed[i - 1];
                (s, p, r) != (slab, polygon, ring)
            };
            if new_run {
                self.runs.push(Run { polygon, ring, end: 0 });
            }
            self.edges.push(edge);
            let last = self.runs.len() - 1;
            self.runs[last].end = self.edges.len() as u32;
            self.slab_runs[slab + 1] = self.runs.len() as u32;
        }
        for s in 1..self.slab_runs.len() {
            self.slab_runs[s] = self.slab_runs[s].max(self.slab_runs[s - 1]);
        }
    }

    /// Marks cells touched by an edge's bounding box MIXED and answers the
    /// others once, at their centre.
    fn classify_cells(&mut self, rings: &[(u32, u32, Vec<Edge>)]) {
        let width = self.columns.count();
        for edge in rings.iter().flat_map(|(_, _, edges)| edges) {
            let (xa, xb) = min_max(edge.start.x, edge.end.x);
            let (ya, yb) = min_max(edge.start.y, edge.end.y);
            for row in self.rows.span(ya, yb) {
                for column in self.columns.span(xa, xb) {
                    self.cells[row * width + column] = MIXED;
                }
            }
        }
        for row in 0..self.rows.count() {
            for column in 0..width {
                let cell = row * width + column;
                if self.cells[cell] == MIXED {
                    continue;
                }
                let centre = Coord { x: self.columns.middle(column), y: self.rows.middle(row) };
                let inside = self.slab_intersects(self.slabs.locate(centre.y), centre);
                self.cells[cell] = if inside { INSIDE } else { OUTSIDE };
            }
        }
    }

    /// Buckets exterior edges (`geo`'s `lines()`: none for a ring of one
    /// position) by the cells their bounding box may meet.
    fn fill_cell_edges(&mut self, shape: &MultiPolygon<f64>) {
        let width = self.columns.count();
        let mut placed: Vec<(usize, Edge)> = Vec::new();
        for line in shape.iter().flat_map(|p| p.exterior().lines()) {
            let edge = Edge { start: line.start, end: line.end };
            let (xa, xb) = min_max(edge.start.x, edge.end.x);
            let (ya, yb) = min_max(edge.start.y, edge.end.y);
            for row in self.rows.span(ya, yb) {
                for column in self.columns.span(xa, xb) {
                    placed.push((row * width + column, edge));
                }
            }
        }
        placed.sort_by_key(|&(cell, _)| cell);
        self.cell_edges = vec![0; self.cells.len() + 1];
        for &(cell, _) in &placed {
            self.cell_edges[cell + 1] += 1;
        }
        for c in 1..self.cell_edges.len() {
            self.cell_edges[c] += self.cell_edges[c - 1];
        }
        self.exterior_edges = placed.into_iter().map(|(_, edge)| edge).collect();
    }

    /// Chebyshev distance transform of the cells listing exterior edges
    /// (two raster passes over the 8-neighbourhood).
    fn measure_edge_free_rings(&mut self) {
        let (width, height) = (self.columns.count(), self.rows.count());
        let mut d: Vec<u16> = (0..width * height)
            .map(|c| if self.cell_edges[c] == self.cell_edges[c + 1] { u16::MAX } else { 0 })
            .collect();
        let neighbours = |d: &[u16], row: usize, column: usize, forward: bool| -> u16 {
            let mut best = d[row * width + column];
            let rows = if forward {
                row.checked_sub(1).map(|r| (r, true))
            } else {
                (row + 1 < height).then_some((row + 1, true))
            };
            let side = if forward { column.checked_sub(1) } else { (column + 1 < width).then_some(column + 1) };
            if let Some(c) = side {
                best = best.min(d[row * width + c].saturating_add(1));
            }
            if let Some((r, _)) = rows {
                for c in column.saturating_sub(1)..=(column + 1).min(width - 1) {
                    best = best.min(d[r * width + c].saturating_add(1));
                }
            }
            best
        };
        for row in 0..height {
            for column in 0..width {
                d[row * width + column] = neighbours(&d, row, column, true);
            }
        }
        for row in (0..height).rev() {
            for column in (0..width).rev() {
                d[row * width + column] = neighbours(&d, row, column, false);
            }
        }
        self.edge_free_rings = d;
        let side = |axis: &Axis| axis.bounds.windows(2).map(|w| w[1] - w[0]).fold(f64::INFINITY, f64::min);
        self.cell_side = side(&self.columns).min(side(&self.rows)) * (1.0 - 1e-9);
    }

    /// The polygon-by-polygon answer from the edges of one slab.
    fn slab_intersects(&self, slab: usize, p: Coord<f64>) -> bool {
        let first = self.slab_runs[slab] as usize;
        let runs = &self.runs[first..self.slab_runs[slab + 1] as usize];
        let mut start = if first == 0 { 0 } else { self.runs[first - 1].end as usize };
        let mut i = 0;
        while i < runs.len() {
            let polygon = runs[i].polygon;
            // A polygon's runs: its exterior (if in this slab) then its holes.
            let mut j = i;
            while j < runs.len() && runs[j].polygon == polygon {
                j += 1;
            }
            if self.polygon_holds(&runs[i..j], start, p) {
                return true;
            }
            start = runs[j - 1].end as usize;
            i = j;
        }
        false
    }

    /// `geo`'s `Polygon` rule on one polygon's runs (starting at edge `start`).
    fn polygon_holds(&self, runs: &[Run], mut start: usize, p: Coord<f64>) -> bool {
        let mut inside_exterior = false;
        for run in runs {
            let end = run.end as usize;
            let pos = ring_position(&self.edges[start..end], p);
            start = end;
            if run.ring == 0 {
                match pos {
                    RingPos::Outside => return false,
                    RingPos::OnBoundary => return true,
                    RingPos::Inside => inside_exterior = true,
                }
            } else if !inside_exterior {
                // No exterior run in this slab: the exterior leaves p outside.
                return false;
            } else {
                match pos {
                    RingPos::Outside => {}
                    RingPos::OnBoundary => return true,
                    RingPos::Inside => return false,
                }
            }
        }
        inside_exterior
    }
}

/// `geo::coordinate_position::coord_pos_relative_to_ring` on a subset of a
/// ring's edges: winding number with half-open crossing rules and the
/// boundary short-cut. Edges skipped here (y-range missing `p.y`, or wholly
/// left of `p`) add nothing and cannot hold `p` in `geo` either.
fn ring_position(edges: &[Edge], p: Coord<f64>) -> RingPos {
    let mut winding = 0i32;
    for &Edge { start, end } in edges {
        if start.x < p.x && end.x < p.x {
            continue;
        }
        if start.y <= p.y {
            if end.y >= p.y {
                let o = RobustKernel::orient2d(start, end, p);
                if o == Orientation::CounterClockwise && end.y != p.y {
                    winding += 1;
                } else if o == Orientation::Collinear && between(p.x, start.x, end.x) {
                    return RingPos::OnBoundary;
                }
            }
        } else if end.y <= p.y {
            let o = RobustKernel::orient2d(start, end, p);
            if o == Orientation::Clockwise {
                winding -= 1;
            } else if o == Orientation::Collinear && between(p.x, start.x, end.x) {
                return RingPos::OnBoundary;
            }
        }
    }
    if winding == 0 { RingPos::Outside } else { RingPos::Inside }
}

/// Squared distance from `p` to the box (0 inside it).
fn box_distance_squared(p: Coord<f64>, x0: f64, y0: f64, x1: f64, y1: f64) -> f64 {
    let dx = (x0 - p.x).max(p.x - x1).max(0.0);
    let dy = (y0 - p.y).max(p.y - y1).max(0.0);
    dx * dx + dy * dy
}

fn between(v: f64, a: f64, b: f64) -> bool {
    let (lo, hi) = min_max(a, b);
    v >= lo && v <= hi
}

fn min_max(a: f64, b: f64) -> (f64, f64) {
    if a <= b { (a, b) } else { (b, a) }
}

/// (polygon, ring, edges) of every ring; ring 0 is the exterior. A ring of
/// one position is a zero-length edge (the point is its boundary, as in
/// `geo`); an empty ring has no edges; a polygon with an empty exterior is
/// skipped (`geo` calls it empty and outside everything).
fn rings_of(shape: &MultiPolygon<f64>) -> Vec<(u32, u32, Vec<Edge>)> {
    let mut out = Vec::new();
    for (k, polygon) in shape.0.iter().enumerate() {
        if polygon.exterior().0.is_empty() {
            continue;
        }
        let rings = std::iter::once(polygon.exterior()).chain(polygon.interiors());
        for (r, ring) in rings.enumerate() {
            let coords = &ring.0;
            let edges = match coords.len() {
                0 => Vec::new(),
                1 => vec![Edge { start: coords[0], end: coords[0] }],
                _ => coords.windows(2).map(|w| Edge { start: w[0], end: w[1] }).collect(),
            };
            out.push((k as u32, r as u32, edges));
        }
    }
    out
}

/// Column and row axes of about `cells` roughly square cells over the box.
fn grid_axes([x0, y0, x1, y1]: [f64; 4], cells: usize) -> (Axis, Axis) {
    let (w, h) = (x1 - x0, y1 - y0);
    let (nx, ny) = if w > 0.0 && h > 0.0 {
        let nx = ((cells as f64 * w / h).sqrt().round() as usize).clamp(1, cells);
        (nx, (cells / nx).max(1))
    } else if w > 0.0 {
        (cells, 1)
    } else {
        (1, cells)
    };
    (Axis::new(x0, x1, nx), Axis::new(y0, y1, ny))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Intersects, Point, polygon};

    #[test]
    fn axis_locate_stays_within_closed_bounds() {
        let axis = Axis::new(0.1, 0.7, 6);
        for v in [0.1, 0.2, 0.3, 0.30000000000000004, 0.4, 0.5, 0.6, 0.7] {
            let i = axis.locate(v);
            assert!(axis.bounds[i] <= v && v <= axis.bounds[i + 1], "{v} in {i}");
        }
    }

    #[test]
    fn a_square_with_a_hole_answers_like_geo() {
        let shape = MultiPolygon::new(vec![polygon!(
            exterior: [(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 4.)],
            interiors: [[(x: 1., y: 1.), (x: 3., y: 1.), (x: 3., y: 3.), (x: 1., y: 3.)]],
        )]);
        let grid = GridShape::new(&shape);
        // Expected by hand: inside the ring, in the hole, on the hole's
        // edge and corner, on the outer edge, outside.
        for (x, y, expected) in [
            (0.5, 0.5, true),
            (2.0, 2.0, false),
            (2.0, 1.0, true),
            (3.0, 3.0, true),
            (4.0, 2.0, true),
            (4.5, 2.0, false),
            (-0.1, 2.0, false),
        ] {
            let p = Coord { x, y };
            assert_eq!(grid.intersects(p), expected, "({x}, {y})");
            assert_eq!(shape.intersects(&Point(p)), expected, "geo at ({x}, {y})");
        }
    }
}
