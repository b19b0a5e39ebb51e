//! Integration tests of vitalcore-intake: one binary, one module per contract.

mod auth;
mod duplicates;
mod input;
mod kobo;
mod report;
mod sms;
mod workflow;

use jiff::Timestamp;
use vitalcore_intake::{CategoryMap, ContactKey, Intake};

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn key() -> ContactKey {
    ContactKey::from_text("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f").unwrap()
}

pub fn intake() -> Intake {
    Intake::new(key(), CategoryMap::built_in())
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
