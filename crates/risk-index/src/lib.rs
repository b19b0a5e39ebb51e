//! vitalcore-risk-index: composite risk indices whose structure is data.
//!
//! A [`Tree`] (read from TOML) lists the indicators a score needs and the
//! components built from them: min-max scaling to 0-10 (optionally on a log
//! scale, optionally inverted), small expressions for derived values, and
//! aggregations (arithmetic mean, geometric mean, INFORM's geometric rule).
//! [`Tree::evaluate`] scores one unit (a country, an admin area) and keeps
//! every intermediate value, so a score can show its tree and which inputs
//! were missing.
//!
//! Two trees are built in: [`Tree::inform_2023`] reproduces the INFORM Risk
//! Index 2023 (see [`inform`]), and [`Tree::local_default`] is a subnational
//! hazard/vulnerability/coping index used by [`local::local_risk`].

mod engine;
mod error;
pub mod expr;
pub mod inform;
pub mod local;
pub mod math;
mod tree;

pub use engine::{Evaluation, Explanation, Inputs};
pub use error::Error;
pub use local::{AreaScore, local_risk};
pub use tree::{Aggregation, InputSpec, Node, NodeKind, Tree};
