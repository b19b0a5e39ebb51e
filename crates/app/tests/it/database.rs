//! Backend selection: the one rule telling a PostgreSQL connection string
//! from a SQLite path, every store of a database opened on one store, and
//! the intake service set up over it.

use std::path::{Path, PathBuf};

use crate::{key, ts};
use vitalcore_app::backend::{Database, ServiceError, load_classifier, reports_service};
use vitalcore_app::reports::IntakeConfig;
use vitalcore_forecast::UnitForecast;
use vitalcore_framework::Month;
use vitalcore_intake::{Channel, ReportDraft};
use vitalcore_store::Area;
use vitalcore_store::forecasts::{EarlyWarning, WarningFilter, WarningKind, WarningStatus};
use vitalcore_store::reports::ReportFilter;

#[test]
fn postgres_urls_and_libpq_strings_are_postgres_and_anything_else_a_sqlite_file() {
    for pg in [
        "postgres://vitalcore@db.example.org/vitalcore",
        "postgresql://user:secret@127.0.0.1:5433/v?sslmode=require",
        "host=127.0.0.1 user=postgres dbname=test",
        "dbname=vitalcore",
        "user = me password=x",
        "sslmode=disable host=/var/run/postgresql",
    ] {
        assert_eq!(Database::parse(pg), Database::Postgres(pg.into()), "{pg}");
    }
    for file in [
        "vitalcore.db",
        "/srv/data/vitalcore.db",
        // Names that the earlier sniffing (starts with `postgres`, holds
        // `host=`) took for PostgreSQL:
        "postgres.db",
        "postgresql-backup/v.db",
        "/mnt/host=a/v.db",
        "C:\\data\\v.db",
        "a=b.db",
    ] {
        assert_eq!(Database::parse(file), Database::Sqlite(PathBuf::from(file)), "{file}");
    }
}

#[test]
fn the_url_option_wins_and_is_taken_as_given() {
    let db = Path::new("vitalcore.db");
    assert_eq!(Database::from_options(db, None), Database::Sqlite(db.into()));
    assert_eq!(Database::from_options(db, Some("host=x")), Database::Postgres("host=x".into()));
    assert_eq!(Database::from_options(db, Some("odd.db")), Database::Postgres("odd.db".into()));
    // Messages never show a connection string (it may hold a password).
    assert_eq!(Database::Postgres("postgres://u:secret@h/d".into()).location(), "the PostgreSQL database");
    assert_eq!(Database::Sqlite("data/v.db".into()).to_string(), "data/v.db");
}

fn area() -> Area {
    Area {
        pcode: "CF32".into(),
        name: "Ouham".into(),
        level: 1,
        parent_pcode: None,
        country: None,
        geometry: Some(r#"{"type":"Polygon","coordinates":[[[17,6],[19,6],[19,8],[17,8],[17,6]]]}"#.into()),
    }
}

fn warning(run_id: i64) -> EarlyWarning {
    let f = UnitForecast {
        unit: "CF32".into(),
        name: "Ouham".into(),
        country: None,
        origin: "2024-04".parse::<Month>().unwrap(),
        month: "2024-05".parse::<Month>().unwrap(),
        horizon: 1,
        model: "hurdle".into(),
        mean: 1.0,
        p_any: 0.9,
        p_ge_1: 0.9,
        p_ge_10: 0.0,
        p_ge_25: 0.0,
        q05: 0.0,
        q50: 1.0,
        q95: 4.0,
    };
    let rules = vitalcore_app::warnings::WarningRules { p_any: 0.5, p_ge: vec![], burst_months: 3 };
    let list = vitalcore_app::warnings::candidate_warnings(None, &[f], &rules, run_id);
    assert_eq!((list.len(), list[0].kind, list[0].status), (1, WarningKind::ForecastThreshold, WarningStatus::New));
    list.into_iter().next().unwrap()
}

/// Writes through every store of `db`, then reads back through stores
/// opened again one by one.
fn every_store_is_one_database(db: &Database) {
    let stores = db.open().unwrap();
    stores.events.save_areas(&[area()]).unwrap();
    let reports =
        reports_service(&*stores.events, stores.reports.clone(), Some(key()), IntakeConfig::default(), None).unwrap();
    assert!(reports.key_configured);
    let draft = ReportDraft {
        text: "Shots fired".into(),
        latitude: Some(6.5),
        longitude: Some(18.3),
        ..ReportDraft::default()
    };
    let stored = reports.submit(&draft, Channel::Cli, ts("2024-05-01T00:00:00Z")).unwrap();
    assert_eq!(stored.place.area_pcode.as_deref(), Some("CF32"), "placed with the boundaries of the event store");
    let run_id = crate::warnings::stored_run(&*stores.forecasts);
    stores.forecasts.add_warnings(&[warning(run_id)]).unwrap();
    drop((reports, stores));

    assert_eq!(db.open_events().unwrap().areas().unwrap().len(), 1);
    let again = db.open_reports().unwrap().reports(&ReportFilter::default()).unwrap();
    assert_eq!(again.iter().map(|r| r.reference.clone()).collect::<Vec<_>>(), vec![stored.reference]);
    assert_eq!(db.open_forecasts().unwrap().warnings(&WarningFilter::default()).unwrap().len(), 1);
}

#[test]
fn one_sqlite_file_holds_the_events_the_reports_and_the_forecasts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.db");
    let db = Database::parse(path.to_str().unwrap());
    assert_eq!(db, Database::Sqlite(path.clone()));
    every_store_is_one_database(&db);
    assert!(path.exists());
}

#[test]
fn one_postgres_database_holds_the_events_the_reports_and_the_forecasts() {
    let Some(schema) = crate::pg::Schema::new() else { return };
    drop(schema.store()); // creates the schema
    let conninfo = schema.conninfo();
    let db = Database::parse(&conninfo);
    assert!(matches!(db, Database::Postgres(_)), "{db:?}");
    every_store_is_one_database(&db);
}

#[test]
fn the_intake_service_reads_with_the_lexicon_or_a_model_and_names_a_model_it_cannot_load() {
    assert!(!load_classifier(None).unwrap().labels().is_empty(), "the built-in lexicon");
    let missing = Path::new("/nonexistent/model.bin");
    let err = load_classifier(Some(missing)).unwrap_err();
    assert!(matches!(err, ServiceError::Model { .. }));
    assert_eq!(err.to_string(), "cannot load the classifier model /nonexistent/model.bin");
    assert!(std::error::Error::source(&err).is_some(), "the cause is kept");

    let stores = vitalcore_app::backend::Stores::on(std::sync::Arc::new(
        vitalcore_store_sqlite::SqliteStore::open_in_memory().unwrap(),
    ));
    let err = reports_service(&*stores.events, stores.reports.clone(), None, IntakeConfig::default(), Some(missing))
        .unwrap_err();
    assert!(err.to_string().starts_with("cannot load the classifier model"), "{err}");
    let service = reports_service(&*stores.events, stores.reports, None, IntakeConfig::default(), None).unwrap();
    assert!(!service.key_configured, "without a key, contacts are refused");
}
