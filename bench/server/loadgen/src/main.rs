//! Closed-loop GET load for the analysis endpoints of `vitalcore serve`,
//! std only, loopback only.
//!
//! `server-loadgen get ADDR PATH`: one request; prints the body (status
//! other than 200 exits 1).
//! `server-loadgen run ADDR CLIENTS REQUESTS PATH...`: CLIENTS threads, each
//! sends REQUESTS requests one after another (closed loop: the next request
//! leaves when the answer to the last has been read), cycling through the
//! PATHs (client j starts at path j). One connection per request
//! (`Connection: close`), as a browser after idle would; connecting costs
//! tens of microseconds on loopback, nothing next to the answers measured.
//! Prints one line per PATH and one for all of them: requests, failures,
//! wall seconds of the whole run, latency median, p95 and max in
//! milliseconds, and the largest answer in bytes (a check that every run
//! answered alike).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// One GET; returns (status, body).
fn get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(600)))?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers in the answer"))?;
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = raw[head_end + 4..].to_vec();
    let chunked = head.lines().any(|l| {
        l.split_once(':')
            .is_some_and(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.trim().eq_ignore_ascii_case("chunked"))
    });
    Ok((status, if chunked { dechunk(&body) } else { body }))
}

/// The payload of a chunked body (sizes in hex, each chunk then CRLF).
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = body.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&body[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        out.extend_from_slice(&body[start..(start + size).min(body.len())]);
        body = &body[(start + size + 2).min(body.len())..];
    }
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: server-loadgen get ADDR PATH | run ADDR CLIENTS REQUESTS PATH...";
    let addr: SocketAddr = args.get(2).and_then(|a| a.parse().ok()).expect(usage);
    assert!(addr.ip().is_loopback(), "loopback only");
    match args.get(1).map(String::as_str) {
        Some("get") => {
            let (status, body) = get(addr, args.get(3).expect(usage)).expect("request");
            std::io::stdout().write_all(&body).expect("stdout");
            if status != 200 {
                eprintln!("status {status}");
                std::process::exit(1);
            }
        }
        Some("run") => run(addr, &args[3..]),
        _ => panic!("{usage}"),
    }
}

fn run(addr: SocketAddr, args: &[String]) {
    let clients: usize = args.first().and_then(|a| a.parse().ok()).expect("CLIENTS");
    let requests: usize = args.get(1).and_then(|a| a.parse().ok()).expect("REQUESTS");
    let paths: Vec<String> = args[2..].to_vec();
    assert!(!paths.is_empty(), "at least one PATH");
    let started = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|j| {
            let paths = paths.clone();
            std::thread::spawn(move || {
                // (path index, latency ms, body bytes); failures have no latency.
                let mut done: Vec<(usize, Option<f64>, usize)> = Vec::with_capacity(requests);
                for k in 0..requests {
                    let which = (j + k) % paths.len();
                    let t = Instant::now();
                    match get(addr, &paths[which]) {
                        Ok((200, body)) => done.push((which, Some(t.elapsed().as_secs_f64() * 1e3), body.len())),
                        Ok((status, body)) => {
                            eprintln!("{}: status {status}: {}", paths[which], String::from_utf8_lossy(&body));
                            done.push((which, None, 0));
                        }
                        Err(e) => {
                            eprintln!("{}: {e}", paths[which]);
                            done.push((which, None, 0));
                        }
                    }
                }
                done
            })
        })
        .collect();
    let done: Vec<(usize, Option<f64>, usize)> = handles.into_iter().flat_map(|h| h.join().expect("client thread")).collect();
    let wall = started.elapsed().as_secs_f64();
    let line = |label: &str, picked: &[&(usize, Option<f64>, usize)]| {
        let mut lat: Vec<f64> = picked.iter().filter_map(|d| d.1).collect();
        lat.sort_by(f64::total_cmp);
        let failed = picked.len() - lat.len();
        let bytes = picked.iter().map(|d| d.2).max().unwrap_or(0);
        println!(
            "{label}\trequests {}\tfailed {failed}\twall_s {wall:.2}\tmedian_ms {:.1}\tp95_ms {:.1}\tmax_ms {:.1}\tbytes {bytes}",
            lat.len(),
            percentile(&lat, 0.5),
            percentile(&lat, 0.95),
            lat.last().copied().unwrap_or(f64::NAN),
        );
    };
    for (i, path) in paths.iter().enumerate() {
        let picked: Vec<_> = done.iter().filter(|d| d.0 == i).collect();
        line(path, &picked);
    }
    if paths.len() > 1 {
        line("all", &done.iter().collect::<Vec<_>>());
    }
}
