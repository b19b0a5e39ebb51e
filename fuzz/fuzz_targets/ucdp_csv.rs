//! Fuzzes the UCDP GED CSV reader: any bytes, prefixed with a valid header so that the
//! fuzzer spends its time in the row parser. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use vitalcore_framework::Framework;

const HEADER: &[u8] = b"id,relid,year,type_of_violence,side_a,side_b,where_prec,where_coordinates,adm_1,adm_2,latitude,longitude,country,date_start,date_end,deaths_civilians,best\n";

fuzz_target!(|data: &[u8]| {
    static FRAMEWORK: OnceLock<Framework> = OnceLock::new();
    let fw = FRAMEWORK.get_or_init(Framework::built_in);
    let mut bytes = HEADER.to_vec();
    bytes.extend_from_slice(data);
    let _ = vitalcore_import::read_events_from_bytes("fuzz.csv", &bytes, fw, None, &|_| {});
    // And without the header: detection must refuse or read, never panic.
    let _ = vitalcore_import::read_events_from_bytes("fuzz.csv", data, fw, None, &|_| {});
});
