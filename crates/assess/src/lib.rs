//! Threat assessment: for each unit (country, admin-1, admin-2, PRIO-GRID
//! cell) and period, per dimension and theme, events, fatalities, civilian
//! fatalities and two scores from the Commission on Human Security (2003):
//! how *critical* the threat is and how *pervasive*. The formulas are in
//! `scores.rs` and the README; every row carries its components.

pub mod assess;
pub mod links;
pub mod period;
pub mod profile;
pub mod risk;
pub mod scores;
pub mod table;
pub mod units;

pub use assess::{AssessOptions, assess};
pub use links::{area_links, dimension_panel};
pub use period::Period;
pub use profile::{profile, summaries};
pub use risk::{AreaRisk, area_risks};
pub use scores::ScoreParams;
pub use table::{EventTable, EventTableBuilder};
pub use units::unit_of;
