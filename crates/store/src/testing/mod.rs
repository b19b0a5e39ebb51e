//! What every backend's tests and the store benchmark share (feature
//! `testing`, enabled only as a dev-dependency): synthetic records and the
//! store contract suite ([`conformance_tests!`](crate::conformance_tests)).

pub mod conformance;
pub mod synthetic;
