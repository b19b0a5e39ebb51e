//! vitalcore-threat-links: which threat dimensions move together and which precede
//! which.
//!
//! Input: a [`DimensionPanel`] of counts per (unit, month, dimension). For every
//! ordered pair of dimensions (A, B) and lag L in 1..=max_lag, and every
//! unordered pair at lag 0, the statistic is the Pearson correlation between
//! A at month t-L and B at month t over all unit-months, after `ln(1+count)`
//! and removing each unit's own mean of each dimension (so units that are
//! simply busier do not create links). Significance: a permutation test that
//! shuffles the months of A within each unit; two-sided p = (1 + #{|r*| >= |r|})
//! / (1 + permutations). The Benjamini-Hochberg procedure over all tested
//! edges gives q-values; edges with q <= the chosen false-discovery rate are kept.

mod panel;
mod render;
mod stats;

pub use panel::{DimensionPanel, PanelError};
pub use render::to_dot;
pub use stats::{Edge, Network, NetworkConfig, NetworkReport, benjamini_hochberg, threat_network, unit_network};
