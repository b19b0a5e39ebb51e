//! The codified human-security framework and the domain types every other
//! crate shares. No I/O happens here: the framework is parsed from a string
//! (the built-in default or a file the caller read).

pub mod cells;
pub mod domain;
pub mod error;
pub mod mandates;
pub mod mapping;
pub mod taxonomy;
pub mod time;

pub use cells::{spreadsheet_cell, spreadsheet_record};
pub use domain::{Area, Event, ImportFile, Observation, Place, Provenance, Source, Tags, UnitKind, prio_grid_gid};
pub use error::FrameworkError;
pub use mandates::{MandateTask, MandateVerb, Mission, normalize_phrase};
pub use taxonomy::{BUILTIN_LEXICON, BUILTIN_MANDATES, BUILTIN_TAXONOMY, Framework};
pub use time::{Month, parse_date};
