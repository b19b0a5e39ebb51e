//! Fuzzes the ACLED CSV (current schema) reader: any bytes, prefixed with a valid header so that the
//! fuzzer spends its time in the row parser. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use vitalcore_framework::Framework;

const HEADER: &[u8] = b"event_id_cnty,event_date,year,disorder_type,event_type,sub_event_type,actor1,actor2,civilian_targeting,country,admin1,admin2,location,latitude,longitude,geo_precision,notes,fatalities\n";

fuzz_target!(|data: &[u8]| {
    static FRAMEWORK: OnceLock<Framework> = OnceLock::new();
    let fw = FRAMEWORK.get_or_init(Framework::built_in);
    let mut bytes = HEADER.to_vec();
    bytes.extend_from_slice(data);
    let _ = vitalcore_import::read_events_from_bytes("fuzz.csv", &bytes, fw, None, &|_| {});
    // And without the header: detection must refuse or read, never panic.
    let _ = vitalcore_import::read_events_from_bytes("fuzz.csv", data, fw, None, &|_| {});
});
