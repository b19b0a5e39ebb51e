//! One area's profile: totals, scores and monthly trend per dimension and
//! theme; and the per-area summaries a map colours by. The work is done by
//! [`EventTable`]; these build one for a single call.

use crate::assess::AssessOptions;
use crate::table::EventTable;
use vitalcore_framework::{Event, Framework};
use vitalcore_proto::{AreaProfile, AreaSummary};

/// The profile of the unit named `query` (P-code, id or name: the id
/// exactly, the name case-insensitively), or None when no event in range
/// belongs to it.
pub fn profile(events: &[Event], fw: &Framework, opts: &AssessOptions, query: &str) -> Option<AreaProfile> {
    EventTable::new(events).profile(fw, opts, query)
}

/// Per unit: event totals and the highest-scoring dimension over the range
/// (one period), for a map.
pub fn summaries(events: &[Event], fw: &Framework, opts: &AssessOptions, level: u8) -> Vec<AreaSummary> {
    EventTable::new(events).summaries(fw, opts, level)
}
