//! Fuzzes the boundaries reader and the area index built from what it
//! accepts (geometry parsing, R-tree, point-in-polygon). Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(areas) = vitalcore_import::read_boundaries_from_bytes("fuzz.geojson", data)
        && let Ok(index) = vitalcore_spatial::AreaIndex::new(&areas)
    {
        let _ = index.locate(0.0, 0.0);
        let _ = index.by_name(1, "x");
    }
});
