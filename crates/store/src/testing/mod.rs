//! What every backend's tests and the store benchmark share (feature
//! `testing`, enabled only as a dev-dependency): synthetic records, the
//! in-memory report store and the contract suites
//! ([`conformance_tests!`](crate::conformance_tests) for events,
//! [`report_conformance_tests!`](crate::report_conformance_tests) for reports).

pub mod conformance;
pub mod mandates;
pub mod memory;
pub mod reports;
pub mod sync;
pub mod synthetic;

pub use memory::MemoryStore;
