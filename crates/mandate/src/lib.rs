//! Security Council resolutions read through the human-security lens: the
//! Akoma Ntoso reader (`akn`, from bytes, no I/O), the tagger (task families,
//! dimensions, themes, operative verb, missions; rules from the framework's
//! mandate tables), the term trend, and the corpus reader (files and folders).

pub mod akn;
pub mod corpus;
pub mod error;
pub mod model;
mod phrase;
pub mod tagger;
pub mod timeline;
pub mod trend;

pub use akn::{Parsed, parse_resolution, parse_str};
pub use corpus::{Corpus, read_paths, read_paths_with};
pub use error::MandateError;
pub use model::{Kind, Paragraph, Point, Resolution};
pub use tagger::Tagger;
pub use timeline::{Change, Step, Timeline, mandates_mission, timeline};
pub use trend::{By, Term, Trend, TrendRow, trend};
