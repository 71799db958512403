#!/usr/bin/env python3
"""make bench: sandserve against its peers, on loopback, in interleaved rounds.

Every server serves the same fixture (1 KiB, 100 KiB and 256 MiB files, a directory of
1000 files). Each server's files are checked by sha256 before anything is timed. Each
workload runs once per server per round, rounds interleaved so drift on a shared machine
hits everyone alike; the table shows the median, its ratio to nginx, p50/p99 latency and
the server's peak RSS during the workload (the kernel's high-water mark, summed over its
processes). Results also go to a JSON file.

The HTTPS workload runs sandserve and nginx with one certificate made here by openssl, and
compares them with each other only.
"""

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORKLOADS = [
    # name, path, connections, unit
    ("1k_c1", "/1k.bin", 1, "req/s"),
    ("1k_c64", "/1k.bin", 64, "req/s"),
    ("100k_c64", "/100k.bin", 64, "req/s"),
    ("listing1000_c16", "/dir1000/", 16, "req/s"),
    ("256m_seq", "/256m.bin", 1, "MB/s"),
    ("256m_par8", "/256m.bin", 8, "MB/s"),
]

# HTTPS: run only against the servers started with the bench certificate (`tls_servers`),
# and compared with nginx-tls.
TLS_WORKLOADS = [
    ("1k_c64_tls", "/1k.bin", 64, "req/s"),
]
TLS_NAMES = {w[0] for w in TLS_WORKLOADS}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_fixture(base):
    # nginx's workers run as an unprivileged user: let them walk in.
    os.chmod(base, 0o755)
    root = os.path.join(base, "root")
    os.makedirs(os.path.join(root, "dir1000"))
    files = {"1k.bin": 1024, "100k.bin": 100 * 1024, "256m.bin": 256 << 20}
    for name, size in files.items():
        with open(os.path.join(root, name), "wb") as f:
            left = size
            while left:
                chunk = os.urandom(min(left, 1 << 20))
                f.write(chunk)
                left -= len(chunk)
    for i in range(1000):
        with open(os.path.join(root, "dir1000", f"file-{i:04}.txt"), "w") as f:
            f.write("x" * (i % 97))
    return root, list(files)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_url(url, context=None):
    h = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=60, context=context) as r:
        for chunk in iter(lambda: r.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def wait_ready(url, timeout=30, context=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as r:
                r.read()
                return True
        except Exception:
            time.sleep(0.02)
    return False


class Server:
    def __init__(self, name, argv, port, cwd=None, pidfile=None):
        self.name, self.argv, self.port, self.cwd, self.pidfile = name, argv, port, cwd, pidfile
        self.proc = None
        self.startup_ms = None
        # Set for HTTPS servers: a context trusting the bench certificate.
        self.context = None

    @property
    def tls(self):
        return self.context is not None

    @property
    def base(self):
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self):
        started = time.monotonic()
        self.proc = subprocess.Popen(self.argv, cwd=self.cwd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        if not wait_ready(self.base + "/1k.bin", context=self.context):
            self.stop()
            raise RuntimeError(f"{self.name} did not start")
        self.startup_ms = (time.monotonic() - started) * 1000

    def pids(self):
        """The server's process group (nginx forks its workers)."""
        out = []
        pgid = self.proc.pid
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.getpgid(int(entry)) == pgid:
                        out.append(int(entry))
                except OSError:
                    pass
        return out

    def rss_kib(self):
        return status_kib(self.pids(), "VmRSS")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except Exception:
                os.killpg(self.proc.pid, signal.SIGKILL)


def servers(root, base, binary, variants):
    out = []
    for name, argv in [("sandserve", [binary])] + variants:
        port = free_port()
        out.append(Server(name, argv + [root, "--port", str(port), "--bind", "127.0.0.1",
                                        "-q", "--no-compress"], port))
    wasm = os.path.join(ROOT, "target/wasm32-wasip2/release/sandserve.wasm")
    if shutil.which("wasmtime"):
        port = free_port()
        out.append(Server("wasmtime-serve", ["wasmtime", "serve", "-Scli", "--addr",
                                             f"127.0.0.1:{port}", "--dir", f"{root}::/",
                                             "--env", "SANDSERVE_NO_COMPRESS=1", wasm], port))
    if shutil.which("nginx"):
        port = free_port()
        out.append(nginx_server("nginx", base, root, port, "", "tcp_nopush on;"))
    if shutil.which("static-web-server"):
        port = free_port()
        out.append(Server("static-web-server", ["static-web-server", "--port", str(port),
                                                "--host", "127.0.0.1", "--root", root,
                                                "--directory-listing", "true",
                                                "--compression", "false",
                                                "--log-level", "error"], port))
    port = free_port()
    out.append(Server("python", [sys.executable, "-m", "http.server", str(port), "--bind",
                                 "127.0.0.1", "--directory", root], port))
    return out


def nginx_server(name, base, root, port, listen, http_extra, server_extra=""):
    """nginx on `port` serving `root` with listings, its config in a directory of its own."""
    conf_dir = os.path.join(base, name)
    os.makedirs(conf_dir, exist_ok=True)
    conf = os.path.join(conf_dir, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
daemon off;
worker_processes 2;
pid {conf_dir}/nginx.pid;
error_log {conf_dir}/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  sendfile on;
  {http_extra}
  include /etc/nginx/mime.types;
  client_body_temp_path {conf_dir}/body; proxy_temp_path {conf_dir}/proxy;
  fastcgi_temp_path {conf_dir}/fcgi; uwsgi_temp_path {conf_dir}/uwsgi; scgi_temp_path {conf_dir}/scgi;
  server {{ listen 127.0.0.1:{port}{listen}; root {root}; autoindex on; {server_extra} }}
}}
""")
    return Server(name, ["nginx", "-c", conf], port)


def tls_servers(root, base, binary):
    """sandserve and nginx serving HTTPS with one ECDSA P-256 certificate made here."""
    cert, key = os.path.join(base, "cert.pem"), os.path.join(base, "key.pem")
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"bench: no HTTPS workload, cannot make a certificate: {e}", file=sys.stderr)
        return []
    out = []
    port = free_port()
    out.append(Server("sandserve-tls", [binary, root, "--port", str(port), "--bind", "127.0.0.1",
                                        "-q", "--no-compress", "--tls-cert", cert,
                                        "--tls-key", key], port))
    if shutil.which("nginx"):
        port = free_port()
        tls = (f"ssl_certificate {cert}; ssl_certificate_key {key}; "
               "ssl_protocols TLSv1.2 TLSv1.3;")
        out.append(nginx_server("nginx-tls", base, root, port, " ssl", "", tls))
    context = ssl.create_default_context(cafile=cert)
    for server in out:
        server.context = context
    return out


def parse_wrk(text):
    def seconds(value, unit):
        return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    m = re.search(r"Transfer/sec:\s+([\d.]+)([KMG]?B)", text)
    scale = {"B": 1e-6, "KB": 1024 / 1e6, "MB": 1024 ** 2 / 1e6, "GB": 1024 ** 3 / 1e6}
    mbps = float(m.group(1)) * scale[m.group(2)]
    lat = {}
    for pct in ("50", "99"):
        m = re.search(rf"\s{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\b", text)
        lat[pct] = seconds(m.group(1), m.group(2)) * 1000 if m else None
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {"rps": rps, "mbps": mbps, "p50_ms": lat["50"], "p99_ms": lat["99"],
            "socket_errors": sum(map(int, errors.groups())) if errors else 0,
            "non_2xx": int(bad.group(1)) if bad else 0}


def reset_peak_rss(pids):
    """Restarts the kernel's RSS high-water mark (VmHWM); False where that is not allowed."""
    try:
        for pid in pids:
            with open(f"/proc/{pid}/clear_refs", "w") as f:
                f.write("5")
        return True
    except OSError:
        return False


def status_kib(pids, field):
    """Sum of one /proc/PID/status field (VmRSS now, VmHWM the high-water mark) over pids."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                m = re.search(field + r":\s+(\d+)", f.read())
                total += int(m.group(1)) if m else 0
        except OSError:
            pass
    return total


def run_wrk(server, path, connections, seconds):
    # The kernel's high-water mark catches peaks that sampling every 100 ms would miss;
    # sampling stays as the fallback where the mark cannot be reset.
    pids = server.pids()
    exact = reset_peak_rss(pids)
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], server.rss_kib())
            time.sleep(0.1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        threads = min(2, connections)
        out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
                              "--latency", server.base + path],
                             capture_output=True, text=True, check=True).stdout
    finally:
        stop.set()
        sampler.join()
    result = parse_wrk(out)
    result["peak_rss_kib"] = max(peak[0], status_kib(pids, "VmHWM") if exact else 0)
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/sandserve"))
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", default=None, help="comma-separated workload names")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=BINARY [FLAGS]",
                    help="another sandserve build or flag set, measured in the same rounds "
                         "(for A/B comparisons); repeatable")
    ap.add_argument("--servers", default=None,
                    help="comma-separated server names to run (default: all available)")
    ap.add_argument("--json", default=os.path.join(ROOT, "bench/results/latest.json"))
    args = ap.parse_args()
    workloads = [w for w in WORKLOADS + TLS_WORKLOADS
                 if not args.only or w[0] in args.only.split(",")]

    with tempfile.TemporaryDirectory(prefix="sandserve-bench") as base:
        root, files = make_fixture(base)
        want = {name: sha256_file(os.path.join(root, name)) for name in files}
        variants = []
        for spec in args.variant:
            name, _, command = spec.partition("=")
            variants.append((name, shlex.split(command)))
        pool = servers(root, base, args.binary, variants)
        if args.servers:
            keep = args.servers.split(",")
            pool = [s for s in pool if s.name in keep]
        if any(w[0] in TLS_NAMES for w in workloads):
            pool += tls_servers(root, base, args.binary)
        started = []
        try:
            for server in pool:
                try:
                    server.start()
                except RuntimeError as e:
                    print(f"bench: skipping {server.name}: {e}", file=sys.stderr)
                    continue
                for name, digest in want.items():
                    got = sha256_url(f"{server.base}/{name}", server.context)
                    if got != digest:
                        raise SystemExit(f"{server.name} served wrong bytes for {name}")
                started.append(server)
                print(f"bench: {server.name} ready in {server.startup_ms:.0f} ms, files verified",
                      file=sys.stderr)
            samples = {}
            for rnd in range(args.rounds):
                for name, path, conns, _ in workloads:
                    for server in started:
                        if server.tls != (name in TLS_NAMES):
                            continue
                        r = run_wrk(server, path, conns, args.seconds)
                        samples.setdefault((name, server.name), []).append(r)
                        print(f"bench: round {rnd + 1} {name} {server.name}: "
                              f"{r['rps']:.0f} req/s {r['mbps']:.0f} MB/s", file=sys.stderr)
        finally:
            for server in pool:
                server.stop()

    report = {"seconds": args.seconds, "rounds": args.rounds, "workloads": {}}
    for name, _, conns, unit in workloads:
        row = {}
        for server in started:
            runs = samples.get((name, server.name), [])
            if not runs:
                continue
            key = "mbps" if unit == "MB/s" else "rps"
            row[server.name] = {
                "median": statistics.median(r[key] for r in runs),
                "unit": unit,
                "p50_ms": statistics.median(r["p50_ms"] for r in runs if r["p50_ms"] is not None),
                "p99_ms": statistics.median(r["p99_ms"] for r in runs if r["p99_ms"] is not None),
                "peak_rss_mib": max(r["peak_rss_kib"] for r in runs) / 1024,
                "errors": sum(r["socket_errors"] + r["non_2xx"] for r in runs),
            }
        nginx = row.get("nginx-tls" if name in TLS_NAMES else "nginx", {}).get("median")
        for cell in row.values():
            cell["ratio_to_nginx"] = cell["median"] / nginx if nginx else None
        report["workloads"][name] = {"connections": conns, "servers": row}
    report["startup_ms"] = {s.name: s.startup_ms for s in started}
    report["peak_rss_mib"] = {
        s.name: max((r["peak_rss_kib"] for (_, who), runs in samples.items() if who == s.name
                     for r in runs), default=0) / 1024
        for s in started}

    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(report, f, indent=2)

    print(f"{'workload':<18} {'server':<18} {'median':>12} {'x nginx':>8} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'RSS MiB':>8}")
    for name, data in report["workloads"].items():
        for server, cell in data["servers"].items():
            ratio = f"{cell['ratio_to_nginx']:.2f}" if cell["ratio_to_nginx"] else "-"
            print(f"{name:<18} {server:<18} {cell['median']:>9.0f} {cell['unit']:<4}"
                  f"{ratio:>6} {cell['p50_ms']:>8.2f} {cell['p99_ms']:>8.2f} "
                  f"{cell['peak_rss_mib']:>8.1f}")
    print("start-up to first response (ms): " +
          ", ".join(f"{k} {v:.0f}" for k, v in report["startup_ms"].items()))
    print("peak RSS over the whole run (MiB): " +
          ", ".join(f"{k} {v:.1f}" for k, v in report["peak_rss_mib"].items()))
    print(f"results: {args.json}")


if __name__ == "__main__":
    main()
