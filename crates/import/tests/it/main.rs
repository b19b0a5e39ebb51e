//! Integration tests of vitalcore-import on committed fixtures (see
//! fixtures/SOURCE.md), plus checks on the real public files when
//! ../shared/datasets (or $VITALCORE_DATASETS) is there.

mod boundaries;
mod detect;
mod events;
mod hxl;
mod real_data;
mod rejects;

use std::path::PathBuf;
use vitalcore_framework::Framework;

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

pub fn framework() -> Framework {
    Framework::built_in()
}

pub fn no_progress(_: u64) {}
