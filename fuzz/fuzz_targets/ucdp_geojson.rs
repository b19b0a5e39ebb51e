//! Fuzzes the UCDP GED GeoJSON reader (and the feature line scanner): any
//! bytes after the start of a FeatureCollection. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use vitalcore_framework::Framework;

const START: &[u8] = b"{\"type\": \"FeatureCollection\", \"features\": [\n{\"type\": \"Feature\", \"properties\": {\"type_of_violence\": 1, \"best\": 0, ";

fuzz_target!(|data: &[u8]| {
    static FRAMEWORK: OnceLock<Framework> = OnceLock::new();
    let fw = FRAMEWORK.get_or_init(Framework::built_in);
    let mut bytes = START.to_vec();
    bytes.extend_from_slice(data);
    let _ = vitalcore_import::read_events_from_bytes("fuzz.geojson", &bytes, fw, None, &|_| {});
});
