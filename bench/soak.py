#!/usr/bin/env python3
"""Soak test: sustained mixed load plus many idle connections against the real host.

Passes when wrk reports no socket errors and no non-2xx/3xx responses, a normal request
answers in under 100 ms while the idle connections are held, and afterwards the server's
open file descriptors are back to their baseline, its RSS is within 10% of its value
after warm-up, and its peak RSS over the whole run stayed within --max-peak-rss-mib. Traffic goes to 127.0.0.1 only; every loop is bounded in time.
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LUA = r"""
local paths = {
  {"/small.txt", nil},
  {"/many/", nil},
  {"/big.bin", "bytes=0-65535"},
  {"/big.bin", "bytes=1000000-1999999"},
  {"/medium.bin", nil},
  {"/missing-is-not-in-the-mix/../small.txt", nil},
}
local i = 0
request = function()
  i = i + 1
  local p = paths[(i % #paths) + 1]
  local headers = {}
  if p[2] then headers["Range"] = p[2] end
  return wrk.format("GET", p[1], headers)
end
"""


def fixture(base):
    root = os.path.join(base, "root")
    os.makedirs(os.path.join(root, "many"))
    with open(os.path.join(root, "small.txt"), "wb") as f:
        f.write(b"s" * 1024)
    with open(os.path.join(root, "medium.bin"), "wb") as f:
        f.write(os.urandom(100 * 1024))
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(os.urandom(8 * 1024 * 1024))
    for n in range(200):
        with open(os.path.join(root, "many", f"f{n:03}.txt"), "w") as f:
            f.write("x")
    return root


def proc_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def proc_rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(field + r":\s+(\d+)", f.read()).group(1))


def timed_get(url):
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=5) as r:
        r.read()
        status = r.status
    return status, (time.monotonic() - started) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/sandserve"))
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--connections", type=int, default=256)
    ap.add_argument("--idle", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=15)
    ap.add_argument("--json", default=None)
    ap.add_argument("--max-peak-rss-mib", type=float, default=64,
                    help="fail if the server's peak RSS over the whole soak exceeds this")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="sandserve-soak") as base:
        root = fixture(base)
        lua = os.path.join(base, "mix.lua")
        with open(lua, "w") as f:
            f.write(LUA)
        server = subprocess.Popen(
            [args.binary, root, "--port", "0", "--bind", "127.0.0.1", "-q"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            banner = server.stdout.readline()
            port = int(re.search(r" port (\d+) ", banner).group(1))
            url = f"http://127.0.0.1:{port}"
            # Warm-up: the same shape of load for a few seconds fills the instance pool, the
            # connection buffers and the allocator's arenas; the baselines are taken after it,
            # so what the soak measures is growth over time, i.e. leaks.
            idle = [socket.create_connection(("127.0.0.1", port), timeout=5)
                    for _ in range(args.idle)]
            subprocess.run(["wrk", "-t2", "-c", str(args.connections), "-d", f"{args.warmup}s",
                            "-s", lua, url], check=True, capture_output=True)
            for s in idle:
                s.close()
            time.sleep(1.0)
            fds_before = proc_fds(server.pid)
            rss_warm = proc_rss_kib(server.pid)

            idle = [socket.create_connection(("127.0.0.1", port), timeout=5)
                    for _ in range(args.idle)]
            status, ms = timed_get(url + "/small.txt")
            latency_with_idle = ms

            wrk = subprocess.run(
                ["wrk", "-t2", "-c", str(args.connections), "-d", f"{args.seconds}s",
                 "--latency", "-s", lua, url],
                check=True, capture_output=True, text=True).stdout
            for s in idle:
                s.close()
            time.sleep(1.0)
            fds_after = proc_fds(server.pid)
            rss_after = proc_rss_kib(server.pid)
            # The kernel's high-water mark: the peak over the whole run, warm-up included.
            rss_peak = proc_rss_kib(server.pid, "VmHWM")

            requests = int(re.search(r"(\d+) requests in", wrk).group(1))
            m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", wrk)
            socket_errors = sum(int(x) for x in m.groups()) if m else 0
            error_kinds = dict(zip(("connect", "read", "write", "timeout"),
                                   map(int, m.groups()))) if m else {}
            m = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk)
            bad = int(m.group(1)) if m else 0
            result = {
                "seconds": args.seconds, "connections": args.connections, "idle": args.idle,
                "requests": requests, "socket_errors": socket_errors,
                "socket_error_kinds": error_kinds, "non_2xx_3xx": bad,
                "latency_ms_with_idle": round(latency_with_idle, 2),
                "fds_before": fds_before, "fds_after": fds_after,
                "rss_kib_warm": rss_warm, "rss_kib_after": rss_after, "rss_kib_peak": rss_peak,
            }
            print(json.dumps(result, indent=2))
            if args.json:
                with open(args.json, "w") as f:
                    json.dump(result, f, indent=2)
            failures = []
            if status != 200 or latency_with_idle >= 100:
                failures.append(f"request with idle connections: {status} in {latency_with_idle:.1f} ms")
            if socket_errors:
                failures.append(f"{socket_errors} socket errors")
            if bad:
                failures.append(f"{bad} non-2xx/3xx responses")
            if fds_after > fds_before:
                failures.append(f"fds {fds_before} -> {fds_after}")
            if rss_after > rss_warm * 1.10:
                failures.append(f"RSS {rss_warm} -> {rss_after} KiB")
            if rss_peak > args.max_peak_rss_mib * 1024:
                failures.append(f"peak RSS {rss_peak} KiB over {args.max_peak_rss_mib} MiB")
            if server.poll() is not None:
                failures.append("server exited")
            for f in failures:
                print("soak: FAIL:", f, file=sys.stderr)
            print(f"soak: {'1 passed, 0 failed' if not failures else '0 passed, 1 failed'}")
            return 1 if failures else 0
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
