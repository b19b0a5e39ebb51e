//! Route tests: requests go through `vitalcore_server::router` (every layer
//! included) with `tower::ServiceExt::oneshot`, over real SQLite stores in a
//! temporary folder: the CAR prefectures, a contact key and five accounts.
//! No socket, no binary: the CLI's tests keep a few of those end to end.

mod admin;
mod briefings;
mod freshness;
mod intake;
mod logging;
mod mandates;
mod proto;
mod security;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request};
use http_body_util::BodyExt;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;
use vitalcore_app::reports::{IntakeConfig, Reports};
use vitalcore_classify::Classifier;
use vitalcore_framework::Framework;
use vitalcore_intake::{CategoryMap, ContactKey};
use vitalcore_security::auth::{ApiToken, Role, Token, TokenKind, User, hash_password};
use vitalcore_server::AppState;
use vitalcore_store::Store;
use vitalcore_store::reports::ReportStore;
use vitalcore_store_sqlite::SqliteStore;

pub const PASSWORD: &str = "correct horse battery staple";

/// The accounts every site has: (name, role, community). Ids are `u-NAME`.
const ACCOUNTS: [(&str, Role, Option<&str>); 5] = [
    ("admin1", Role::Admin, None),
    ("analyst1", Role::Analyst, None),
    ("responder1", Role::Responder, None),
    ("focal32", Role::FocalPoint, Some("CF32")),
    ("viewer1", Role::Viewer, None),
];

/// A server over one SQLite database in a temporary folder.
pub struct Site {
    _dir: tempfile::TempDir,
    pub store: Arc<SqliteStore>,
    pub reports: Arc<Reports>,
    pub router: Router,
}

/// [`PASSWORD`] hashed once (argon2 is slow on purpose).
fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password(PASSWORD).unwrap()).clone()
}

impl Default for Site {
    fn default() -> Site {
        Site::with_config(IntakeConfig::default())
    }
}

impl Site {
    pub fn new() -> Site {
        Site::default()
    }

    /// The CAR prefectures, a contact key, the five [`ACCOUNTS`], the
    /// forecast store, and `config`.
    pub fn with_config(config: IntakeConfig) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path().join("t.db")).unwrap());
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../import/tests/fixtures/caf_adm1_simplified.geojson");
        store.save_areas(&vitalcore_import::read_boundaries(&fixture).unwrap()).unwrap();
        for (name, role, community) in ACCOUNTS {
            let user = User::new(&format!("u-{name}"), name, role, community, password_hash()).unwrap();
            store.save_user(&user, "system:test").unwrap();
        }
        Site::over(dir, store, config)
    }

    /// The server over `store` (in `dir`), with a contact key.
    pub fn over(dir: tempfile::TempDir, store: Arc<SqliteStore>, config: IntakeConfig) -> Site {
        let reports = Arc::new(
            Reports::new(
                store.clone(),
                Some(ContactKey::from_bytes([7; 32])),
                CategoryMap::built_in(),
                Classifier::lexicon_only(),
                &store.areas().unwrap(),
                config,
                jiff::Timestamp::now(),
            )
            .unwrap(),
        );
        let state = AppState::with_reports(store.clone(), Arc::new(Framework::built_in()), reports.clone());
        let router = vitalcore_server::router(AppState::with_forecasts(state, store.clone()));
        Site { _dir: dir, store, reports, router }
    }

    /// A new API token acting as `user`, for partner `partner-of-USER`.
    pub fn token(&self, user: &str) -> String {
        let account = self.store.user_by_username(user).unwrap().unwrap();
        let token = Token::generate(TokenKind::Api).unwrap();
        self.store
            .save_api_token(
                &ApiToken {
                    token_hash: token.hash(),
                    partner: format!("partner-of-{user}"),
                    user_id: account.id,
                    created_at: jiff::Timestamp::now(),
                    revoked_at: None,
                    expires_at: None,
                },
                "system:test",
            )
            .unwrap();
        secrecy::ExposeSecret::expose_secret(&token.secret).to_string()
    }

    /// One request through the router.
    pub async fn request(&self, method: Method, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        send(&self.router, method, path, headers, body).await
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.request(Method::GET, path, headers, b"").await
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> Resp {
        self.get(path, &[("Authorization", &format!("Bearer {token}"))]).await
    }

    pub async fn post_json(&self, path: &str, token: &str, body: &str) -> Resp {
        let auth = format!("Bearer {token}");
        self.request(
            Method::POST,
            path,
            &[("Authorization", &auth), ("Content-Type", "application/json")],
            body.as_bytes(),
        )
        .await
    }

    /// Reports the admin can see, by the API.
    pub async fn stored_count(&self, admin: &str) -> u64 {
        let r = self.get_auth("/api/v1/reports?limit=1", admin).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["total"].as_u64().unwrap()
    }
}

/// One request through `router`.
pub async fn send(router: &Router, method: Method, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut request = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = router.clone().oneshot(request.body(Body::from(body.to_vec())).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Resp { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// `name=value` of a Set-Cookie header.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(|v| v.split(';').next().unwrap().to_string())
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub fn hidden_csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    page[at..].split('"').next().unwrap().to_string()
}

pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
                b' ' => "+".into(),
                b => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}
