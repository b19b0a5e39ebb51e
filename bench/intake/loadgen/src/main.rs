//! Open-loop load generator for `POST /api/v1/reports`, std only.
//!
//! `intake-loadgen submit ADDR TOKEN RATE SECONDS CONNECTIONS`: sends RATE
//! requests per second for SECONDS over CONNECTIONS keep-alive connections.
//! Request k is due at t0 + k / RATE; its latency is measured from that due
//! time (not from when it was actually sent), so a stalled server cannot
//! hide its queueing delay (no coordinated omission).
//! `intake-loadgen count ADDR TOKEN`: reports stored, by the API.
//! Loopback only: refuses any other address.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const WHO: &[&str] = &[
    "Armed men", "Des hommes armés", "Herders", "Soldiers", "Unknown people", "Des éléments d'un groupe armé", "Youths",
    "Bandits", "Police officers", "Les rebelles",
];
const DID: &[&str] = &[
    "looted the market", "ont brûlé des maisons", "stole cattle near the river", "set up a checkpoint and took money",
    "abducted a teacher", "ont attaqué le centre de santé", "occupied the school", "threatened the women at the well",
    "ont pillé les greniers", "shot at a motorbike",
];
const WHERE: &[&str] = &[
    "in Bouca", "à Kabo", "near Batangafo", "on the road to Bossangoa", "au quartier Boy-Rabe", "in Kaga-Bandoro",
    "near the mine at Ndassima", "à Bambari", "in Obo", "près de Zémio", "in Paoua", "à Bozoum",
];
const AREAS: &[&str] = &["CF11", "CF22", "CF31", "CF32", "CF42", "CF43", "CF52", "CF62", "CF71"];
const URGENCY: &[&str] = &["low", "medium", "high", "critical"];

/// SplitMix64: a varied but reproducible choice of phrases per request.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn body(k: u64) -> String {
    let r = mix(k);
    let pick = |list: &[&'static str], shift: u32| list[((r >> shift) % list.len() as u64) as usize];
    format!(
        r#"{{"text":"{} {} {}, {} people affected","area_pcode":"{}","urgency":"{}","source_id":"load-{k}"}}"#,
        pick(WHO, 0),
        pick(DID, 8),
        pick(WHERE, 16),
        (r >> 24) % 500,
        pick(AREAS, 36),
        pick(URGENCY, 44)
    )
}

struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Conn { reader: BufReader::new(s) })
    }

    /// One request; returns the status.
    fn request(&mut self, addr: SocketAddr, method: &str, path: &str, token: &str, body: &str) -> std::io::Result<(u16, String)> {
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.reader.get_mut().write_all(req.as_bytes())?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut length = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut buf = vec![0; length];
        self.reader.read_exact(&mut buf)?;
        Ok((status, String::from_utf8_lossy(&buf).into_owned()))
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn count(addr: SocketAddr, token: &str) -> u64 {
    let mut c = Conn::open(addr).expect("connect");
    let (status, body) = c.request(addr, "GET", "/api/v1/reports?limit=0", token, "").expect("count request");
    assert_eq!(status, 200, "{body}");
    let at = body.find("\"total\":").expect("total in answer") + 8;
    body[at..].split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: intake-loadgen submit ADDR TOKEN RATE SECONDS CONNECTIONS | count ADDR TOKEN";
    let addr: SocketAddr = args.get(2).and_then(|a| a.parse().ok()).expect(usage);
    assert!(addr.ip().is_loopback(), "loopback only");
    let token = args.get(3).expect(usage).clone();
    if args[1] == "count" {
        println!("{}", count(addr, &token));
        return;
    }
    let rate: f64 = args.get(4).and_then(|a| a.parse().ok()).expect(usage);
    let seconds: f64 = args.get(5).and_then(|a| a.parse().ok()).expect(usage);
    let conns: u64 = args.get(6).and_then(|a| a.parse().ok()).expect(usage);
    let total = (rate * seconds).round() as u64;
    let t0 = Instant::now() + Duration::from_millis(200);
    let handles: Vec<_> = (0..conns)
        .map(|j| {
            let token = token.clone();
            std::thread::spawn(move || {
                let mut conn = Conn::open(addr).expect("connect");
                let mut lat = Vec::new();
                let (mut ok, mut failed) = (0u64, 0u64);
                let mut k = j;
                while k < total {
                    let due = t0 + Duration::from_secs_f64(k as f64 / rate);
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    match conn.request(addr, "POST", "/api/v1/reports", &token, &body(k)) {
                        Ok((201, _)) => ok += 1,
                        Ok((s, b)) => {
                            failed += 1;
                            if failed < 3 {
                                eprintln!("status {s}: {b}");
                            }
                        }
                        Err(e) => {
                            failed += 1;
                            eprintln!("request failed: {e}");
                            conn = Conn::open(addr).expect("reconnect");
                        }
                    }
                    lat.push((due.elapsed().as_secs_f64() * 1e3, k as f64 / rate));
                    k += conns;
                }
                (lat, ok, failed)
            })
        })
        .collect();
    let mut lat = Vec::new();
    let (mut ok, mut failed) = (0, 0);
    for h in handles {
        let (l, o, f) = h.join().unwrap();
        lat.extend(l);
        ok += o;
        failed += f;
    }
    let elapsed = t0.elapsed().as_secs_f64();
    // When the slowest requests were due: spikes at regular intervals point at the server, not at chance.
    let mut slow = lat.clone();
    slow.sort_by(|a, b| b.0.total_cmp(&a.0));
    let when: Vec<String> = slow.iter().take(400).step_by(40).map(|(l, t)| format!("{l:.0}ms@{t:.1}s")).collect();
    eprintln!("slowest (latency@due time): {}", when.join(" "));
    let mut lat: Vec<f64> = lat.into_iter().map(|(l, _)| l).collect();
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "sent {} in {:.2} s = {:.0}/s; 201: {ok}, failed: {failed}; latency ms (from due time) p50 {:.2} p90 {:.2} p99 {:.2} max {:.2}",
        lat.len(),
        elapsed,
        lat.len() as f64 / elapsed,
        percentile(&lat, 0.5),
        percentile(&lat, 0.9),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN)
    );
}
