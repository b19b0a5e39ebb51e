#!/usr/bin/env python3
"""Webhook receiver for bench/notify: checks each request's
X-Vitalcore-Signature (HMAC-SHA256 of the body under the secret), records
when it arrived against the body's `at` (when the server accepted the
report; same machine, same clock), and on SIGTERM prints the count and the
latency percentiles.

usage: receiver.py PORT_FILE SECRET OUT_FILE
"""
import hashlib, hmac, json, signal, sys, threading, time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file, secret, out_file = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
lock = threading.Lock()
latencies, refs, bad = [], set(), [0]


def parse(at):
    # 2026-12-07T21:00:00.123456789Z -> microseconds are enough here
    head, _, frac = at.rstrip("Z").partition(".")
    frac = (frac + "000000")[:6]
    return datetime.fromisoformat(f"{head}.{frac}+00:00").timestamp()


class Hook(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        now = time.time()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(want, self.headers.get("X-Vitalcore-Signature", ""))
        with lock:
            if not ok:
                bad[0] += 1
            else:
                doc = json.loads(body)
                if doc["reference"] in refs:
                    bad[0] += 1  # a second delivery of one alert
                refs.add(doc["reference"])
                latencies.append(now - parse(doc["at"]))
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
with open(port_file, "w") as f:
    f.write(str(server.server_address[1]))


def report(*_):
    with lock:
        xs = sorted(latencies)
        n = len(xs)
        q = lambda p: xs[min(n - 1, int(p * n))] if n else float("nan")
        line = (f"received {n} (distinct {len(refs)}, bad or repeated {bad[0]}); latency s: "
                f"p50 {q(0.50):.3f} p90 {q(0.90):.3f} p99 {q(0.99):.3f} max {xs[-1] if n else float('nan'):.3f}")
    with open(out_file, "w") as f:
        f.write(line + "\n")
    sys.exit(0)


signal.signal(signal.SIGTERM, report)
server.serve_forever()
