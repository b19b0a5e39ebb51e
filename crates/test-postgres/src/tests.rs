use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;

use super::*;

/// Set for the child process that keeps its server until it is killed.
const HANG_VAR: &str = "VITALCORE_TEST_PG_HANG";

fn child() -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["tests::child_asks_for_the_database", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env_remove(SKIP_VAR)
        .env_remove(HANG_VAR);
    command
}

/// Run only as a child process of the tests below.
#[test]
#[ignore = "child process of the other tests"]
fn child_asks_for_the_database() {
    let server = server();
    println!("url: {}", server.url);
    if let Some(folder) = &server.folder {
        println!("folder: {}", folder.display());
    }
    if std::env::var_os(HANG_VAR).is_some() {
        println!("ready");
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

#[test]
fn the_url_takes_a_connection_and_a_schema() {
    let Some(url) = database_url_or_skip() else { return };
    let mut client = Client::connect(&url, NoTls).unwrap();
    assert_eq!(client.query_one("SELECT 1", &[]).unwrap().get::<_, i32>(0), 1);
    let schema = format!("vc_test_pg_{}", std::process::id());
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {schema}; CREATE TABLE {schema}.t (x int); INSERT INTO {schema}.t VALUES (1)"
        ))
        .unwrap();
    drop_schema(&schema);
    let left: i64 =
        client.query_one("SELECT count(*) FROM pg_namespace WHERE nspname = $1", &[&schema]).unwrap().get(0);
    assert_eq!(left, 0);
}

#[test]
fn every_call_in_a_process_gives_the_same_server() {
    let Some(first) = database_url_or_skip() else { return };
    let urls: Vec<String> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..4).map(|_| scope.spawn(database_url)).collect();
        threads.into_iter().map(|thread| thread.join().unwrap()).collect()
    });
    assert!(urls.iter().all(|url| *url == first), "{urls:?}");
    let started = || -> String { connect().query_one("SELECT pg_postmaster_start_time()::text", &[]).unwrap().get(0) };
    assert_eq!(started(), started());
}

fn closed_port_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("host=127.0.0.1 port={port} user=postgres dbname=test")
}

#[test]
fn an_unreachable_url_is_a_clear_error() {
    let url = closed_port_url();
    let message = check_reachable(&url).unwrap_err();
    assert!(message.starts_with(&format!("{URL_VAR}=`{url}` is unreachable: error connecting")), "{message}");
    assert!(message.contains("refused"), "the cause: {message}");
    assert!(message.contains(&format!("unset {URL_VAR}")) && message.contains(&format!("{SKIP_VAR}=1")), "{message}");
}

/// The same through the public function, in a process of its own (the
/// server, failure included, is kept for the process).
#[test]
fn an_unreachable_url_fails_the_test_that_asks() {
    let url = closed_port_url();
    let output = child().env(URL_VAR, &url).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{text}");
    assert!(text.contains(&format!("{URL_VAR}=`{url}` is unreachable")), "{text}");
    assert!(!text.contains("folder: "), "{text}");
}

fn alive(pid: &str) -> bool {
    // A process that ended but was not yet reaped (state Z) is gone too.
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
}

/// The watchdog at work: a process holding a throwaway cluster is killed
/// (SIGKILL, no destructor runs) and the server and its folder go.
#[test]
fn a_killed_process_leaves_no_cluster_behind() {
    if skip_requested() || std::env::var_os(URL_VAR).is_some() || !Path::new("/proc/self/stat").exists() {
        eprintln!("skipped: needs a throwaway cluster ({URL_VAR} unset, {SKIP_VAR} not 1) and /proc");
        return;
    }
    let mut child = child().env_remove(URL_VAR).env(HANG_VAR, "1").stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok);
    let mut folder = None;
    for line in lines.by_ref() {
        if let Some(path) = line.strip_prefix("folder: ") {
            folder = Some(PathBuf::from(path));
        }
        if line == "ready" {
            break;
        }
    }
    let Some(folder) = folder else {
        child.kill().unwrap();
        panic!("the child started no cluster: {:?}", child.wait_with_output().unwrap());
    };
    let pid = fs::read_to_string(folder.join("data/postmaster.pid")).unwrap().lines().next().unwrap().to_string();
    assert!(alive(&pid), "postmaster {pid} of {}", folder.display());
    child.kill().unwrap();
    child.wait().unwrap();
    let killed = Instant::now();
    while folder.exists() || alive(&pid) {
        assert!(killed.elapsed() < Duration::from_secs(30), "{} or postmaster {pid} still there", folder.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn fake_binaries(dir: &Path, names: &[&str]) {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir_all(dir).unwrap();
    for name in names {
        let path = dir.join(name);
        fs::write(&path, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn binaries_are_found_on_the_path_else_in_the_newest_debian_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let lib = root.join("lib");
    // None at all: missing.
    assert_eq!(find_bin_dir(None, &lib), None);
    assert_eq!(find_bin_dir(Some(&OsString::new()), &lib), None);
    fs::create_dir_all(&lib).unwrap();
    assert_eq!(find_bin_dir(None, &lib), None);

    // Newest by version number (15 after 9.6), complete (16 lacks postgres)
    // and executable (17's are not).
    fake_binaries(&lib.join("9.6/bin"), &BINARIES);
    fake_binaries(&lib.join("15/bin"), &BINARIES);
    fake_binaries(&lib.join("16/bin"), &["initdb", "pg_ctl"]);
    fake_binaries(&lib.join("17/bin"), &BINARIES);
    fs::set_permissions(lib.join("17/bin/postgres"), std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    fake_binaries(&lib.join("common/bin"), &BINARIES);
    assert_eq!(find_bin_dir(None, &lib), Some(lib.join("15/bin")));

    // PATH first; a folder linking only initdb (as /usr/local/bin may) leads
    // to the folder it links to.
    let links = root.join("links");
    fs::create_dir_all(&links).unwrap();
    std::os::unix::fs::symlink(lib.join("9.6/bin/initdb"), links.join("initdb")).unwrap();
    let path = std::env::join_paths([root.join("nothing"), lib.join("16/bin"), links]).unwrap();
    assert_eq!(find_bin_dir(Some(&path), &lib), Some(lib.join("9.6/bin")));
    let path = std::env::join_paths([lib.join("16/bin")]).unwrap();
    assert_eq!(find_bin_dir(Some(&path), &lib), Some(lib.join("15/bin")));
}

#[test]
fn missing_binaries_are_installed_only_where_allowed_else_explained() {
    let nowhere = || None;
    let never = || -> Result<(), String> { panic!("installed where it may not") };
    let message = locate_binaries(&nowhere, false, &never).unwrap_err();
    for needed in ["apt-get install postgresql", "brew install postgresql", URL_VAR, SKIP_VAR] {
        assert!(message.contains(needed), "{needed}: {message}");
    }

    let found = || Some(PathBuf::from("/pg/bin"));
    assert_eq!(locate_binaries(&found, true, &never), Ok(PathBuf::from("/pg/bin")));

    // Installed, then found.
    let installed = std::cell::Cell::new(false);
    let after = || installed.get().then(|| PathBuf::from("/usr/lib/postgresql/15/bin"));
    let install = || {
        installed.set(true);
        Ok(())
    };
    assert_eq!(locate_binaries(&after, true, &install), Ok(PathBuf::from("/usr/lib/postgresql/15/bin")));

    // A failed or useless installation is an error that says what to do.
    let failed = || Err("apt-get: no network".to_string());
    assert_eq!(locate_binaries(&nowhere, true, &failed), Err("apt-get: no network".to_string()));
    let useless = || Ok(());
    let message = locate_binaries(&nowhere, true, &useless).unwrap_err();
    assert!(message.contains("ran, yet") && message.contains(URL_VAR), "{message}");
}

#[test]
fn folders_with_spaces_are_quoted_in_the_url() {
    assert_eq!(conninfo_value("/tmp/vitalcore-pg-1"), "/tmp/vitalcore-pg-1");
    assert_eq!(conninfo_value("/tmp/my tmp/it's"), r"'/tmp/my tmp/it\'s'");
    let config: postgres::Config =
        format!("host={} user=postgres", conninfo_value("/tmp/my tmp/it's")).parse().unwrap();
    assert_eq!(format!("{:?}", config.get_hosts()), r#"[Unix("/tmp/my tmp/it's")]"#);
}
