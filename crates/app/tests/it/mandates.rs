//! Mandates stored and read back on both backends (SQLite and PostgreSQL),
//! on resolutions cut from the UN corpus (crates/mandate/tests/fixtures/akn):
//! one-transaction imports with provenance, importing twice changes
//! nothing, a failing run stores nothing, and the gaps read from the store
//! are those read from the files.

use std::path::{Path, PathBuf};
use vitalcore_app::disclosure::Audience;
use vitalcore_app::mandates::{self, MandatesError, Resolutions, Target};
use vitalcore_framework::{Framework, Month};
use vitalcore_store::Store;
use vitalcore_store::mandates::MandateStore;
use vitalcore_store_sqlite::SqliteStore;

fn akn() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../mandate/tests/fixtures/akn")
}

fn import(fw: &Framework, store: &dyn MandateStore, paths: &[PathBuf]) -> Result<mandates::Imported, MandatesError> {
    mandates::import(fw, store, paths, false, "analyst", "2026-12-07T23:00:00Z", &mut |_, _| {})
}

/// The whole contract on one backend (`events` and `mandates` one database).
fn stored_mandates_contract(events: &dyn Store, store: &dyn MandateStore) {
    let fw = Framework::built_in();
    // A failing run stores nothing: one good file and one cut short.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(akn().join("Pre-2020/2014/S_RES_2176_1460946E.xml"), dir.path().join("a.xml")).unwrap();
    let bytes = std::fs::read(akn().join("Pre-2020/2014/S_RES_2177_1461236E.xml")).unwrap();
    std::fs::write(dir.path().join("b.xml"), &bytes[..bytes.len() / 2]).unwrap();
    let err = import(&fw, store, &[dir.path().to_path_buf()]).unwrap_err().to_string();
    assert!(err.contains("b.xml") && err.contains("1 of 2 files"), "{err}");
    assert!(store.mandate_missions().unwrap().is_empty(), "nothing stored from a failing run");
    let kept = mandates::import(&fw, store, &[dir.path().to_path_buf()], true, "analyst", "t", &mut |_, _| {}).unwrap();
    assert_eq!((kept.counts.new, kept.errors.len()), (1, 1), "--keep-going stores the readable file");

    // The corpus fixtures: 8 resolutions, 2176 among them already stored.
    let first = import(&fw, store, &[akn()]).unwrap();
    assert_eq!((first.counts.new, first.counts.unchanged, first.counts.replaced), (7, 1, 0));
    let again = import(&fw, store, &[akn()]).unwrap();
    assert_eq!((again.counts.new, again.counts.unchanged, again.counts.replaced), (0, 8, 0));
    let (res, from) = mandates::resolution(&fw, Resolutions::Stored(store), 2100).unwrap().unwrap();
    let from = from.unwrap();
    assert!(from.file.ends_with("S_RES_2100_1331417e.xml"), "{}", from.file);
    assert_eq!((from.sha256.len(), from.imported_by.as_str()), (64, "analyst"));
    let files = mandates::tag(&fw, &[akn()], false).unwrap();
    let on_file = files.resolutions.iter().find(|r| r.number == 2100).unwrap();
    assert_eq!(serde_json::to_value(&res).unwrap(), serde_json::to_value(on_file).unwrap(), "read back as tagged");

    // A resolution whose text changed is replaced.
    let changed = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(akn().join("Pre-2020/2014/S_RES_2176_1460946E.xml")).unwrap();
    std::fs::write(changed.path().join("2176.xml"), text.replace("keep it updated", "keep it closely updated"))
        .unwrap();
    let replaced = import(&fw, store, &[changed.path().to_path_buf()]).unwrap();
    assert_eq!((replaced.counts.new, replaced.counts.replaced), (0, 1));
    let (res, _) = mandates::resolution(&fw, Resolutions::Stored(store), 2176).unwrap().unwrap();
    assert!(res.paragraphs.iter().any(|p| p.text.contains("keep it closely updated")));
    import(&fw, store, &[akn()]).unwrap();

    // The timeline and the gaps from the store are those from the files.
    let missions: Vec<String> =
        mandates::missions(&fw, Resolutions::Stored(store)).unwrap().into_iter().map(|m| m.mission).collect();
    assert_eq!(missions, ["AFISMA", "MINUSMA", "UNMIL", "UNOCI"]);
    let month: Month = "2014-08".parse().unwrap();
    for mission in ["UNMIL", "MINUSMA"] {
        let target = Target::Mission(mission.into());
        let stored = mandates::gaps(&fw, events, None, Resolutions::Stored(store), &target, month, &Audience::Exact);
        let paths = [akn()];
        let from_files =
            mandates::gaps(&fw, events, None, Resolutions::Files(&paths), &target, month, &Audience::Exact);
        assert_eq!(serde_json::to_value(stored.unwrap()).unwrap(), serde_json::to_value(from_files.unwrap()).unwrap());
    }
    let target = Target::Mission("UNMIL".into());
    let g = mandates::gaps(&fw, events, None, Resolutions::Stored(store), &target, month, &Audience::Exact).unwrap();
    assert_eq!(g.in_force.symbol, "S/RES/2116 (2013)", "2164 (June 2014) only names UNMIL");
    let old: Month = "2001-08".parse().unwrap();
    let err =
        mandates::gaps(&fw, events, None, Resolutions::Stored(store), &target, old, &Audience::Exact).unwrap_err();
    assert!(err.to_string().contains("no resolution in the database mandates UNMIL on or before 2001-08"), "{err}");
}

#[test]
fn stored_mandates_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("m.db")).unwrap();
    stored_mandates_contract(&store, &store);
}

#[test]
fn stored_mandates_on_postgres() {
    let Some(schema) = crate::pg::Schema::new() else { return };
    let store = schema.store();
    stored_mandates_contract(&store, &store);
}

#[test]
fn nothing_stored_is_said_so() {
    let store = SqliteStore::open_in_memory().unwrap();
    let fw = Framework::built_in();
    let err = mandates::mission_from(&fw, Resolutions::Stored(&store), "UNMIL").unwrap_err().to_string();
    assert!(err.contains("vitalcore mandate import"), "{err}");
}
