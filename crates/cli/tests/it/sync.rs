//! Field offices and headquarters over the real binary: HQ on PostgreSQL
//! (SQLite when `VITALCORE_SKIP_PG=1`) serving `vitalcore serve` on
//! loopback, offices on SQLite running `vitalcore sync`.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use jiff::Timestamp;
use vitalcore_intake::report::Reference;
use vitalcore_store::reports::ReportStore;
use vitalcore_store::testing::reports::report_at;

/// Where a node's data lives.
enum Db {
    Sqlite(PathBuf),
    Postgres { url: String, name: String },
}

struct Node {
    db: Db,
    dir: PathBuf,
}

fn boundaries() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/demo/caf-adm1-ocha.geojson")
}

impl Node {
    fn sqlite(dir: &Path, name: &str) -> Node {
        Node { db: Db::Sqlite(dir.join(format!("{name}.db"))), dir: dir.to_path_buf() }
    }

    /// HQ: a fresh PostgreSQL database, or SQLite when PostgreSQL tests are skipped.
    fn hq(dir: &Path) -> Node {
        match vitalcore_test_postgres::database_url_or_skip() {
            None => Node::sqlite(dir, "hq"),
            Some(url) => {
                let name =
                    format!("vc_sync_{}_{}", std::process::id(), Timestamp::now().as_nanosecond() % 1_000_000_000_000);
                vitalcore_test_postgres::connect().batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
                let url = url.replace("dbname=test", &format!("dbname={name}"));
                Node { db: Db::Postgres { url, name }, dir: dir.to_path_buf() }
            }
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vitalcore"));
        match &self.db {
            Db::Sqlite(path) => c.arg("--db").arg(path),
            Db::Postgres { url, .. } => c.arg("--database-url").arg(url),
        };
        c.args(args).current_dir(&self.dir).env_remove("VITALCORE_DATABASE_URL").env("RUST_BACKTRACE", "0");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("the binary runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "{args:?} should fail: {}", String::from_utf8_lossy(&out.stdout));
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// (reference, area, text) of every report this node lists.
    fn reports(&self) -> BTreeSet<(String, String, String)> {
        let json = self.ok(&["report", "list", "--format", "json", "--limit", "10000000"]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["reference"].as_str().unwrap().to_string(),
                    r["place"]["area_pcode"].as_str().unwrap_or("").to_string(),
                    r["text"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    fn status(&self) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["sync", "status", "--format", "json"])).unwrap()
    }

    fn serve(&self) -> Server {
        let mut child = self
            .cmd(&["--quiet", "serve", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line}")).trim_end_matches('/');
        Server { url: url.to_string(), child }
    }

    fn sqlite_path(&self) -> &Path {
        match &self.db {
            Db::Sqlite(p) => p,
            Db::Postgres { .. } => panic!("an office is on SQLite"),
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Db::Postgres { name, .. } = &self.db {
            let _ = vitalcore_test_postgres::connect()
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

struct Server {
    url: String,
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Numbers in a `sync complete: ...` line: pushed, new at HQ, pulled, new here, conflicts.
fn moved(stdout: &str) -> [u64; 5] {
    let line = stdout.lines().find(|l| l.starts_with("sync complete")).unwrap_or_else(|| panic!("{stdout}"));
    let n: Vec<u64> =
        line.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
    [n[0], n[1], n[2], n[3], n[4]]
}

fn in_areas(all: &BTreeSet<(String, String, String)>, areas: &[&str]) -> BTreeSet<(String, String, String)> {
    all.iter().filter(|r| areas.iter().any(|a| r.1.starts_with(a))).cloned().collect()
}

#[test]
fn three_offices_and_hq_end_with_the_same_reports_each_within_its_areas() {
    let dir = tempfile::tempdir().unwrap();
    let hq = Node::hq(dir.path());
    hq.ok(&["import", boundaries().to_str().unwrap()]);
    let offices = [("bambari", "CF32"), ("bria", "CF41"), ("kaga", "CF32")];
    for (name, areas) in offices {
        hq.ok(&["sync", "office", "add", name, "--areas", areas, "--out", &format!("{name}.cred")]);
    }
    let mode = std::fs::metadata(dir.path().join("bambari.cred")).unwrap();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777, 0o600);
    let listed = hq.ok(&["sync", "office", "list"]);
    assert!(listed.contains("bambari\tCF32\tactive"), "{listed}");
    hq.ok(&["report", "submit", "--text", "HQ heard of looting in Ouaka", "--area", "CF32"]);
    hq.ok(&["report", "submit", "--text", "HQ heard of a roadblock near Bria", "--area", "CF41"]);
    hq.ok(&["report", "submit", "--text", "HQ heard of fighting in Vakaga", "--area", "CF11"]);
    let server = hq.serve();

    let nodes: Vec<(Node, &str, &str)> =
        offices.iter().map(|(name, area)| (Node::sqlite(dir.path(), name), *name, *area)).collect();
    // First contact: an empty office database gets its boundaries.
    for (node, name, _) in &nodes {
        let cred = format!("{name}.cred");
        node.ok(&["sync", "--hq", &server.url, "--credential", &cred]);
    }
    let areas = nodes[0].0.ok(&["status"]);
    assert!(areas.contains("administrative areas: 1"), "{areas}");

    // Offline: three reports at each office, an analyst acknowledges one at bambari.
    for (node, name, area) in &nodes {
        for i in 0..3 {
            node.ok(&["report", "submit", "--text", &format!("{name} report {i}"), "--area", area]);
        }
    }
    let bambari = &nodes[0].0;
    for (node, _, _) in &nodes {
        let mut add = node
            .cmd(&["users", "add", "amina", "--role", "analyst", "--password-stdin"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        add.stdin.take().unwrap().write_all(b"correct horse battery staple\n").unwrap();
        assert!(add.wait().unwrap().success());
    }
    let own: Vec<String> = bambari.reports().into_iter().filter(|r| r.2.starts_with("bambari")).map(|r| r.0).collect();
    assert!(own.iter().all(|r| r.starts_with("VC-1")), "bambari draws from its own reference space: {own:?}");
    bambari.ok(&["alerts", "ack", &own[0], "--as", "amina"]);

    // Everyone syncs twice (the second round brings what the others pushed).
    for _ in 0..2 {
        for (node, name, _) in &nodes {
            node.ok(&["sync", "--hq", &server.url, "--credential", &format!("{name}.cred")]);
        }
    }
    let at_hq = hq.reports();
    assert_eq!(at_hq.len(), 3 + 9, "{at_hq:?}");
    for (node, _, area) in &nodes {
        // The digest of what an office holds is HQ's, cut to its areas.
        assert_eq!(node.reports(), in_areas(&at_hq, &[area]));
    }
    assert_eq!(nodes[0].0.reports().len(), 1 + 3 + 3, "bambari: HQ's Ouaka report, its own, kaga's");
    assert!(nodes[1].0.reports().iter().all(|r| r.1 == "CF41"), "bria sees nothing outside its areas");

    // The acknowledgement reached HQ and kaga (same area), not bria.
    let alerts = hq.ok(&["alerts", "list", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&alerts).unwrap();
    let acked = v.as_array().unwrap().iter().find(|a| a["reference"] == own[0].as_str()).unwrap().clone();
    assert_eq!(acked["state"], "acknowledged", "{acked}");

    // A second run moves nothing.
    for (node, name, _) in &nodes {
        let out = node.ok(&["sync", "--hq", &server.url, "--credential", &format!("{name}.cred")]);
        assert_eq!(moved(&out), [0, 0, 0, 0, 0], "{out}");
        let me = node.status();
        assert_eq!(me["node"], *name);
        assert_eq!(me["offices"][0]["pending_up"], 0);
        assert_eq!(me["offices"][0]["pending_down"], 0);
    }
    let status = hq.status();
    assert_eq!(status["node"], "hq");
    let offices_status = status["offices"].as_array().unwrap();
    assert_eq!(offices_status.len(), 3);
    for o in offices_status {
        assert!(o["last_sync"].is_string(), "{o}");
        assert_eq!(
            (o["pending_up"].as_u64(), o["pending_down"].as_u64(), o["conflicts"].as_u64()),
            (Some(0), Some(0), Some(0)),
            "{o}"
        );
    }

    // Two offices acknowledge HQ's Ouaka report while apart: both steps are
    // kept, the first to arrive decides the state, the other is a conflict
    // an analyst sees at HQ and at the office that made it.
    let ouaka = at_hq.iter().find(|r| r.2.contains("Ouaka")).unwrap().0.clone();
    let kaga = &nodes[2].0;
    bambari.ok(&["alerts", "ack", &ouaka, "--as", "amina"]);
    kaga.ok(&["alerts", "ack", &ouaka, "--as", "amina"]);
    for (node, name, _) in [&nodes[0], &nodes[2], &nodes[0], &nodes[2]] {
        node.ok(&["sync", "--hq", &server.url, "--credential", &format!("{name}.cred")]);
    }
    let status = hq.status();
    let conflicts: Vec<(String, u64)> = status["offices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["name"].as_str().unwrap().to_string(), o["conflicts"].as_u64().unwrap()))
        .collect();
    assert_eq!(conflicts, [("bambari".into(), 0), ("bria".into(), 0), ("kaga".into(), 1)]);
    assert_eq!(kaga.status()["offices"][0]["conflicts"], 1, "kaga is told too");
    let listed = hq.ok(&["sync", "conflicts"]);
    assert!(listed.contains(&ouaka) && listed.contains("acknowledge"), "{listed}");
    for node in [&hq, bambari, kaga] {
        let alerts: serde_json::Value =
            serde_json::from_str(&node.ok(&["alerts", "list", "--format", "json"])).unwrap();
        let a = alerts.as_array().unwrap().iter().find(|a| a["reference"] == ouaka.as_str()).unwrap().clone();
        assert_eq!(a["state"], "acknowledged", "{a}");
    }
}

/// Inserts `n` reports into an office's database as intake would, in its reference space.
fn take_reports(office: &Node, space: u8, n: usize, tag: &str) {
    let store = vitalcore_store_sqlite::SqliteStore::open(office.sqlite_path()).unwrap();
    let mut reports = Vec::with_capacity(n);
    let mut seen = BTreeSet::new();
    while reports.len() < n {
        let reference = Reference::random_in(Some(space)).unwrap();
        if !seen.insert(reference.clone()) {
            continue;
        }
        let mut r = report_at(0, Some("CF32"), "2026-12-01T08:00:00Z");
        r.reference = reference;
        r.contact = None;
        r.text = format!("{tag} {}", reports.len());
        reports.push(r);
    }
    store.insert_reports(&reports).unwrap();
}

#[test]
fn a_sync_killed_mid_batch_and_run_again_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let hq = Node::hq(dir.path());
    hq.ok(&["import", boundaries().to_str().unwrap()]);
    hq.ok(&["sync", "office", "add", "bambari", "--areas", "CF32", "--out", "b.cred"]);
    let mut server = hq.serve();
    let office = Node::sqlite(dir.path(), "bambari");
    office.ok(&["sync", "--hq", &server.url, "--credential", "b.cred"]);
    const N: usize = 4_000;
    take_reports(&office, 1, N, "field report");

    // kill -9 of the office mid-run, a few times, at growing delays.
    let mut killed_between = 0;
    for delay_ms in [150u64, 300, 600, 900] {
        let mut child = office
            .cmd(&["sync", "--hq", &server.url, "--batch", "200"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill();
        let _ = child.wait();
        let at_hq = hq.reports().len();
        if !finished && at_hq > 0 && at_hq < N {
            killed_between += 1;
        }
    }
    // kill -9 of HQ mid-run, then HQ restarted.
    let mut child = office
        .cmd(&["sync", "--hq", &server.url, "--batch", "100"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let _ = server.child.kill();
    let _ = server.child.wait();
    let _ = child.wait().unwrap();
    drop(server);
    let server = hq.serve();
    let out = office.ok(&["sync", "--hq", &server.url, "--batch", "500"]);
    let [pushed, _, _, _, _] = moved(&out);
    assert!(pushed <= N as u64, "{out}");
    let at_hq = hq.reports();
    let refs: BTreeSet<&String> = at_hq.iter().map(|r| &r.0).collect();
    assert_eq!((at_hq.len(), refs.len()), (N, N), "every report once at HQ");
    assert_eq!(office.reports(), at_hq, "and the same ones at the office");
    let again = office.ok(&["sync", "--hq", &server.url]);
    assert_eq!(moved(&again), [0, 0, 0, 0, 0], "{again}");
    eprintln!("interrupted mid-run with part of the reports at HQ: {killed_between} times");
}

#[test]
fn bundles_on_a_stick_and_refusals_that_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let hq = Node::hq(dir.path());
    hq.ok(&["import", boundaries().to_str().unwrap()]);
    hq.ok(&["sync", "office", "add", "bambari", "--areas", "CF32", "--out", "b.cred"]);
    hq.ok(&["sync", "office", "add", "bria", "--areas", "CF41", "--out", "r.cred"]);
    hq.ok(&["report", "submit", "--text", "HQ heard of looting in Ouaka", "--area", "CF32"]);

    // No network at all: HQ's export for the office, then the office's back.
    let office = Node::sqlite(dir.path(), "bambari");
    hq.ok(&["sync", "export", "--office", "bambari", "--out", "to-bambari.vcsync"]);
    let err = office.fails(&["sync", "import", "to-bambari.vcsync"]);
    assert!(err.contains("not a field office yet") && err.contains("--credential"), "{err}");
    let out = office.ok(&["sync", "import", "to-bambari.vcsync", "--credential", "b.cred"]);
    assert!(out.contains("2 new"), "boundary and report: {out}");
    assert!(office.ok(&["sync", "import", "to-bambari.vcsync"]).contains("0 new, 2 already here"));
    office.ok(&["report", "submit", "--text", "bambari saw it too", "--area", "CF32"]);
    office.ok(&["sync", "export", "--out", "from-bambari.vcsync"]);
    let before = hq.reports().len();

    // Tampered: one byte changed in the middle.
    let mut bytes = std::fs::read(dir.path().join("from-bambari.vcsync")).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x20;
    std::fs::write(dir.path().join("tampered.vcsync"), &bytes).unwrap();
    let err = hq.fails(&["sync", "import", "tampered.vcsync"]);
    assert!(err.contains("signature does not verify") && err.contains("nothing was applied"), "{err}");
    assert_eq!(hq.reports().len(), before);

    // From an office this HQ does not know (registered at another HQ).
    let other_hq = Node::sqlite(dir.path(), "other-hq");
    other_hq.ok(&["sync", "office", "add", "zemio", "--areas", "CF32", "--out", "z.cred"]);
    let stranger = Node::sqlite(dir.path(), "zemio");
    stranger.ok(&["report", "submit", "--text", "zemio report", "--area", "CF32"]);
    stranger.ok(&["sync", "export", "--out", "from-zemio.vcsync", "--credential", "z.cred"]);
    let err = hq.fails(&["sync", "import", "from-zemio.vcsync"]);
    assert!(err.contains("`zemio` is not registered") && err.contains("sync office add zemio"), "{err}");
    assert_eq!(hq.reports().len(), before);

    // A newer schema.
    let cred = vitalcore_sync::Credential::parse(&std::fs::read_to_string(dir.path().join("b.cred")).unwrap()).unwrap();
    let keys = vitalcore_sync::BundleKeys::from_credential_hash(&cred.hash().unwrap());
    let real =
        vitalcore_sync::bundle::open(&std::fs::read(dir.path().join("from-bambari.vcsync")).unwrap(), &keys).unwrap();
    let newer = vitalcore_sync::Header { schema: 999, ..real.0 };
    std::fs::write(dir.path().join("newer.vcsync"), vitalcore_sync::bundle::seal(&newer, &real.1, &keys).unwrap())
        .unwrap();
    let err = hq.fails(&["sync", "import", "newer.vcsync"]);
    assert!(err.contains("newer vitalcore") && err.contains("Upgrade vitalcore"), "{err}");
    assert_eq!(hq.reports().len(), before);

    // The real one goes in, once.
    assert!(hq.ok(&["sync", "import", "from-bambari.vcsync"]).contains("1 new"));
    assert!(hq.ok(&["sync", "import", "from-bambari.vcsync"]).contains("0 new, 1 already here"));
    assert_eq!(hq.reports().len(), before + 1);

    // Plain http only to loopback.
    let err = office.fails(&["sync", "--hq", "http://192.0.2.10:8080"]);
    assert!(err.contains("only to a loopback address"), "{err}");

    // A revoked credential: refused over the network and on a stick, nothing applied.
    let server = hq.serve();
    office.ok(&["report", "submit", "--text", "after revocation", "--area", "CF32"]);
    hq.ok(&["sync", "office", "revoke", "bambari"]);
    let err = office.fails(&["sync", "--hq", &server.url]);
    assert!(err.contains("was revoked at headquarters") && err.contains("register the office again"), "{err}");
    office.ok(&["sync", "export", "--out", "late.vcsync"]);
    let err = hq.fails(&["sync", "import", "late.vcsync"]);
    assert!(err.contains("was revoked"), "{err}");
    assert_eq!(hq.reports().len(), before + 1);
    assert!(hq.ok(&["sync", "office", "list"]).contains("bambari\tCF32\trevoked"));
}

/// A store of either backend, for what the CLI has no command for (tag
/// corrections, warnings raised as if they came down from HQ).
trait Stores: ReportStore + vitalcore_store::forecasts::ForecastStore {}
impl<T: ReportStore + vitalcore_store::forecasts::ForecastStore> Stores for T {}

impl Node {
    fn store(&self) -> Box<dyn Stores> {
        match &self.db {
            Db::Sqlite(path) => Box::new(vitalcore_store_sqlite::SqliteStore::open(path).unwrap()),
            Db::Postgres { url, .. } => Box::new(vitalcore_store_postgres::PostgresStore::connect(url).unwrap()),
        }
    }

    fn add_responder(&self) {
        let mut add = self
            .cmd(&["users", "add", "amina", "--role", "responder", "--password-stdin"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        add.stdin.take().unwrap().write_all(b"correct horse battery staple\n").unwrap();
        assert!(add.wait().unwrap().success());
    }

    /// (report, language, body, [(status, by, at, detail)]) of every outbox message, without local ids.
    fn outbox(&self) -> BTreeSet<String> {
        let v: serde_json::Value =
            serde_json::from_str(&self.ok(&["feedback", "outbox", "list", "--format", "json"])).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let history: Vec<_> = m["history"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| (c["status"].clone(), c["user_id"].clone(), c["at"].clone(), c["detail"].clone()))
                    .collect();
                serde_json::json!([m["report"], m["language"], m["body"], history]).to_string()
            })
            .collect()
    }

    fn corrections(&self) -> BTreeSet<String> {
        self.store().tag_corrections().unwrap().iter().map(|c| serde_json::to_string(c).unwrap()).collect()
    }

    /// (unit, status, by) of every warning.
    fn warnings(&self) -> BTreeSet<(String, String, String)> {
        let v: serde_json::Value = serde_json::from_str(&self.ok(&["warnings", "list", "--format", "json"])).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|w| {
                (
                    w["unit"].as_str().unwrap().to_string(),
                    w["status"].as_str().unwrap().to_string(),
                    w["status_by"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    fn alert_state(&self, reference: &str) -> String {
        let v: serde_json::Value = serde_json::from_str(&self.ok(&["alerts", "list", "--format", "json"])).unwrap();
        let a = v.as_array().unwrap().iter().find(|a| a["reference"] == reference).unwrap().clone();
        a["state"].as_str().unwrap().to_string()
    }
}

fn burst(unit: &str, month: &str) -> vitalcore_store::forecasts::EarlyWarning {
    vitalcore_store::forecasts::EarlyWarning {
        id: 0,
        created: String::new(),
        unit: unit.into(),
        month: month.parse().unwrap(),
        kind: vitalcore_store::forecasts::WarningKind::ReportBurst,
        value: 9.0,
        threshold: 4.0,
        reason: "community reports above their recent level".into(),
        run_id: None,
        status: vitalcore_store::forecasts::WarningStatus::New,
        status_by: None,
        status_at: None,
        note: None,
    }
}

/// What an office's analysts did while offline, stamped by the office's
/// clock (`skew` from the true time): a report taken, feedback given on it
/// with its SMS queued, exported and sent, its tags corrected, and the
/// area's warning acknowledged.
fn office_work(office: &Node, name: &str, area: &str, space: u8, skew: jiff::SignedDuration) -> String {
    use vitalcore_intake::outbox::{OutboxChange, OutboxDraft, OutboxStatus};
    use vitalcore_intake::workflow::{Step, StepRecord};
    let store = office.store();
    let clock = |minutes: i64| Timestamp::now() + skew + jiff::SignedDuration::from_mins(minutes);
    let mut r = report_at(0, Some(area), "2026-12-01T08:00:00Z");
    r.reference = Reference::random_in(Some(space)).unwrap();
    r.received_at = clock(-30);
    r.text = format!("{name} heard of an attack on the market");
    store.insert_report(&r).unwrap();
    let ack = StepRecord {
        alert: r.reference.clone(),
        seq: 0,
        step: Step::Acknowledge,
        user_id: "amina".into(),
        at: clock(0),
        channel: vitalcore_intake::workflow::StepChannel::Cli,
    };
    let ids = store
        .append_step_with_messages(
            &ack,
            &[OutboxDraft {
                report: r.reference.clone(),
                step_seq: 0,
                language: "fr".into(),
                body: format!("{name}: votre signalement {} est pris en charge", r.reference),
                queued_by: "amina".into(),
                queued_at: clock(0),
            }],
        )
        .unwrap();
    let exported = OutboxChange {
        message_id: ids[0],
        seq: 1,
        status: OutboxStatus::Exported,
        user_id: "amina".into(),
        at: clock(1),
        detail: Some(format!("{name}-sms.csv")),
    };
    let sent = OutboxChange {
        seq: 2,
        status: OutboxStatus::Sent,
        at: clock(2),
        detail: Some("gw-7".into()),
        ..exported.clone()
    };
    store.append_outbox_changes(&[exported, sent]).unwrap();
    store
        .correct_tags(&vitalcore_store::reports::TagCorrection {
            report: r.reference.clone(),
            user_id: "amina".into(),
            at: clock(3),
            previous_dimensions: r.tags.dimensions.clone(),
            previous_themes: r.tags.themes.clone(),
            dimensions: vec!["physical".into()],
            themes: vec![format!("{name}-market")],
        })
        .unwrap();
    store.add_warnings(&[burst(area, "2026-12")]).unwrap();
    let id = store.warnings(&Default::default()).unwrap()[0].id;
    let at = clock(4).to_string();
    store
        .set_warning_status(id, vitalcore_store::forecasts::WarningStatus::Acknowledged, name, &at, Some("patrol sent"))
        .unwrap();
    r.reference.to_string()
}

#[test]
fn feedback_corrections_and_warning_changes_flow_up_once_with_office_clocks_hours_apart() {
    let dir = tempfile::tempdir().unwrap();
    let hq = Node::hq(dir.path());
    hq.ok(&["import", boundaries().to_str().unwrap()]);
    // Office clocks: bambari 3 h ahead, bria 5 h behind, kaga 7 h ahead.
    let offices = [("bambari", "CF32", 3), ("bria", "CF41", -5), ("kaga", "CF32", 7)];
    for (name, areas, _) in offices {
        hq.ok(&["sync", "office", "add", name, "--areas", areas, "--out", &format!("{name}.cred")]);
    }
    hq.add_responder();
    hq.ok(&["report", "submit", "--text", "HQ heard of looting in Ouaka", "--area", "CF32"]);
    hq.ok(&["report", "submit", "--text", "HQ heard of a roadblock near Bria", "--area", "CF41"]);
    // The warnings HQ raised, as they reach the offices (that flow is not this test's).
    hq.store().add_warnings(&[burst("CF32", "2026-12"), burst("CF41", "2026-12")]).unwrap();
    let server = hq.serve();
    let sync =
        |node: &Node, name: &str| node.ok(&["sync", "--hq", &server.url, "--credential", &format!("{name}.cred")]);
    let nodes: Vec<Node> = offices.iter().map(|(name, _, _)| Node::sqlite(dir.path(), name)).collect();
    for (node, (name, _, _)) in nodes.iter().zip(offices) {
        sync(node, name);
        node.add_responder();
    }
    let at_hq = hq.reports();
    let ouaka = at_hq.iter().find(|r| r.2.contains("Ouaka")).unwrap().0.clone();
    let roadblock = at_hq.iter().find(|r| r.2.contains("roadblock")).unwrap().0.clone();

    // Offline, each with its own clock.
    let mut own = Vec::new();
    for (i, (node, (name, area, hours))) in nodes.iter().zip(offices).enumerate() {
        own.push(office_work(node, name, area, i as u8 + 1, jiff::SignedDuration::from_hours(hours)));
    }
    // bambari (3 h ahead) acknowledges HQ's Ouaka report; once it is at HQ,
    // HQ verifies it by its own clock, 3 h "before": an ordinary step.
    let bambari_store = nodes[0].store();
    let ouaka_ref: Reference = ouaka.parse().unwrap();
    let ack = vitalcore_intake::workflow::StepRecord {
        alert: ouaka_ref.clone(),
        seq: 0,
        step: vitalcore_intake::workflow::Step::Acknowledge,
        user_id: "amina".into(),
        at: Timestamp::now() + jiff::SignedDuration::from_hours(3),
        channel: vitalcore_intake::workflow::StepChannel::Cli,
    };
    bambari_store.append_step(&ack).unwrap();
    sync(&nodes[0], "bambari");
    hq.ok(&["alerts", "verify", &ouaka, "--note", "called the chief", "--as", "amina"]);
    // kaga assigns it (by the binary's clock) once it has both steps.
    sync(&nodes[2], "kaga");
    nodes[2].ok(&["alerts", "assign", &ouaka, "--owner", "Lt. Ndoye", "--unit", "BANBATT 2", "--as", "amina"]);
    // A true conflict: HQ closes the roadblock report while bria (5 h
    // behind) acknowledges it, apart.
    for step in [
        vec!["alerts", "ack", &roadblock, "--as", "amina"],
        vec!["alerts", "unfounded", &roadblock, "--reason", "no roadblock there", "--as", "amina"],
        vec!["alerts", "close", &roadblock, "--outcome", "unfounded", "--as", "amina"],
    ] {
        hq.ok(&step);
    }
    nodes[1]
        .store()
        .append_step(&vitalcore_intake::workflow::StepRecord {
            alert: roadblock.parse().unwrap(),
            seq: 0,
            step: vitalcore_intake::workflow::Step::Acknowledge,
            user_id: "amina".into(),
            at: Timestamp::now() - jiff::SignedDuration::from_hours(5),
            channel: vitalcore_intake::workflow::StepChannel::Cli,
        })
        .unwrap();

    for _ in 0..2 {
        for (node, (name, _, _)) in nodes.iter().zip(offices) {
            sync(node, name);
        }
    }
    // Nothing lost, nothing twice: HQ holds exactly the union of what the offices made.
    let union = |f: &dyn Fn(&Node) -> BTreeSet<String>| nodes.iter().flat_map(f).collect::<BTreeSet<_>>();
    assert_eq!(hq.outbox(), union(&|n: &Node| n.outbox()));
    assert_eq!(hq.outbox().len(), 3);
    assert!(hq.outbox().iter().all(|m| m.contains("\"sent\"")), "{:?}", hq.outbox());
    let listed: serde_json::Value =
        serde_json::from_str(&hq.ok(&["feedback", "outbox", "list", "--format", "json"])).unwrap();
    assert!(
        listed.as_array().unwrap().iter().all(|m| m["origin"].is_string()),
        "HQ knows each message is the office's to send: {listed}"
    );
    assert_eq!(hq.corrections(), union(&|n: &Node| n.corrections()));
    assert_eq!(hq.corrections().len(), 3);
    let hq_store = hq.store();
    for r in &own {
        let stored = hq_store.report(&r.parse().unwrap()).unwrap().unwrap();
        assert_eq!(stored.tags.dimensions, ["physical"], "the correction set the tags at HQ");
    }
    // Offices keep their own feedback and corrections: none of another's.
    for (node, r) in nodes.iter().zip(&own) {
        assert!(node.outbox().iter().all(|m| m.contains(r.as_str())));
    }
    // Warnings: CF41 acknowledged by bria; CF32 by the later of bambari and kaga (kaga's clock is ahead).
    let warnings = hq.warnings();
    assert!(warnings.contains(&("CF41".into(), "acknowledged".into(), "bria".into())), "{warnings:?}");
    assert!(warnings.contains(&("CF32".into(), "acknowledged".into(), "kaga".into())), "{warnings:?}");
    // Skew turned no ordinary step into a conflict; the step on the closed alert is one.
    assert_eq!(hq.alert_state(&ouaka), "response_assigned");
    for node in [&nodes[0], &nodes[2]] {
        assert_eq!(node.alert_state(&ouaka), "response_assigned");
    }
    assert_eq!(hq.alert_state(&roadblock), "closed");
    assert_eq!(nodes[1].alert_state(&roadblock), "closed");
    let status = hq.status();
    let conflicts: Vec<(String, u64)> = status["offices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["name"].as_str().unwrap().to_string(), o["conflicts"].as_u64().unwrap()))
        .collect();
    assert_eq!(conflicts, [("bambari".into(), 0), ("bria".into(), 1), ("kaga".into(), 0)]);
    let listed = hq.ok(&["sync", "conflicts"]);
    assert!(listed.contains(&roadblock) && listed.contains("acknowledge"), "{listed}");
    // A second run moves nothing.
    for (node, (name, _, _)) in nodes.iter().zip(offices) {
        assert_eq!(moved(&sync(node, name)), [0, 0, 0, 0, 0]);
    }
}

/// (source id, deaths, area P-code) of every event a node stores.
type EventKey = (String, u32, String);

impl Node {
    fn events(&self) -> BTreeSet<EventKey> {
        let store: Box<dyn vitalcore_store::Store> = match &self.db {
            Db::Sqlite(path) => Box::new(vitalcore_store_sqlite::SqliteStore::open(path).unwrap()),
            Db::Postgres { url, .. } => Box::new(vitalcore_store_postgres::PostgresStore::connect(url).unwrap()),
        };
        let events = vitalcore_store::events(&*store, &Default::default()).unwrap();
        let keys: BTreeSet<EventKey> = events
            .iter()
            .map(|e| {
                let area = e.place.admin2_pcode.clone().or(e.place.admin1_pcode.clone()).unwrap_or_default();
                (e.provenance.source_id.clone(), e.fatalities, area)
            })
            .collect();
        assert_eq!(keys.len(), events.len(), "no event twice");
        keys
    }
}

/// (unit, month, mean) of the latest admin-1 forecast run's rows, and
/// (unit, month, kind, status, note) of the warnings, at a node.
type Forecasts = (BTreeSet<(String, String, String)>, BTreeSet<(String, String, String, String, String)>);

impl Node {
    fn forecasts(&self) -> Forecasts {
        use vitalcore_store::forecasts::ForecastStore;
        let store: Box<dyn ForecastStore> = match &self.db {
            Db::Sqlite(path) => Box::new(vitalcore_store_sqlite::SqliteStore::open(path).unwrap()),
            Db::Postgres { url, .. } => Box::new(vitalcore_store_postgres::PostgresStore::connect(url).unwrap()),
        };
        let rows = match store.latest_forecast_run(Some("admin1")).unwrap() {
            None => BTreeSet::new(),
            Some(run) => store
                .forecast_rows(run.id)
                .unwrap()
                .into_iter()
                .map(|r| (r.unit, r.month.to_string(), format!("{:.6}", r.mean)))
                .collect(),
        };
        let warnings = store
            .warnings(&Default::default())
            .unwrap()
            .into_iter()
            .map(|w| {
                let note = w.note.map(|n| n.text).unwrap_or_default();
                (w.unit, w.month.to_string(), w.kind.as_str().to_string(), w.status.as_str().to_string(), note)
            })
            .collect();
        (rows, warnings)
    }
}

impl Node {
    fn add_user(&self, args: &[&str], password: &str) {
        let mut cmd = vec!["users", "add"];
        cmd.extend(args);
        cmd.push("--password-stdin");
        let mut add = self.cmd(&cmd).stdin(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
        add.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
        assert!(add.wait().unwrap().success(), "{args:?}");
    }

    /// (username, community) of every account here, and the password hash of each.
    fn accounts(&self) -> (BTreeSet<(String, String)>, std::collections::BTreeMap<String, String>) {
        let store = vitalcore_store_sqlite::SqliteStore::open(self.sqlite_path()).unwrap();
        let users = store.users().unwrap();
        let names = users.iter().map(|u| (u.username.clone(), u.community.clone().unwrap_or_default())).collect();
        (names, users.into_iter().map(|u| (u.username, u.password_hash)).collect())
    }
}

fn events_in(all: &BTreeSet<EventKey>, areas: &[&str]) -> BTreeSet<EventKey> {
    all.iter().filter(|e| areas.iter().any(|a| e.2.starts_with(a))).cloned().collect()
}

fn ucdp_events() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/demo/ucdp-ged-23.1-caf.geojson")
}

/// The UCDP file with the deaths of event `id` set to `best`, as a revised release would have it.
fn revised_ucdp(dir: &Path, id: &str, best: u64) -> PathBuf {
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(ucdp_events()).unwrap()).unwrap();
    for f in v["features"].as_array_mut().unwrap() {
        if f["properties"]["id"].as_u64().map(|n| n.to_string()).as_deref() == Some(id) {
            f["properties"]["best"] = best.into();
        }
    }
    let path = dir.join("ucdp-revised.geojson");
    std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    path
}

#[test]
fn events_forecasts_warnings_and_accounts_go_down_to_each_office_within_its_areas() {
    let dir = tempfile::tempdir().unwrap();
    let hq = Node::hq(dir.path());
    hq.ok(&["import", boundaries().to_str().unwrap()]);
    hq.ok(&["import", ucdp_events().to_str().unwrap()]);
    let offices = [("bambari", "CF32"), ("bria", "CF41"), ("kaga", "CF32,CF43")];
    for (name, areas) in offices {
        hq.ok(&["sync", "office", "add", name, "--areas", areas, "--out", &format!("{name}.cred")]);
    }
    // Focal points of an Ouaka and a Kémo community, and an analyst with no area.
    hq.add_user(&["fp-ouaka", "--role", "focal-point", "--community", "CF43"], "ouaka focal point passphrase");
    hq.add_user(&["fp-kemo", "--role", "focal-point", "--community", "CF41"], "kemo focal point passphrase");
    hq.add_user(&["hq-analyst", "--role", "analyst"], "analyst at headquarters only");
    let server = hq.serve();
    let nodes: Vec<(Node, &str, Vec<&str>)> = offices
        .iter()
        .map(|(name, areas)| (Node::sqlite(dir.path(), name), *name, areas.split(',').collect()))
        .collect();
    let sync_all = || {
        for (node, name, _) in &nodes {
            // Small batches: the events of one import span many of them.
            node.ok(&["sync", "--hq", &server.url, "--credential", &format!("{name}.cred"), "--batch", "150"]);
        }
    };
    sync_all();
    let at_hq = hq.events();
    assert!(at_hq.len() > 1_500, "the UCDP file is stored at HQ: {}", at_hq.len());
    for (node, name, areas) in &nodes {
        let expected = events_in(&at_hq, areas);
        assert!(!expected.is_empty(), "{name} has events in its areas");
        assert_eq!(node.events(), expected, "{name} holds HQ's events of its areas, nothing else");
    }
    // Accounts tied to an office's areas, and only those, arrived with their
    // password hash: the focal point logs in at kaga while it is cut off.
    let accounts: Vec<_> = nodes.iter().map(|(node, _, _)| node.accounts()).collect();
    assert_eq!(accounts[0].0, BTreeSet::new(), "bambari (Ouham) gets no account");
    assert_eq!(accounts[1].0, BTreeSet::from([("fp-kemo".to_string(), "CF41".to_string())]));
    assert_eq!(accounts[2].0, BTreeSet::from([("fp-ouaka".to_string(), "CF43".to_string())]));
    let hash = &accounts[2].1["fp-ouaka"];
    assert!(vitalcore_security::auth::verify_password("ouaka focal point passphrase", hash).unwrap());
    // The import's file record came with them.
    let imports = nodes[0].0.ok(&["status"]);
    assert!(imports.contains("ucdp-ged-23.1-caf.geojson"), "{imports}");

    // A revised release at HQ: the office's copy is replaced, the prior version kept.
    let (id, deaths, _) = events_in(&at_hq, &["CF32"]).into_iter().next().unwrap();
    hq.ok(&["import", revised_ucdp(dir.path(), &id, u64::from(deaths) + 40).to_str().unwrap()]);
    sync_all();
    let at_hq = hq.events();
    assert!(at_hq.iter().any(|e| e.0 == id && e.1 == deaths + 40));
    for (node, name, areas) in &nodes {
        assert_eq!(node.events(), events_in(&at_hq, areas), "{name} after the revision");
    }
    let history = nodes[0].0.ok(&["history", "ucdp-ged", &id]);
    assert!(history.contains("version 1") && history.contains("version 2"), "{history}");

    // HQ forecasts from its events and raises warnings; an analyst acknowledges one.
    hq.ok(&["warnings", "run", "--samples", "200", "--skill-origins", "0", "--p-any", "0.005"]);
    let (rows, warnings) = hq.forecasts();
    assert!(rows.iter().any(|r| r.0 == "CF43") && rows.iter().any(|r| r.0 == "CF41"), "{rows:?}");
    let listed: serde_json::Value = serde_json::from_str(&hq.ok(&["warnings", "list", "--format", "json"])).unwrap();
    let ouaka = listed.as_array().unwrap().iter().find(|w| w["unit"] == "CF43").expect("a warning in Ouaka");
    hq.ok(&["warnings", "ack", &ouaka["id"].to_string(), "--as", "lead", "--note", "patrol sent"]);
    let (_, warnings_now) = hq.forecasts();
    assert!(warnings_now.iter().any(|w| w.0 == "CF43" && w.3 == "acknowledged" && w.4 == "patrol sent"));
    assert!(warnings.len() >= 2, "{warnings:?}");
    sync_all();
    let (rows, warnings) = hq.forecasts();
    for (node, name, areas) in &nodes {
        let (their_rows, their_warnings) = node.forecasts();
        let in_areas = |unit: &str| areas.iter().any(|a| unit.starts_with(a));
        let expected_rows: BTreeSet<_> = rows.iter().filter(|r| in_areas(&r.0)).cloned().collect();
        let expected_warnings: BTreeSet<_> = warnings.iter().filter(|w| in_areas(&w.0)).cloned().collect();
        assert!(!expected_rows.is_empty(), "{name}");
        assert_eq!(their_rows, expected_rows, "{name}: HQ's forecast rows of its areas");
        assert_eq!(their_warnings, expected_warnings, "{name}: HQ's warnings of its areas, as they stand");
    }

    // Closed at HQ after the offices have it: the change goes down to the
    // offices of Ouaka (kaga), not elsewhere, and is applied there once.
    hq.ok(&["warnings", "close", &ouaka["id"].to_string(), "--as", "lead", "--note", "calm again"]);
    let closed_ouaka = |(unit, _, _, status, note): &(String, String, String, String, String)| {
        unit == "CF43" && status == "closed" && note == "calm again"
    };
    let moved_now: Vec<[u64; 5]> = nodes
        .iter()
        .map(|(node, name, _)| moved(&node.ok(&["sync", "--hq", &server.url, "--credential", &format!("{name}.cred")])))
        .collect();
    let (_, warnings) = hq.forecasts();
    assert!(warnings.iter().any(closed_ouaka), "{warnings:?}");
    for (node, name, areas) in &nodes {
        let (_, their_warnings) = node.forecasts();
        let in_areas = |unit: &str| areas.iter().any(|a| unit.starts_with(a));
        let expected: BTreeSet<_> = warnings.iter().filter(|w| in_areas(&w.0)).cloned().collect();
        assert_eq!(their_warnings, expected, "{name}: HQ's warnings of its areas after the close");
    }
    assert!(nodes[2].0.forecasts().1.iter().any(closed_ouaka), "kaga shows the warning closed");
    assert_eq!(moved_now.iter().map(|m| m.iter().sum::<u64>()).filter(|&n| n > 0).count(), 1, "{moved_now:?}");

    // Run again: nothing moves.
    for (node, name, _) in &nodes {
        let out = node.ok(&["sync", "--hq", &server.url, "--credential", &format!("{name}.cred")]);
        assert_eq!(moved(&out), [0, 0, 0, 0, 0], "{name}: {out}");
    }
}
