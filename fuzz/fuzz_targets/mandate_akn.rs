//! Fuzzes the Akoma Ntoso resolution reader and the tagger. Must never panic.
//! Seed it with the fixtures: cargo +nightly fuzz run mandate_akn ../crates/mandate/tests/fixtures/akn/Pre-2020/2013
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use vitalcore_framework::Framework;

fuzz_target!(|data: &[u8]| {
    static FRAMEWORK: OnceLock<Framework> = OnceLock::new();
    let fw = FRAMEWORK.get_or_init(Framework::built_in);
    if let Ok(vitalcore_mandate::Parsed::Resolution(mut res)) = vitalcore_mandate::parse_resolution("fuzz.xml", data) {
        vitalcore_mandate::Tagger::new(fw).tag(&mut res);
        let term = vitalcore_mandate::Term::new("stabiliz").expect("a term");
        let _ = term.in_resolution(&res);
    }
});
