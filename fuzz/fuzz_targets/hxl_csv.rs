//! Fuzzes the HXL table reader and the observation builder. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use vitalcore_framework::Framework;

fuzz_target!(|data: &[u8]| {
    static FRAMEWORK: OnceLock<Framework> = OnceLock::new();
    let fw = FRAMEWORK.get_or_init(Framework::built_in);
    let _ = vitalcore_import::HxlTable::from_bytes("fuzz.csv", data);
    let _ = vitalcore_import::read_observations_from_bytes("fuzz.csv", data, fw, None, &|_| {});
});
