//! Integration tests of vitalcore-app: one binary, one module per use case.

mod access;
mod accounts;
mod backends;
mod database;
mod kobo;
mod notify;
mod pg;
mod sms_once;
mod warnings;

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
