#!/usr/bin/env python3
"""Peak memory of `vitalcore serve` under parallel logins.

Creates a fresh database with one account, starts `BINARY serve` on a free
loopback port, reads the login form (its CSRF token and form cookie), then
sends PARALLEL login POSTs at once, ROUNDS times, each with a wrong
password (every one costs an argon2id verification unless throttled), and
prints the server's resident set before and after and its peak (VmHWM of
/proc/PID/status) in MB.

    python3 bench/server/login_rss.py target/debug/vitalcore [PARALLEL=64] [ROUNDS=3] [--one-address]

Each request names an account of its own (`user-N`, unknown) and, by
default, comes from an address of its own (127.0.R.N: Linux routes all of
127/8 to loopback), so neither the per-account nor the per-address login
throttle stops any of them: every request costs an argon2id check, and the
peak measures how the server bounds them. With --one-address all come from
127.0.0.1 and the address throttle answers most with 429 before hashing.
"""

import http.client
import os
import re
import subprocess
import sys
import tempfile
import threading
import time


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def request(addr, method, path, headers=None, body=b"", source=None):
    host, port = addr.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=120, source_address=(source, 0) if source else None)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, resp.getheaders(), data.decode("utf-8", "replace")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    one_address = "--one-address" in sys.argv
    binary = args[0]
    parallel = int(args[1]) if len(args) > 1 else 64
    rounds = int(args[2]) if len(args) > 2 else 3
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "rss.db")
        env = dict(os.environ)
        env.pop("VITALCORE_DATABASE_URL", None)
        subprocess.run(
            [binary, "--db", db, "--quiet", "users", "add", "amina", "--role", "analyst", "--password-stdin"],
            input=b"correct horse battery staple\n",
            check=True,
            env=env,
        )
        server = subprocess.Popen(
            [binary, "--db", db, "--quiet", "serve", "--addr", "127.0.0.1:0"], stdout=subprocess.PIPE, env=env
        )
        try:
            line = server.stdout.readline().decode()
            addr = line.strip().removeprefix("listening on http://").rstrip("/")
            status, headers, page = request(addr, "GET", "/login")
            cookie = next(v.split(";")[0] for k, v in headers if k.lower() == "set-cookie")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
            time.sleep(0.5)
            before = status_kb(server.pid, "VmRSS")
            counts = {}
            lock = threading.Lock()

            def login(r, i):
                n = r * parallel + i
                body = f"csrf={csrf}&username=user-{n}&password=wrong+password+{n}".encode()
                hdrs = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
                source = None if one_address else f"127.0.{r + 1}.{i + 1}"
                st, _, _ = request(addr, "POST", "/login", hdrs, body, source)
                with lock:
                    counts[st] = counts.get(st, 0) + 1

            started = time.time()
            for r in range(rounds):
                threads = [threading.Thread(target=login, args=(r, i)) for i in range(parallel)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
            elapsed = time.time() - started
            time.sleep(0.5)
            after = status_kb(server.pid, "VmRSS")
            peak = status_kb(server.pid, "VmHWM")
            print(
                f"{parallel} parallel logins x {rounds} ({'one address' if one_address else 'one address each'}): answers {dict(sorted(counts.items()))} in {elapsed:.1f} s; "
                f"RSS before {before / 1024:.0f} MB, after {after / 1024:.0f} MB, peak (VmHWM) {peak / 1024:.0f} MB"
            )
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
