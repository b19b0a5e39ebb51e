//! Importing a KoBoToolbox/ODK export (CSV or XLSX) of community reports:
//! the rows are read with the operator's mapping through the intake service
//! (rows already imported, by submission uuid, are skipped), colliding
//! references are redrawn (a sealed contact is re-sealed as the system, with
//! its audit record), likely duplicates are linked among the rows and with
//! the reports of the last window (the one linking of
//! [`crate::reports::link_rows`]), and the whole file is stored in one
//! transaction with its uuids: a failed import leaves nothing, a re-run
//! starts clean.

use std::collections::HashSet;
use std::path::Path;

use jiff::Timestamp;
use thiserror::Error;
use vitalcore_intake::duplicates::{Candidate, DuplicateLink};
use vitalcore_intake::kobo::{KoboError, KoboMapping, RowError, import_csv, import_xlsx};
use vitalcore_intake::{ContactRead, Reference, Report};
use vitalcore_security::auth::Role;
use vitalcore_security::crypto::{Accessor, CryptoError};
use vitalcore_store::StoreError;
use vitalcore_store::reports::{ReportFilter, ReportStore};

use crate::reports::{Reports, link_rows};

/// The two export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    /// By the file name: `.xlsx` (any case) is a workbook, anything else CSV.
    pub fn of(path: &Path) -> ExportFormat {
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx")) {
            ExportFormat::Xlsx
        } else {
            ExportFormat::Csv
        }
    }
}

/// What an import has done so far, as it goes (the front ends tell the user
/// and time the phases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The export of `bytes` bytes is about to be read.
    Reading { bytes: usize },
    /// `rows` data rows were read.
    Parsed { rows: usize },
    /// Colliding references were redrawn.
    ReferencesChecked,
    /// Likely duplicates were linked.
    DuplicatesLinked,
    /// `reports` new reports were stored (one transaction) with their links.
    Stored { reports: usize },
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct Imported {
    /// Data rows read.
    pub rows: usize,
    /// New reports stored.
    pub imported: usize,
    /// Rows already imported (by submission uuid) or repeated in the file.
    pub already_imported: usize,
    /// Rows refused, each with its line, uuid, field and reason.
    pub rejected: Vec<RowError>,
}

#[derive(Debug, Error)]
pub enum ImportError {
    /// The mapping reads a contact and no contact key is configured:
    /// contacts are stored only encrypted.
    #[error(
        "the mapping reads a contact column, and contacts are stored only encrypted: configure a contact key, or \
         remove `contact` from the mapping"
    )]
    ContactWithoutKey,
    #[error(transparent)]
    Kobo(#[from] KoboError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The system account a re-sealed contact is opened under (in the audit log).
pub const IMPORT_ACCESSOR: &str = "system:kobo-import";

/// Imports the export `data` (named `name` in messages and rejects) with
/// `mapping` through the intake service `reports`, into its store.
pub fn import(
    reports: &Reports,
    mapping: &KoboMapping,
    name: &str,
    data: &[u8],
    format: ExportFormat,
    now: Timestamp,
    progress: &mut dyn FnMut(Step),
) -> Result<Imported, ImportError> {
    if mapping.questions.contact.is_some() && !reports.key_configured {
        return Err(ImportError::ContactWithoutKey);
    }
    let store = &*reports.store;
    let known = store.kobo_uuids(&mapping.form)?;
    progress(Step::Reading { bytes: data.len() });
    let mut out = match format {
        ExportFormat::Xlsx => import_xlsx(data, name, mapping, &reports.intake, &known, now)?,
        ExportFormat::Csv => import_csv(data, name, mapping, &reports.intake, &known, now)?,
    };
    progress(Step::Parsed { rows: out.rows });
    redraw_colliding_references(store, reports, &mut out.reports, now)?;
    progress(Step::ReferencesChecked);
    let back_links = link_import_rows(store, reports, &mut out.reports, now)?;
    progress(Step::DuplicatesLinked);
    let pairs: Vec<(String, Reference)> =
        out.new_uuids.iter().cloned().zip(out.reports.iter().map(|r| r.reference.clone())).collect();
    // The whole file in one transaction, with its submission uuids: a killed
    // or failed import leaves nothing, and a re-run starts clean.
    store.import_reports(&out.reports, &mapping.form, &pairs)?;
    for (on, links) in back_links {
        store.add_duplicate_links(&on, &links)?;
    }
    progress(Step::Stored { reports: out.reports.len() });
    // For the duplicate look-ups of later submissions to a long-lived service.
    reports.remember(&out.reports);
    Ok(Imported {
        rows: out.rows,
        imported: out.reports.len(),
        already_imported: out.already_seen.len(),
        rejected: out.rejected,
    })
}

/// Links likely duplicates among the rows and with reports received in the
/// last window (what a single submission is compared with), with
/// [`link_rows`]. Returns the links to add to stored reports, per report
/// (written once the rows are stored).
pub fn link_import_rows(
    store: &dyn ReportStore,
    reports: &Reports,
    rows: &mut [Report],
    now: Timestamp,
) -> Result<Vec<(Reference, Vec<DuplicateLink>)>, StoreError> {
    let rules = &reports.duplicate_rules;
    let since = now.checked_sub(rules.window).unwrap_or(now);
    let stored: Vec<Candidate> = store
        .reports(&ReportFilter { received_from: Some(since), ..ReportFilter::default() })?
        .iter()
        .map(Candidate::of)
        .collect();
    Ok(link_rows(rows, &stored, rules))
}

/// Reference numbers are 30 random bits: among 100,000 new reports a few
/// collide (birthday bound). Each colliding report gets a new reference; its
/// contact, sealed to the old one, is opened and sealed again (the opening is
/// logged as a system read like any other, under the new reference).
pub fn redraw_colliding_references(
    store: &dyn ReportStore,
    reports: &Reports,
    new: &mut [Report],
    now: Timestamp,
) -> Result<(), ImportError> {
    let drawn: Vec<Reference> = new.iter().map(|r| r.reference.clone()).collect();
    let stored = store.used_references(&drawn)?;
    let mut used: HashSet<Reference> = HashSet::with_capacity(new.len());
    for r in new.iter_mut() {
        let mut taken = stored.contains(&r.reference) || used.contains(&r.reference);
        while taken {
            let fresh = reports.intake.draw_reference()?;
            if let Some(sealed) = &r.contact {
                let key = reports.intake.key();
                let system = Accessor { user_id: IMPORT_ACCESSOR.into(), role: Role::Admin };
                let opened = key.open(sealed, r.reference.as_str(), &system, "re-seal under a new reference", now)?;
                r.contact = Some(key.seal(&opened.contact, fresh.as_str())?);
                store.append_contact_read(&ContactRead { report: fresh.to_string(), ..opened.audit })?;
            }
            r.reference = fresh;
            taken = used.contains(&r.reference) || store.report(&r.reference)?.is_some();
        }
        used.insert(r.reference.clone());
    }
    Ok(())
}
