//! The KoBo import use case: rows imported once (a re-import adds nothing),
//! likely duplicates linked among the rows and with reports stored earlier
//! (back links written on the stored ones), colliding references redrawn
//! with the contact re-sealed and the opening audited; and the service's
//! batch linking going through the same code.

use std::sync::Arc;

use crate::{intake, key, ts};
use secrecy::{ExposeSecret, SecretString};
use vitalcore_app::backend::{Stores, reports_service};
use vitalcore_app::kobo::{ExportFormat, IMPORT_ACCESSOR, Imported, Step, import, redraw_colliding_references};
use vitalcore_app::reports::{IntakeConfig, Reports};
use vitalcore_intake::kobo::KoboMapping;
use vitalcore_intake::{Channel, Reference, Report, ReportDraft};
use vitalcore_security::auth::Role;
use vitalcore_security::crypto::Accessor;
use vitalcore_store::Area;
use vitalcore_store::reports::{ReportFilter, ReportStore};
use vitalcore_store_sqlite::SqliteStore;

const MAPPING: &str = r#"
form = "test-alerts"

[questions]
text = "description"
category = "category"
area = "pcode"
date = "date"
contact = "phone"
"#;

const HEADER: &str = "_uuid,description,category,pcode,date,phone\n";

/// A database with one prefecture and the intake service over it (with a
/// contact key).
fn service() -> (Stores, Reports) {
    let stores = Stores::on(Arc::new(SqliteStore::open_in_memory().unwrap()));
    let area = Area {
        pcode: "CF32".into(),
        name: "Ouham".into(),
        level: 1,
        parent_pcode: None,
        country: Some("Central African Republic".into()),
        geometry: Some(r#"{"type":"Polygon","coordinates":[[[17,6],[19,6],[19,8],[17,8],[17,6]]]}"#.into()),
    };
    stores.events.save_areas(&[area]).unwrap();
    let reports =
        reports_service(&*stores.events, stores.reports.clone(), Some(key()), IntakeConfig::default(), None).unwrap();
    (stores, reports)
}

fn run(reports: &Reports, csv: &str) -> (Imported, Vec<Step>) {
    let mapping = KoboMapping::from_toml(MAPPING, &reports.intake.categories).unwrap();
    let mut steps = Vec::new();
    let now = ts("2024-05-02T12:00:00Z");
    let out = import(reports, &mapping, "export.csv", csv.as_bytes(), ExportFormat::Csv, now, &mut |s| steps.push(s))
        .unwrap();
    (out, steps)
}

fn by_text(store: &dyn ReportStore, text: &str) -> Vec<Report> {
    store.reports(&ReportFilter::default()).unwrap().into_iter().filter(|r| r.text == text).collect()
}

const BURNED: &str = "Armed men burned three houses in Bouca village last night";

#[test]
fn a_reimport_adds_nothing_and_a_later_file_links_to_the_reports_stored_before() {
    let (stores, reports) = service();
    let first = format!(
        "{HEADER}u1,{BURNED},attack,CF32,2024-05-01,+236 72 00 00 01\n\
         u2,Cattle stolen near the river,cattle_crop_theft,CF32,2024-05-01,\n\
         u3,,attack,CF32,2024-05-01,\n"
    );
    let (out, steps) = run(&reports, &first);
    assert_eq!((out.rows, out.imported, out.already_imported, out.rejected.len()), (3, 2, 0, 1));
    assert_eq!(out.rejected[0].line, 4, "the row without text, by its line");
    assert_eq!(
        steps,
        vec![
            Step::Reading { bytes: first.len() },
            Step::Parsed { rows: 3 },
            Step::ReferencesChecked,
            Step::DuplicatesLinked,
            Step::Stored { reports: 2 },
        ]
    );
    let (again, _) = run(&reports, &first);
    assert_eq!((again.imported, again.already_imported), (0, 2), "known uuids are skipped");

    // A later export: the same event reported twice more (one new row
    // repeating the stored one, one repeating it again in the same file).
    let later = format!(
        "{HEADER}u4,{BURNED} (again),attack,CF32,2024-05-01,\n\
         u5,{BURNED}!,attack,CF32,2024-05-01,\n"
    );
    let (out, _) = run(&reports, &later);
    assert_eq!(out.imported, 2);
    let store = &*stores.reports;
    let original = &by_text(store, BURNED)[0];
    let u4 = &by_text(store, &format!("{BURNED} (again)"))[0];
    let u5 = &by_text(store, &format!("{BURNED}!"))[0];
    let others = |r: &Report| {
        let mut v: Vec<Reference> = r.duplicates.iter().map(|l| l.other.clone()).collect();
        v.sort();
        v
    };
    let sorted = |mut v: Vec<Reference>| {
        v.sort();
        v
    };
    assert_eq!(others(u4), sorted(vec![original.reference.clone(), u5.reference.clone()]));
    assert_eq!(others(u5), sorted(vec![original.reference.clone(), u4.reference.clone()]));
    assert_eq!(
        others(original),
        sorted(vec![u4.reference.clone(), u5.reference.clone()]),
        "the stored report gains its back links"
    );
    assert!(original.contact.is_some() && u4.contact.is_none());
    assert_eq!(store.reports(&ReportFilter::default()).unwrap().len(), 4, "linked, never merged");
}

#[test]
fn without_a_key_a_mapping_that_reads_contacts_is_refused_before_anything_is_read() {
    let stores = Stores::on(Arc::new(SqliteStore::open_in_memory().unwrap()));
    let reports =
        reports_service(&*stores.events, stores.reports.clone(), None, IntakeConfig::default(), None).unwrap();
    let mapping = KoboMapping::from_toml(MAPPING, &reports.intake.categories).unwrap();
    let mut steps = Vec::new();
    let err = import(
        &reports,
        &mapping,
        "x.csv",
        HEADER.as_bytes(),
        ExportFormat::Csv,
        ts("2024-05-02T00:00:00Z"),
        &mut |s| steps.push(s),
    )
    .unwrap_err();
    assert!(matches!(err, vitalcore_app::kobo::ImportError::ContactWithoutKey), "{err}");
    assert!(steps.is_empty());
}

#[test]
fn the_format_is_told_by_the_file_name() {
    assert_eq!(ExportFormat::of("a/export.XLSX".as_ref()), ExportFormat::Xlsx);
    assert_eq!(ExportFormat::of("export.csv".as_ref()), ExportFormat::Csv);
    assert_eq!(ExportFormat::of("export".as_ref()), ExportFormat::Csv);
}

#[test]
fn a_colliding_reference_is_redrawn_and_its_contact_resealed_with_an_audit_record() {
    let (stores, reports) = service();
    let store = &*stores.reports;
    let draft = |text: &str| ReportDraft {
        text: text.into(),
        area_pcode: Some("CF32".into()),
        contact: Some(SecretString::from("+236 70 00 00 09".to_string())),
        ..ReportDraft::default()
    };
    let now = ts("2024-05-02T12:00:00Z");
    let taken = Reference::from_number(1);
    store.insert_report(&intake().accept_as(&draft("stored"), Channel::Cli, now, taken.clone()).unwrap()).unwrap();
    // Two rows drawn the stored reference, and one drawn another.
    let mut rows: Vec<Report> = ["a", "b"]
        .iter()
        .map(|t| reports.intake.accept_as(&draft(t), kobo(), now, taken.clone()).unwrap())
        .chain([reports.intake.accept_as(&draft("c"), kobo(), now, Reference::from_number(2)).unwrap()])
        .collect();
    redraw_colliding_references(store, &reports, &mut rows, now).unwrap();
    assert_ne!(rows[0].reference, taken);
    assert_ne!(rows[1].reference, taken);
    assert_ne!(rows[0].reference, rows[1].reference);
    assert_eq!(rows[2].reference, Reference::from_number(2), "a free reference is kept");
    let reader = Accessor { user_id: "a1".into(), role: Role::Analyst };
    for r in &rows[..2] {
        let sealed = r.contact.as_ref().unwrap();
        let opened = key().open(sealed, r.reference.as_str(), &reader, "check", now).unwrap();
        assert_eq!(opened.contact.expose_secret(), "+236 70 00 00 09", "sealed to the new reference");
        let reads = store.contact_reads(&r.reference).unwrap();
        assert_eq!(reads.len(), 1);
        assert_eq!((reads[0].user_id.as_str(), reads[0].role), (IMPORT_ACCESSOR, Role::Admin));
        assert_eq!(reads[0].purpose, "re-seal under a new reference");
    }
    assert!(store.contact_reads(&Reference::from_number(2)).unwrap().is_empty());
}

#[test]
fn the_service_links_a_batch_with_the_same_code_and_writes_back_links_to_stored_reports() {
    let (stores, reports) = service();
    let now = ts("2024-05-01T12:00:00Z");
    let draft =
        |text: &str| ReportDraft { text: text.into(), area_pcode: Some("CF32".into()), ..ReportDraft::default() };
    let first = reports.submit(&draft(BURNED), Channel::WebForm, now).unwrap();
    let mut batch: Vec<Report> = [format!("{BURNED}."), "Cattle stolen near the river".to_string()]
        .iter()
        .enumerate()
        .map(|(i, t)| reports.intake.accept_as(&draft(t), kobo(), now, Reference::from_number(100 + i as u32)).unwrap())
        .collect();
    reports.link_batch(&mut batch);
    assert_eq!(batch[0].duplicates.len(), 1);
    assert_eq!(batch[0].duplicates[0].other, first.reference);
    assert!(batch[1].duplicates.is_empty());
    store_batch(&*stores.reports, &batch);
    // The batch is remembered: a later submission links to it.
    let later = reports.submit(&draft(&format!("{BURNED}!")), Channel::Cli, now).unwrap();
    assert_eq!(later.duplicates.len(), 2);
    drop(reports); // waits for the back links
    let first = stores.reports.report(&first.reference).unwrap().unwrap();
    let mut back: Vec<Reference> = first.duplicates.iter().map(|l| l.other.clone()).collect();
    back.sort();
    let mut expected = vec![Reference::from_number(100), later.reference];
    expected.sort();
    assert_eq!(back, expected, "back links from the batch and the later submission");
}

fn kobo() -> Channel {
    Channel::Kobo { form: "test-alerts".into() }
}

fn store_batch(store: &dyn ReportStore, batch: &[Report]) {
    for r in batch {
        store.insert_report(r).unwrap();
    }
}
