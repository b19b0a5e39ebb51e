//! The analysis endpoints answer from a shared snapshot of the stored
//! events: an import is visible on the next request (also one made by
//! another process, as `vitalcore import` next to `vitalcore serve`), and
//! concurrent first requests load the store once.
//!
//! PostgreSQL: `vitalcore-test-postgres`'s server (`VITALCORE_PG_URL`, else
//! a throwaway cluster of this test process), a fresh schema per test,
//! dropped after; `VITALCORE_SKIP_PG=1` skips the test.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use tower::ServiceExt;
use vitalcore_framework::{Event, Framework, Observation, Source};
use vitalcore_store::testing::synthetic;
use vitalcore_store::{
    Area, DataVersion, EventFilter, EventVersion, ImportCounts, ImportFile, Store, StoreCounts, StoreError,
};
use vitalcore_store_postgres::PostgresStore;
use vitalcore_store_sqlite::SqliteStore;

async fn get(state: &Arc<vitalcore_server::AppState>, path: &str) -> Value {
    get_as(state, path, None).await
}

/// GET with an API token, when given.
async fn get_as(state: &Arc<vitalcore_server::AppState>, path: &str, token: Option<&str>) -> Value {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let response = vitalcore_server::router(state.clone()).oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(status, StatusCode::OK, "{path}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

/// Events of every area on the map, summed.
async fn events_on_the_map(state: &Arc<vitalcore_server::AppState>) -> u64 {
    let map = get(state, "/api/v1/areas?unit=country").await;
    map["areas"].as_array().unwrap().iter().map(|a| a["events"].as_u64().unwrap()).sum()
}

fn renamed(events: Vec<Event>, prefix: &str) -> Vec<Event> {
    events
        .into_iter()
        .map(|mut e| {
            e.provenance.source_id = format!("{prefix}{}", e.provenance.source_id);
            e
        })
        .collect()
}

/// Imports on the blocking pool (the PostgreSQL client has a runtime of its own).
async fn import(store: &Arc<dyn Store>, path: &str, events: Vec<Event>) {
    let (store, file) = (store.clone(), synthetic::file(path, events.len()));
    tokio::task::spawn_blocking(move || store.import_events(&file, &events).unwrap()).await.unwrap();
}

/// Events on the map once the reload an import started has finished: the
/// first request after an import answers from the previous snapshot and
/// starts the reload, the next ones see the new data when it is ready.
async fn events_on_the_map_after_reload(state: &Arc<vitalcore_server::AppState>) -> u64 {
    let _ = events_on_the_map(state).await;
    wait_for_reload(state).await;
    events_on_the_map(state).await
}

async fn wait_for_reload(state: &Arc<vitalcore_server::AppState>) {
    for _ in 0..2000 {
        if !state.snapshots.is_reloading() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the reload did not finish in 20 s");
}

/// Imports through `writer` (the server's store, or another handle on the
/// same database) must show on the server's next request, each time.
async fn each_import_is_seen_on_the_next_request(server_store: Arc<dyn Store>, writer: Arc<dyn Store>) {
    let state = vitalcore_server::AppState::new(server_store, Arc::new(Framework::built_in()));
    let first = synthetic::events(300, 1);
    import(&writer, "a.csv", first.clone()).await;
    assert_eq!(events_on_the_map(&state).await, 300);
    assert_eq!(events_on_the_map(&state).await, 300, "answered again from the snapshot");

    import(&writer, "b.csv", renamed(synthetic::events(200, 2), "B")).await;
    assert_eq!(events_on_the_map_after_reload(&state).await, 500, "new events are seen after the reload");

    // A revision changes an event without changing the count.
    let mut revised = first[..1].to_vec();
    revised[0].fatalities += 1000;
    let before = get(&state, "/api/v1/areas?unit=country").await;
    import(&writer, "c.csv", revised.clone()).await;
    let during = get(&state, "/api/v1/areas?unit=country").await;
    wait_for_reload(&state).await;
    let after = get(&state, "/api/v1/areas?unit=country").await;
    let deaths =
        |map: &Value| map["areas"].as_array().unwrap().iter().map(|a| a["fatalities"].as_u64().unwrap()).sum::<u64>();
    assert!(deaths(&during) == deaths(&before) || deaths(&during) == deaths(&before) + 1000, "old or new, never a mix");
    assert_eq!(deaths(&after), deaths(&before) + 1000, "a revised event is seen after the reload");

    let country = revised[0].place.country.clone().unwrap();
    let profile = get(&state, &format!("/api/v1/areas/{}/profile?unit=country", country.replace(' ', "%20"))).await;
    let in_map = after["areas"].as_array().unwrap().iter().find(|a| a["name"] == country.as_str()).unwrap().clone();
    assert_eq!(profile["fatalities"], in_map["fatalities"], "the profile reads the same snapshot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_imports_through_the_server_store_are_seen_on_the_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("v.db")).unwrap());
    each_import_is_seen_on_the_next_request(store.clone(), store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_imports_by_another_process_are_seen_on_the_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.db");
    let server = Arc::new(SqliteStore::open(&path).unwrap());
    let other = Arc::new(SqliteStore::open(&path).unwrap());
    each_import_is_seen_on_the_next_request(server, other).await;
}

/// A schema of its own, dropped on drop; None when `VITALCORE_SKIP_PG=1`.
struct Schema(String);

impl Schema {
    fn new() -> Option<Schema> {
        vitalcore_test_postgres::database_url_or_skip()?;
        static NEXT: AtomicU32 = AtomicU32::new(0);
        Some(Schema(format!("vc_server_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))))
    }

    fn store(&self) -> PostgresStore {
        PostgresStore::connect_with_schema(&vitalcore_test_postgres::database_url(), &self.0).unwrap()
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        vitalcore_test_postgres::drop_schema(&self.0);
    }
}

/// A plain test: the schema is made and dropped outside the runtime (the
/// PostgreSQL client must not run inside one).
#[test]
fn postgres_imports_by_another_connection_are_seen_on_the_next_request() {
    let Some(schema) = Schema::new() else { return };
    let (server, other): (Arc<dyn Store>, Arc<dyn Store>) = (Arc::new(schema.store()), Arc::new(schema.store()));
    // The last references stay out here, so that the stores close their
    // connections outside the runtime, also when an assertion fails.
    let _last = (server.clone(), other.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(each_import_is_seen_on_the_next_request(server, other));
}

/// Counts full reads of the events.
struct Counting {
    inner: SqliteStore,
    event_reads: AtomicUsize,
    /// How long each full read of the events takes.
    delay: std::time::Duration,
}

impl Store for Counting {
    fn import_events(&self, file: &ImportFile, events: &[Event]) -> Result<ImportCounts, StoreError> {
        self.inner.import_events(file, events)
    }
    fn import_observations(&self, file: &ImportFile, rows: &[Observation]) -> Result<ImportCounts, StoreError> {
        self.inner.import_observations(file, rows)
    }
    fn for_each_observation(&self, visit: &mut dyn FnMut(Observation)) -> Result<u64, StoreError> {
        self.inner.for_each_observation(visit)
    }
    fn save_areas(&self, areas: &[Area]) -> Result<usize, StoreError> {
        self.inner.save_areas(areas)
    }
    fn areas(&self) -> Result<Vec<Area>, StoreError> {
        self.inner.areas()
    }
    fn for_each_event(&self, filter: &EventFilter, visit: &mut dyn FnMut(Event)) -> Result<u64, StoreError> {
        self.event_reads.fetch_add(1, Ordering::SeqCst);
        // Slow enough that the other requests arrive while this one loads.
        std::thread::sleep(self.delay);
        self.inner.for_each_event(filter, visit)
    }
    fn event_history(&self, source: Source, source_id: &str) -> Result<Vec<EventVersion>, StoreError> {
        self.inner.event_history(source, source_id)
    }
    fn counts(&self) -> Result<StoreCounts, StoreError> {
        self.inner.counts()
    }
    fn imports(&self) -> Result<Vec<ImportFile>, StoreError> {
        self.inner.imports()
    }
    fn data_version(&self) -> Result<DataVersion, StoreError> {
        self.inner.data_version()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_requests_load_the_store_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Counting {
        inner: SqliteStore::open(dir.path().join("v.db")).unwrap(),
        event_reads: 0.into(),
        delay: std::time::Duration::from_millis(200),
    });
    store.import_events(&synthetic::file("a.csv", 100), &synthetic::events(100, 3)).unwrap();
    let state = vitalcore_server::AppState::new(store.clone(), Arc::new(Framework::built_in()));
    let requests: Vec<_> = (0..8)
        .map(|i| {
            let state = state.clone();
            let path = ["/api/v1/areas?unit=admin1", "/api/v1/boundaries?unit=country", "/api/v1/assessment"][i % 3];
            tokio::spawn(async move { get(&state, path).await })
        })
        .collect();
    for r in requests {
        r.await.unwrap();
    }
    assert_eq!(store.event_reads.load(Ordering::SeqCst), 1, "one load for eight concurrent requests");
    store.import_events(&synthetic::file("b.csv", 5), &renamed(synthetic::events(5, 4), "B")).unwrap();
    assert_eq!(events_on_the_map_after_reload(&state).await, 105);
    assert_eq!(store.event_reads.load(Ordering::SeqCst), 2, "one more load after the import");
}

/// Issue 14: after an import, readers are answered from the previous
/// snapshot while one background reload runs, instead of waiting for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_does_not_stall_readers() {
    let dir = tempfile::tempdir().unwrap();
    // Each full read of the events takes 3 s: a reload of a large store.
    let store = Arc::new(Counting {
        inner: SqliteStore::open(dir.path().join("v.db")).unwrap(),
        event_reads: 0.into(),
        delay: std::time::Duration::from_secs(3),
    });
    store.import_events(&synthetic::file("a.csv", 100), &synthetic::events(100, 3)).unwrap();
    let state = vitalcore_server::AppState::new(store.clone(), Arc::new(Framework::built_in()));
    assert_eq!(events_on_the_map(&state).await, 100);
    store.import_events(&synthetic::file("b.csv", 5), &renamed(synthetic::events(5, 4), "B")).unwrap();
    // Eight requests during the reload are answered from the previous snapshot meanwhile.
    let started = std::time::Instant::now();
    let requests: Vec<_> = (0..8)
        .map(|_| {
            let state = state.clone();
            tokio::spawn(async move { events_on_the_map(&state).await })
        })
        .collect();
    for r in requests {
        assert_eq!(r.await.unwrap(), 100, "the previous snapshot answers during the reload");
    }
    let waited = started.elapsed();
    assert!(state.snapshots.is_reloading(), "the reload was still running when all eight were answered");
    assert!(waited < std::time::Duration::from_secs(3), "answered in {waited:?}, before the reload could end");
    wait_for_reload(&state).await;
    assert_eq!(events_on_the_map(&state).await, 105);
    assert_eq!(store.event_reads.load(Ordering::SeqCst), 2, "one background reload for all the requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_community_report_is_seen_on_the_next_request_next_to_the_snapshot() {
    use secrecy::ExposeSecret;
    use vitalcore_app::reports::{IntakeConfig, Reports};
    use vitalcore_classify::Classifier;
    use vitalcore_intake::CategoryMap;
    use vitalcore_intake::report::{Channel, ReportDraft};
    use vitalcore_security::auth::{ApiToken, Role, Token, TokenKind, User};
    use vitalcore_store::reports::ReportStore;
    use vitalcore_store::testing::MemoryStore;

    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("v.db")).unwrap());
    store.import_events(&synthetic::file("a.csv", 300), &synthetic::events(300, 5)).unwrap();
    let area = Area {
        pcode: "CF01".into(),
        name: "Province 1".into(),
        level: 1,
        parent_pcode: None,
        country: Some("Central African Republic".into()),
        geometry: Some(r#"{"type":"Polygon","coordinates":[[[17,6],[19,6],[19,8],[17,8],[17,6]]]}"#.into()),
    };
    let now: jiff::Timestamp = "2024-05-01T10:00:00Z".parse().unwrap();
    // An analyst reads the reports, so sees their count exactly.
    let report_store = Arc::new(MemoryStore::new());
    let analyst = User::new("u-analyst", "analyst", Role::Analyst, None, String::new()).unwrap();
    report_store.save_user(&analyst, "system:test").unwrap();
    let token = Token::generate(TokenKind::Api).unwrap();
    let stored = ApiToken {
        token_hash: token.hash(),
        partner: "test".into(),
        user_id: analyst.id.clone(),
        created_at: now,
        revoked_at: None,
        expires_at: None,
    };
    report_store.save_api_token(&stored, "system:test").unwrap();
    let token = Some(token.secret.expose_secret());
    let reports = Reports::new(
        report_store,
        None,
        CategoryMap::built_in(),
        Classifier::lexicon_only(),
        &[area],
        IntakeConfig::default(),
        now,
    )
    .unwrap();
    let reports = Arc::new(reports);
    let state = vitalcore_server::AppState::with_reports(store, Arc::new(Framework::built_in()), reports.clone());
    let path = "/api/v1/areas/CF01/profile?unit=admin1&to=2024-12";
    assert_eq!(get_as(&state, path, token).await["reports"], 0);
    let draft = ReportDraft {
        text: "Armed men burned three houses in the village last night".into(),
        area_pcode: Some("CF01".into()),
        ..ReportDraft::default()
    };
    let submitted = tokio::task::spawn_blocking(move || reports.submit(&draft, Channel::Cli, now).map(|_| ()));
    submitted.await.unwrap().unwrap();
    assert_eq!(get_as(&state, path, token).await["reports"], 1, "the report is seen at once");
}
