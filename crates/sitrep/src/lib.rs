//! vitalcore-sitrep: situation reports. A [`Briefing`] (gathered by
//! `vitalcore_app::briefing`, every community-report figure already
//! published for its audience) rendered as:
//!
//! - [`html`]: one self-contained HTML file: inline CSS, the charts and the
//!   map as inline SVG, no script and nothing loaded from outside;
//! - [`pdf`]: an A4 PDF written by the binary itself (DejaVu Sans embedded
//!   and subset, vector charts and map, page numbers);
//! - [`charts`]: the same charts as [`scene::Scene`]s, which the server's
//!   dashboard writes as SVG.
//!
//! Both formats walk the same blocks ([`doc`]), so they say the same
//! things. This crate lays out; it decides nothing about what is shown.

pub mod charts;
pub mod doc;
pub mod format;
pub mod html;
pub mod pdf;
pub mod scene;

pub use pdf::PdfError;
pub use vitalcore_app::briefing::Briefing;

/// The report as one HTML document.
pub fn html(b: &Briefing) -> String {
    html::render(b)
}

/// The report as PDF bytes.
pub fn pdf(b: &Briefing) -> Result<Vec<u8>, PdfError> {
    pdf::render(b)
}
