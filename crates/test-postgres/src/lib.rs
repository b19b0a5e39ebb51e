//! A PostgreSQL server for vitalcore's tests, so that `cargo test
//! --workspace` needs nothing set up by hand.
//!
//! [`database_url`] gives every test of a process the same server, found or
//! started once:
//! - `VITALCORE_PG_URL`, when set, names it (unreachable is a clear failure);
//! - otherwise a throwaway cluster is started from the local PostgreSQL
//!   binaries (`PATH`, then the newest `/usr/lib/postgresql/*/bin`) in a fresh
//!   temporary folder, listening only on a Unix socket in that folder, and
//!   removed when the process exits; as root it runs as the `postgres` system
//!   user, because PostgreSQL refuses to run as root;
//! - with no binaries at all, root on Debian installs the `postgresql`
//!   package (once, under a file lock); anyone else is told what to install.
//!
//! `VITALCORE_SKIP_PG=1` turns the PostgreSQL tests off:
//! [`database_url_or_skip`] then returns `None` and starts nothing.
//!
//! The server's client is synchronous: call these functions outside any
//! async runtime.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use postgres::{Client, NoTls};

/// Names a server to use instead of a throwaway cluster.
pub const URL_VAR: &str = "VITALCORE_PG_URL";
/// `1` turns the PostgreSQL tests off.
pub const SKIP_VAR: &str = "VITALCORE_SKIP_PG";

const DEBIAN_LIB: &str = "/usr/lib/postgresql";
const APT_GET: &str = "/usr/bin/apt-get";
const BINARIES: [&str; 3] = ["initdb", "pg_ctl", "postgres"];
const PORT: u16 = 5432;

struct Server {
    url: String,
    /// The throwaway cluster's folder; `None` for `VITALCORE_PG_URL`.
    #[cfg_attr(not(test), allow(dead_code))]
    folder: Option<PathBuf>,
    /// The write end of the watchdog's stdin, held (never written) until the
    /// process exits.
    _watchdog: Option<ChildStdin>,
}

#[track_caller]
fn server() -> &'static Server {
    // The outcome is kept, failure included: the first test reports why,
    // and the others fail at once with the same words instead of each
    // trying again.
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    match SERVER.get_or_init(establish) {
        Ok(server) => server,
        Err(message) => panic!("{message}"),
    }
}

/// A libpq-style URL of a reachable server, with a database the tests may
/// create schemas in; the same for every call in a process. Panics, saying
/// what to do, when there is no server and none can be started.
#[track_caller]
pub fn database_url() -> String {
    server().url.clone()
}

/// [`database_url`], or `None` (printing "skipped") when
/// `VITALCORE_SKIP_PG=1`, in which case nothing is started or installed.
#[track_caller]
pub fn database_url_or_skip() -> Option<String> {
    if skip_requested() {
        eprintln!("skipped: {SKIP_VAR}=1 turns the PostgreSQL tests off");
        return None;
    }
    Some(database_url())
}

/// A new connection to [`database_url`], as its superuser.
#[track_caller]
pub fn connect() -> Client {
    let url = database_url();
    match Client::connect(&url, NoTls) {
        Ok(client) => client,
        Err(e) => panic!("cannot connect to the test PostgreSQL at `{url}`: {}", describe(&e)),
    }
}

/// Drops `schema` and everything in it, if it exists. Best effort, as it
/// runs from `Drop` implementations: errors are ignored.
pub fn drop_schema(schema: &str) {
    if let Ok(mut client) = Client::connect(&database_url(), NoTls) {
        let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", schema.replace('"', "\"\"")));
    }
}

fn skip_requested() -> bool {
    std::env::var(SKIP_VAR).as_deref() == Ok("1")
}

fn establish() -> Result<Server, String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => {
            check_reachable(&url)?;
            Ok(Server { url, folder: None, _watchdog: None })
        }
        _ => start_cluster(),
    }
}

fn check_reachable(url: &str) -> Result<(), String> {
    Client::connect(url, NoTls).and_then(|mut client| client.simple_query("SELECT 1").map(drop)).map_err(|e| {
        format!(
            "{URL_VAR}=`{url}` is unreachable: {}. Start that server, or unset {URL_VAR} to let the tests \
             start a throwaway PostgreSQL of their own, or set {SKIP_VAR}=1 to skip the PostgreSQL tests",
            describe(&e)
        )
    })
}

/// The error with its causes: the client's own words alone are often just
/// "error connecting to server".
fn describe(error: &postgres::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

fn missing_binaries() -> String {
    format!(
        "the PostgreSQL tests start a throwaway server from the local PostgreSQL binaries (initdb, pg_ctl, \
         postgres), and none were found on PATH or in {DEBIAN_LIB}/*/bin. Install them (Debian or Ubuntu: \
         `sudo apt-get install postgresql`; Fedora: `sudo dnf install postgresql-server`; macOS: \
         `brew install postgresql`), or set {URL_VAR} to a server where the tests may create schemas \
         (e.g. `host=127.0.0.1 user=postgres dbname=test`), or set {SKIP_VAR}=1 to skip the PostgreSQL tests"
    )
}

/// The folder holding `initdb`, `pg_ctl` and `postgres`: the one of the
/// first `initdb` on `path` (symbolic links followed, as `/usr/local/bin`
/// may link only some of them), else the newest `<debian_lib>/VERSION/bin`.
fn find_bin_dir(path: Option<&OsStr>, debian_lib: &Path) -> Option<PathBuf> {
    let complete = |dir: &Path| BINARIES.iter().all(|name| is_executable(&dir.join(name)));
    for entry in std::env::split_paths(path.unwrap_or_default()) {
        let initdb = entry.join("initdb");
        if is_executable(&initdb)
            && let Ok(real) = initdb.canonicalize()
            && let Some(dir) = real.parent()
            && complete(dir)
        {
            return Some(dir.to_path_buf());
        }
    }
    let version =
        |name: &OsStr| -> Option<Vec<u32>> { name.to_str()?.split('.').map(|part| part.parse().ok()).collect() };
    fs::read_dir(debian_lib)
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            Some((version(&entry.file_name())?, entry.path().join("bin")))
        })
        .filter(|(_, bin)| complete(bin))
        .max()
        .map(|(_, bin)| bin)
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    use std::os::unix::fs::PermissionsExt;
    #[cfg(unix)]
    let executable = |m: &fs::Metadata| m.permissions().mode() & 0o111 != 0;
    #[cfg(not(unix))]
    let executable = |_: &fs::Metadata| true;
    fs::metadata(path).is_ok_and(|m| m.is_file() && executable(&m))
}

/// The binaries' folder: found, or installed when `may_install` and then
/// found, or an error saying what to install.
fn locate_binaries(
    find: &dyn Fn() -> Option<PathBuf>,
    may_install: bool,
    install: &dyn Fn() -> Result<(), String>,
) -> Result<PathBuf, String> {
    if let Some(dir) = find() {
        return Ok(dir);
    }
    if !may_install {
        return Err(missing_binaries());
    }
    install()?;
    find().ok_or_else(|| format!("`apt-get install postgresql` ran, yet {}", missing_binaries()))
}

/// Installs Debian's `postgresql` package, once for all the test processes
/// that get here together: the first takes the lock and installs, the
/// others wait for the lock and find the binaries.
fn install_debian_postgresql(find: &dyn Fn() -> Option<PathBuf>) -> Result<(), String> {
    let lock_path = std::env::temp_dir().join("vitalcore-pg-install.lock");
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .and_then(|file| file.lock().map(|()| file))
        .map_err(|e| format!("cannot lock {} to install PostgreSQL: {e}", lock_path.display()))?;
    if find().is_some() {
        return Ok(());
    }
    eprintln!("vitalcore-test-postgres: no PostgreSQL binaries; installing Debian's `postgresql` package");
    let output = Command::new("sh")
        .args(["-c", "apt-get update -qq && apt-get install -y -qq postgresql"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    drop(lock);
    if !output.status.success() {
        return Err(format!(
            "`apt-get install postgresql` failed ({}): {}; {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim(),
            missing_binaries()
        ));
    }
    Ok(())
}

fn running_as_root() -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // /proc/self belongs to the process's effective user.
        if let Ok(meta) = fs::metadata("/proc/self") {
            return meta.uid() == 0;
        }
        Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.trim_ascii() == b"0")
    }
    #[cfg(not(unix))]
    false
}

/// Runs the PostgreSQL binaries as the test process's user, or as the
/// `postgres` system user when that is root (initdb, pg_ctl and postgres
/// all refuse root).
struct Runner {
    as_postgres: bool,
    folder: PathBuf,
}

impl Runner {
    fn command(&self, program: &Path) -> Command {
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        // The postgres user may not be allowed into the test's folder.
        command.current_dir(&self.folder).stdin(Stdio::null());
        command
    }

    fn run(&self, what: &str, command: &mut Command) -> Result<(), String> {
        let output = command.output().map_err(|e| format!("cannot run {what}: {e}"))?;
        if output.status.success() {
            return Ok(());
        }
        let said = [&output.stderr, &output.stdout].map(|text| String::from_utf8_lossy(text).trim().to_string());
        Err(format!("{what} failed ({}): {}", output.status, said.join("\n").trim()))
    }
}

/// What the watchdog runs, as `sh -c WATCHDOG watchdog FOLDER PG_CTL
/// [runuser -u postgres --]`, its stdin a pipe from the test process.
///
/// Rust never drops statics, and a test process may also end by a signal or
/// `std::process::exit`, so no destructor of ours can be relied on to stop the
/// cluster. The kernel, though, closes every descriptor of a process that
/// ends, however it ends: the watchdog's `read` then sees end of file, and
/// it stops the cluster and removes the folder. This needs no polling and no
/// pid (which could be reused), and no unsafe code (`PR_SET_PDEATHSIG` would).
/// Rust opens the pipe close-on-exec, so no other child of the test
/// process (the server included) holds it open. The watchdog and the server
/// have process groups of their own and the watchdog ignores HUP, INT and
/// TERM, so a Ctrl-C in the terminal ends the tests and not the cleanup.
const WATCHDOG: &str = r#"
trap '' HUP INT TERM
while read -r _; do :; done
folder=$1; pg_ctl=$2; shift 2
"$@" "$pg_ctl" -D "$folder/data" -m immediate -w -t 30 stop >/dev/null 2>&1
pid=$(head -n 1 "$folder/data/postmaster.pid" 2>/dev/null) && kill -KILL "$pid" 2>/dev/null
rm -rf "$folder"
"#;

fn start_cluster() -> Result<Server, String> {
    let started = Instant::now();
    let find = || find_bin_dir(std::env::var_os("PATH").as_deref(), Path::new(DEBIAN_LIB));
    let root = running_as_root();
    let bin = locate_binaries(&find, root && Path::new(APT_GET).exists(), &|| install_debian_postgresql(&find))?;
    if root && !Command::new("id").args(["-u", "postgres"]).output().is_ok_and(|out| out.status.success()) {
        return Err(format!(
            "running as root, the throwaway PostgreSQL must run as the `postgres` system user, which does not \
             exist: create it (`useradd --system postgres`), or set {URL_VAR} to a server, or {SKIP_VAR}=1"
        ));
    }

    let folder = new_folder()?;
    let runner = Runner { as_postgres: root, folder: folder.clone() };
    let mut watchdog = Command::new("sh");
    watchdog.args(["-c", WATCHDOG, "vitalcore-pg-watchdog"]).arg(&folder).arg(bin.join("pg_ctl"));
    if root {
        watchdog.args(["runuser", "-u", "postgres", "--"]);
    }
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut watchdog, 0);
    let watchdog = watchdog
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the throwaway PostgreSQL's watchdog (sh): {e}"))?
        .stdin
        .take();

    if root {
        runner.run(
            "chown postgres (the throwaway PostgreSQL's folder)",
            Command::new("chown").arg("postgres:").arg(&folder),
        )?;
    }
    let data = folder.join("data");
    runner.run(
        "initdb (the throwaway PostgreSQL)",
        runner.command(&bin.join("initdb")).arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ]),
    )?;
    // Only a Unix socket in the folder: no port to collide with another
    // cluster. The test data are thrown away, so nothing waits for the disk.
    let settings = format!(
        "\n# vitalcore-test-postgres\nlisten_addresses = ''\nunix_socket_directories = '{}'\nport = {PORT}\n\
         fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n",
        folder.display().to_string().replace('\'', "''")
    );
    File::options()
        .append(true)
        .open(data.join("postgresql.conf"))
        .and_then(|mut conf| std::io::Write::write_all(&mut conf, settings.as_bytes()))
        .map_err(|e| format!("cannot configure the throwaway PostgreSQL in {}: {e}", data.display()))?;
    let log = folder.join("server.log");
    let mut start = runner.command(&bin.join("pg_ctl"));
    start.arg("-D").arg(&data).arg("-l").arg(&log).args(["-w", "-t", "60", "start"]);
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut start, 0);
    runner.run("pg_ctl start (the throwaway PostgreSQL)", &mut start).map_err(|e| {
        let log = fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        format!("{e}\nserver log:\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"))
    })?;

    let host = conninfo_value(&folder.display().to_string());
    let admin_url = format!("host={host} port={PORT} user=postgres dbname=postgres");
    let mut client = connect_within(&admin_url, Duration::from_secs(30))?;
    client.batch_execute("CREATE DATABASE test").map_err(|e| format!("CREATE DATABASE test: {}", describe(&e)))?;
    eprintln!(
        "vitalcore-test-postgres: throwaway PostgreSQL ({}) ready in {:.2} s in {}",
        bin.display(),
        started.elapsed().as_secs_f64(),
        folder.display()
    );
    Ok(Server {
        url: format!("host={host} port={PORT} user=postgres dbname=test"),
        folder: Some(folder),
        _watchdog: watchdog,
    })
}

/// A fresh folder in the temporary folder, named after the process.
fn new_folder() -> Result<PathBuf, String> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let base = std::env::temp_dir();
    for attempt in 0..100 {
        let folder = base.join(format!("vitalcore-pg-{}-{nanos}-{attempt}", std::process::id()));
        match fs::create_dir(&folder) {
            Ok(()) => return Ok(folder),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot create {}: {e}", folder.display())),
        }
    }
    Err(format!("cannot create a fresh folder in {}", base.display()))
}

/// `value` as a libpq key=value value, quoted when it has to be.
fn conninfo_value(value: &str) -> String {
    if !value.is_empty() && !value.contains(|c: char| c.is_whitespace() || c == '\'' || c == '\\') {
        return value.to_string();
    }
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn connect_within(url: &str, limit: Duration) -> Result<Client, String> {
    let started = Instant::now();
    loop {
        match Client::connect(url, NoTls) {
            Ok(client) => return Ok(client),
            Err(e) if started.elapsed() > limit => {
                return Err(format!(
                    "the throwaway PostgreSQL at `{url}` does not accept connections: {}",
                    describe(&e)
                ));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

#[cfg(all(test, unix))]
mod tests;
