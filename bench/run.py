#!/usr/bin/env python3
"""make bench: sandserve against its peers, on loopback, in interleaved rounds.

Every server serves the same fixture (1 KiB, 100 KiB and 256 MiB files, a directory of
1000 files). Each server's files are checked by sha256 before anything is timed. Each
workload runs once per server per round, rounds interleaved so drift on a shared machine
hits everyone alike; the table shows the median, its ratio to nginx, p50/p99 latency and
the server's peak RSS during the workload (the kernel's high-water mark, summed over its
processes), its CPU per request and that CPU's ratio to the reference's, and its syscalls and
context switches per request. Results also go to a JSON file.

`wasmtime serve` runs the component with a fresh instance per request. On the 1 KiB rows it
also runs the trivial test guest (wasmtime-serve-trivial: "ok" to every path, its bytes not
checked), and a last line gives wasmtime-serve's CPU per request over that guest's
(`wasmtime_serve_cpu_over_trivial` in the JSON): what sandserve's own work adds to the cost
of an instance. Our own host runs the same guest too (sandserve-trivial on the 1 KiB rows,
sandserve-trivial-tls on the HTTPS 1 KiB rows): the floor that the host, hyper and the
wasi:http machinery put under any guest, whose "CPU x ref" is the least any component can
cost here, and sandserve's CPU over it is its own work (`cpu_over_trivial` in the JSON).

The HTTPS workloads run sandserve and nginx-tls with one certificate made here by openssl,
and compare them with each other only. nginx-tls listens with http2 and keepalive_requests
raised, so neither server closes a busy connection (nginx's default closes one every 1000
requests). The *_tls ones speak HTTP/1.1 through wrk; the *_h2_tls ones speak HTTP/2 through
h2load (Debian nghttp2-client; offering h2 only, so a server without it fails them rather
than being measured over HTTP/1.1), 1 KiB with 8 connections of 16 streams each and the
1000-entry listing with 4 of 4, and are skipped with a note when h2load is not installed.
Their latencies come from h2load's per-request log; their errors are its failed requests
(a status other than 2xx/3xx, or no response: its "errored" ones are among them).

The WebDAV workload (PROPFIND, Depth 1, no body, of the 1000-file directory) runs only
against sandserve --webdav, Apache mod_dav_fs (Debian apache2; its workers as nobody) and
`rclone serve webdav --read-only`, each when installed, and compares them with Apache.

With --lattice (the default when examples/wasmcloud/lattice.py's tools are installed) a
two-node wasmCloud lattice comes up in the temp dir, the component is pushed to it, and
`lattice.py serve` (nginx in front of the nodes) is measured with one node
(wasmcloud-1node) and with two (wasmcloud-2nodes), on LATTICE_WORKLOADS only: a node costs
~8 ms of its own CPU per request, too slow for the 256 MiB and HTTPS workloads.

"CPU us/req" is the CPU time (utime+stime from /proc/PID/stat) the server used during a
workload divided by the requests the load generator completed (for the MB/s workloads, by
the bodies' worth of bytes it read, so downloads still in flight at the end do not count
their CPU against too few requests): the server's process group,
or for the lattice servers the `wash host` node processes listed in lattice.json (the
balancer nginx not included), all nodes counted; their "RSS MiB" is the nodes' too. "CPU x
ref" is that over the reference peer's (the same one as "x ref"): the figure the targets
use. "sys/req" and "cs/req" are the syscalls (the raw_syscalls:sys_enter tracepoint) and
context switches of those same processes, all their threads, per request, counted by `perf
stat -p` enabled and disabled around the load; where perf is missing or refuses
(perf_event_paranoid, no tracepoint) one note says so and the columns show "-". The
counting costs the server a little CPU per syscall; --no-perf leaves it out. In the JSON they
are cpu_us_per_req, cpu_ratio_to_nginx (over `reference`, like ratio_to_nginx),
syscalls_per_req and context_switches_per_req, null where not measured.
"""

import argparse
import hashlib
import importlib.util
import json
import os
import re
import select
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
# and compared with nginx-tls. The ones in H2_STREAMS speak HTTP/2 through h2load, their
# connections each carrying that many concurrent streams; the others HTTP/1.1 through wrk.
TLS_WORKLOADS = [
    ("1k_c64_tls", "/1k.bin", 64, "req/s"),
    ("listing1000_c16_tls", "/dir1000/", 16, "req/s"),
    ("1k_h2_tls", "/1k.bin", 8, "req/s"),
    ("listing1000_h2_tls", "/dir1000/", 4, "req/s"),
]
TLS_NAMES = {w[0] for w in TLS_WORKLOADS}
H2_STREAMS = {"1k_h2_tls": 16, "listing1000_h2_tls": 4}

# WebDAV: a PROPFIND at Depth 1 of the listing's directory (an empty body: allprop), run only
# against the servers that speak WebDAV (`dav_servers`): sandserve --webdav, Apache
# mod_dav_fs and rclone serve webdav, and compared with Apache.
DAV_WORKLOADS = [
    ("propfind1000_c16", "/dir1000/", 16, "req/s"),
]
DAV_NAMES = {w[0] for w in DAV_WORKLOADS}
PROPFIND_LUA = 'wrk.method = "PROPFIND"\nwrk.headers["Depth"] = "1"\n'

# What the lattice servers run (see the docstring).
LATTICE_WORKLOADS = {"1k_c64", "listing1000_c16", "100k_c64"}
LATTICE_PY = os.path.join(ROOT, "examples/wasmcloud/lattice.py")

# The trivial test guest (tests/guests/faulty, "ok" to any path; `make guests` builds it)
# under `wasmtime serve`, on the 1 KiB rows only: a fresh instance per request costs what it
# costs this guest, plus sandserve's own work, and "over trivial" is that ratio.
TRIVIAL_GUEST = os.path.join(ROOT, "target/guests/wasm32-wasip2/release/faulty.wasm")
TRIVIAL_WORKLOADS = ("1k_c1", "1k_c64")
# Our own host running that guest (sandserve-trivial, and -tls on the HTTPS 1 KiB rows): the
# floor of host, hyper and wasi:http machinery under every request, before sandserve's work.
TRIVIAL_TLS_WORKLOADS = ("1k_c64_tls", "1k_h2_tls")
# Each server whose CPU per request is also given over a trivial guest's, and that guest.
TRIVIAL_OF = {"wasmtime-serve": "wasmtime-serve-trivial", "sandserve": "sandserve-trivial",
              "sandserve-tls": "sandserve-trivial-tls"}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def import_lattice():
    spec = importlib.util.spec_from_file_location("lattice", LATTICE_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    def __init__(self, name, argv, port, cwd=None, pidfile=None, env=None, workloads=None,
                 cpu_pids=None, serves_files=True):
        self.name, self.argv, self.port, self.cwd, self.pidfile = name, argv, port, cwd, pidfile
        # False for the trivial guest, which answers "ok" to every path: its files are not
        # verified, and it is a floor to compare with, not a file server.
        self.serves_files = serves_files
        self.env = env
        # The workload names this server runs (None: all) and, when its CPU is not its own
        # process group's, a function listing the pids that do the work.
        self.workloads, self.cpu_pids_of = workloads, cpu_pids
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
                                     stderr=subprocess.DEVNULL, start_new_session=True,
                                     env=self.env)
        timeout = 120 if self.workloads is not None else 30  # a lattice places first
        if not wait_ready(self.base + "/1k.bin", timeout, context=self.context):
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

    def runs(self, workload):
        return self.workloads is None or workload in self.workloads

    def cpu_pids(self):
        return self.cpu_pids_of() if self.cpu_pids_of else self.pids()

    def rss_kib(self):
        return status_kib(self.pids(), "VmRSS")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except Exception:
                os.killpg(self.proc.pid, signal.SIGKILL)


def trivial_on_host(name, binary, root, workloads, flags):
    """Our host running the trivial guest instead of sandserve, on `workloads` only."""
    port = free_port()
    return Server(name, [binary, "--component", TRIVIAL_GUEST, root, "--port", str(port),
                         "--bind", "127.0.0.1", "-q"] + flags, port,
                  workloads=set(workloads), serves_files=False)


def servers(root, base, binary, variants):
    out = []
    for name, argv in [("sandserve", [binary])] + variants:
        port = free_port()
        out.append(Server(name, argv + [root, "--port", str(port), "--bind", "127.0.0.1",
                                        "-q", "--no-compress"], port))
    if os.path.exists(TRIVIAL_GUEST):
        out.append(trivial_on_host("sandserve-trivial", binary, root, TRIVIAL_WORKLOADS, []))
    wasm = os.path.join(ROOT, "target/wasm32-wasip2/release/sandserve.wasm")
    if shutil.which("wasmtime"):
        port = free_port()
        out.append(Server("wasmtime-serve", ["wasmtime", "serve", "-Scli", "--addr",
                                             f"127.0.0.1:{port}", "--dir", f"{root}::/",
                                             "--env", "SANDSERVE_NO_COMPRESS=1", wasm], port))
        if os.path.exists(TRIVIAL_GUEST):
            port = free_port()
            out.append(Server("wasmtime-serve-trivial",
                              ["wasmtime", "serve", "-Scli", "--addr", f"127.0.0.1:{port}",
                               TRIVIAL_GUEST], port, workloads=set(TRIVIAL_WORKLOADS),
                              serves_files=False))
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


def dav_servers(root, base, binary):
    """The WebDAV servers for DAV_WORKLOADS: sandserve --webdav, Apache mod_dav_fs (its
    workers as nobody) and rclone serve webdav, each read-only where it can be."""
    dav = set(DAV_NAMES)
    port = free_port()
    out = [Server("sandserve-dav", [binary, root, "--port", str(port), "--bind", "127.0.0.1",
                                    "-q", "--no-compress", "--webdav"], port, workloads=dav)]
    modules = "/usr/lib/apache2/modules"
    if shutil.which("apache2") and os.path.exists(f"{modules}/mod_dav_fs.so"):
        conf_dir = os.path.join(base, "apache-dav")
        os.makedirs(conf_dir, exist_ok=True)
        os.chmod(conf_dir, 0o777)  # the lock database is opened by the workers
        port = free_port()
        conf = os.path.join(conf_dir, "httpd.conf")
        with open(conf, "w") as f:
            f.write(f"""
ServerRoot {conf_dir}
Listen 127.0.0.1:{port}
PidFile {conf_dir}/httpd.pid
ErrorLog {conf_dir}/error.log
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule mime_module {modules}/mod_mime.so
LoadModule dav_module {modules}/mod_dav.so
LoadModule dav_fs_module {modules}/mod_dav_fs.so
TypesConfig /etc/mime.types
User nobody
Group nogroup
ServerName localhost
DavLockDB {conf_dir}/DavLock
DocumentRoot {root}
<Directory {root}>
  Dav On
  Require all granted
</Directory>
""")
        out.append(Server("apache-dav", ["apache2", "-f", conf, "-DFOREGROUND"], port,
                          workloads=dav))
    if shutil.which("rclone"):
        port = free_port()
        out.append(Server("rclone-dav", ["rclone", "serve", "webdav", root, "--read-only",
                                         "--addr", f"127.0.0.1:{port}",
                                         "--config", os.path.join(base, "rclone.conf")],
                          port, workloads=dav))
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


class Lattice:
    """A two-node lattice (examples/wasmcloud/lattice.py) in the bench's temp dir, the
    component pushed to it; `servers()` are `lattice.py serve` on node1 and on both."""

    def __init__(self, base, wasm):
        self.lattice = import_lattice()
        self.state = os.path.join(base, "lattice")
        self.wasm = wasm
        self.up = False

    @staticmethod
    def available():
        try:
            lattice = import_lattice()
            return lattice.tool_paths(lattice.tools_dir())["wash"].is_file()
        except Exception:  # noqa: BLE001 - no lattice then
            return False

    def cli(self, *args):
        return subprocess.run([sys.executable, LATTICE_PY, *args], check=True,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              text=True).stdout

    def start(self):
        self.up = True  # `down` from here on, even for a half-started lattice
        self.cli("up", self.state, "--nodes", "2")
        self.image = self.cli("push", self.state, self.wasm, "bench").strip()
        print(f"bench: lattice up in {self.state}, component pushed as {self.image}",
              file=sys.stderr)

    def node_pids(self):
        info = self.lattice.load(self.state)
        return [n["pid"] for n in info["nodes"].values() if n.get("pid")]

    def servers(self, root):
        env = dict(os.environ, SANDSERVE_LATTICE=self.state, SANDSERVE_LATTICE_IMAGE=self.image)
        out = []
        for name, nodes in (("wasmcloud-1node", ["node1"]), ("wasmcloud-2nodes", [])):
            port = free_port()
            argv = [sys.executable, LATTICE_PY, "serve", root, str(port),
                    "--env", "SANDSERVE_NO_COMPRESS=1"]
            for n in nodes:
                argv += ["--node", n]
            out.append(Server(name, argv, port, env=env, workloads=LATTICE_WORKLOADS,
                              cpu_pids=self.node_pids))
        return out

    def stop(self):
        if self.up:
            subprocess.run([sys.executable, LATTICE_PY, "down", self.state],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            self.up = False


def tls_servers(root, base, binary, variants):
    """sandserve (and each --variant, as NAME-tls) and nginx serving HTTPS with one ECDSA
    P-256 certificate made here."""
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
    for name, argv in [("sandserve", [binary])] + variants:
        port = free_port()
        out.append(Server(f"{name}-tls", argv + [root, "--port", str(port), "--bind",
                                                 "127.0.0.1", "-q", "--no-compress",
                                                 "--tls-cert", cert, "--tls-key", key], port))
    if os.path.exists(TRIVIAL_GUEST):
        out.append(trivial_on_host("sandserve-trivial-tls", binary, root, TRIVIAL_TLS_WORKLOADS,
                                   ["--tls-cert", cert, "--tls-key", key]))
    if shutil.which("nginx"):
        port = free_port()
        tls = (f"ssl_certificate {cert}; ssl_certificate_key {key}; "
               "ssl_protocols TLSv1.2 TLSv1.3;")
        # Its default of 1000 requests a connection would cut h2load's connections.
        out.append(nginx_server("nginx-tls", base, root, port, " ssl http2",
                                "keepalive_requests 1000000;", tls))
    context = ssl.create_default_context(cafile=cert)
    for server in out:
        server.context = context
    return out


def seconds(value, unit):
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def mbps(value, unit):
    """A rate in wrk's and h2load's binary units (KB = 1024 B) as decimal MB."""
    return float(value) * {"B": 1e-6, "KB": 1024 / 1e6, "MB": 1024 ** 2 / 1e6,
                           "GB": 1024 ** 3 / 1e6}[unit]


def parse_wrk(text):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    m = re.search(r"Transfer/sec:\s+([\d.]+)([KMG]?B)", text)
    lat = {}
    for pct in ("50", "99"):
        m_lat = re.search(rf"\s{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\b", text)
        lat[pct] = seconds(m_lat.group(1), m_lat.group(2)) * 1000 if m_lat else None
    requests = re.search(r"(\d+) requests in", text)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {"rps": rps, "mbps": mbps(m.group(1), m.group(2)),
            "requests": int(requests.group(1)) if requests else 0,
            "p50_ms": lat["50"], "p99_ms": lat["99"],
            "socket_errors": sum(map(int, errors.groups())) if errors else 0,
            "non_2xx": int(bad.group(1)) if bad else 0}


def parse_h2load(text, log):
    """h2load's summary in parse_wrk's shape; p50/p99 from its per-request log (`log`: start,
    status, microseconds to the end of the response), as its summary has no percentiles.
    Its "failed" requests include its "errored" ones (no response): those are the socket
    errors, the rest (a status other than 2xx/3xx) the non-2xx."""
    m = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s, ([\d.]+)([KMG]?B)/s", text)
    counts = re.search(r"requests: \d+ total, \d+ started, (\d+) done, \d+ succeeded, "
                       r"(\d+) failed, (\d+) errored", text)
    done, failed, errored = map(int, counts.groups())
    times = []
    if os.path.exists(log):
        with open(log) as f:
            times = sorted(int(line.split("\t")[2]) for line in f if line.count("\t") >= 2)

    def percentile(pct):
        return times[min(len(times) - 1, len(times) * pct // 100)] / 1000 if times else None

    return {"rps": float(m.group(1)), "mbps": mbps(m.group(2), m.group(3)), "requests": done,
            "p50_ms": percentile(50), "p99_ms": percentile(99),
            "socket_errors": errored, "non_2xx": failed - errored}


class Perf:
    """`perf stat` counting a server's syscalls and context switches around a load, started
    with its counters off and switched on and off through its control pipe, so neither its
    attaching nor its exit is counted. `works()` tries it once on this process; where perf is
    missing or refuses, one note says so and the counts are None."""

    EVENTS = {"raw_syscalls:sys_enter": "syscalls", "context-switches": "context_switches"}

    def __init__(self, base):
        self.out = os.path.join(base, "perf.csv")
        self.noted = False

    def note(self, why):
        if not self.noted:
            print(f"bench: no syscalls or context switches per request: {why}", file=sys.stderr)
            self.noted = True

    def works(self):
        if not shutil.which("perf"):
            self.note("perf is not installed")
            return False
        if not self.start([os.getpid()]):
            return False
        for _ in range(10):
            os.getppid()
        counts = self.stop()
        if not counts or not counts["syscalls"]:
            self.note("perf counted no syscalls here")
            return False
        return True

    def start(self, pids):
        ctl_r, self.ctl = os.pipe()
        self.ack, ack_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                ["perf", "stat", "-e", ",".join(self.EVENTS), "-x,", "-o", self.out,
                 "--delay=-1", f"--control=fd:{ctl_r},{ack_w}",
                 "-p", ",".join(map(str, pids))],
                pass_fds=(ctl_r, ack_w), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        finally:
            os.close(ctl_r)
            os.close(ack_w)
        if self.command("enable"):
            return True
        self.stop()
        return False

    def command(self, what):
        """Sends `what` and waits for perf's ack: False when perf has gone (it refused)."""
        try:
            os.write(self.ctl, what.encode() + b"\n")
            ready, _, _ = select.select([self.ack], [], [], 10)
            return bool(ready) and os.read(self.ack, 64).startswith(b"ack")
        except OSError:
            return False

    def stop(self):
        """Stops the count; {"syscalls": N, "context_switches": N} or None."""
        self.command("disable")
        self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        os.close(self.ctl)
        os.close(self.ack)
        try:
            with open(self.out) as f:
                text = f.read()
            os.unlink(self.out)
        except OSError:
            text = ""
        # Its counts, or its complaint (in the -o file or on stderr, before its usage).
        counts, why = {}, []
        for line in (text + (err or "")).splitlines():
            fields = line.strip().split(",")
            if len(fields) > 2 and fields[2] in self.EVENTS:
                # "<not counted>": the processes never ran while it counted.
                counts[self.EVENTS[fields[2]]] = (
                    int(fields[0]) if fields[0].isdigit()
                    else 0 if fields[0] == "<not counted>" else None)
            elif line.strip().startswith("Usage:"):
                break
            elif line.strip() and not line.startswith("#"):
                why.append(line.strip())
        if len(counts) == len(self.EVENTS) and None not in counts.values():
            return counts
        self.note(" ".join(why[:2]) or f"perf stat exited {self.proc.returncode}")
        return None


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


def cpu_ticks(pids):
    """utime + stime of `pids` (clock ticks), from /proc/PID/stat; gone pids count 0."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)
        except (OSError, IndexError, ValueError):
            pass
    return total


def run_wrk(server, path, connections, seconds, perf, script=None, size=None):
    """`size`: the body's bytes, for a workload measured in MB/s (see `run_load`)."""
    threads = min(2, connections)
    return run_load(server, ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
                             "--latency", *(["-s", script] if script else []),
                             server.base + path], parse_wrk, perf,
                    (seconds, size) if size else None)


def run_h2load(server, path, connections, streams, seconds, perf, log):
    """HTTP/2 (offered alone, so a server without it fails rather than falls back) with
    `streams` concurrent streams on each connection, its per-request log to `log`."""
    if os.path.exists(log):
        os.unlink(log)
    argv = ["h2load", "--npn-list=h2", "-t", str(min(2, connections)), "-c", str(connections),
            "-m", str(streams), "-D", str(seconds), "--log-file", log, server.base + path]
    return run_load(server, argv, lambda out: parse_h2load(out, log), perf)


def run_load(server, argv, parse, perf, bodies=None):
    """Runs the load generator `argv` against `server`; parse(its output) plus the server's
    CPU, syscalls and context switches per request (perf: a Perf, or None) and peak RSS.

    bodies: (seconds, body size) for a workload of large bodies, whose "requests" are then
    the bytes moved divided by the body size: with a few 256 MiB downloads completing in a
    run, the ones still in flight at its end would otherwise add their CPU to too few
    requests (8 parallel downloads showed 30% more CPU per request where the CPU per byte,
    measured alone, had fallen)."""
    # The kernel's high-water mark catches peaks that sampling every 100 ms would miss;
    # sampling stays as the fallback where the mark cannot be reset.
    pids = server.cpu_pids()  # for a lattice server, its nodes
    exact = reset_peak_rss(pids)
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], status_kib(pids, "VmRSS"))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample)
    counting = perf is not None and perf.start(pids)
    cpu_before = cpu_ticks(pids)
    sampler.start()
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    finally:
        cpu_seconds = (cpu_ticks(pids) - cpu_before) / CLOCK_TICKS
        counts = perf.stop() if counting else None
        stop.set()
        sampler.join()
    result = parse(out)
    served = result["requests"]
    if bodies:
        seconds, size = bodies
        served = result["mbps"] * 1e6 * seconds / size

    def per_request(value):
        return value / served if served and value is not None else None

    result["cpu_us_per_req"] = per_request(cpu_seconds * 1e6)
    for key in Perf.EVENTS.values():
        result[f"{key}_per_req"] = per_request(counts[key] if counts else None)
    result["peak_rss_kib"] = max(peak[0], status_kib(pids, "VmHWM") if exact else 0)
    return result


def median_of(runs, field):
    """The median of `field` over the runs that have it; None where none has it."""
    values = [r[field] for r in runs if r[field] is not None]
    return statistics.median(values) if values else None


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
    ap.add_argument("--lattice", action=argparse.BooleanOptionalAction, default=None,
                    help="also measure wasmcloud-1node and wasmcloud-2nodes on a 2-node "
                         "lattice (default: on when lattice.py's tools are installed)")
    ap.add_argument("--perf", action=argparse.BooleanOptionalAction, default=True,
                    help="count the servers' syscalls and context switches with perf stat "
                         "(default: on; off where perf is missing or refuses)")
    ap.add_argument("--json", default=os.path.join(ROOT, "bench/results/latest.json"))
    args = ap.parse_args()
    workloads = [w for w in WORKLOADS + TLS_WORKLOADS + DAV_WORKLOADS
                 if not args.only or w[0] in args.only.split(",")]
    if any(w[0] in H2_STREAMS for w in workloads) and not shutil.which("h2load"):
        print("bench: no HTTP/2 workloads: h2load is not installed (Debian nghttp2-client, "
              "which `make bench-deps` installs)", file=sys.stderr)
        workloads = [w for w in workloads if w[0] not in H2_STREAMS]
    wanted = set(args.servers.split(",")) if args.servers else None
    use_lattice = Lattice.available() if args.lattice is None else args.lattice
    if use_lattice and (wanted and not wanted & {"wasmcloud-1node", "wasmcloud-2nodes"}
                        or not LATTICE_WORKLOADS & {w[0] for w in workloads}):
        use_lattice = False  # nothing for it to run

    with tempfile.TemporaryDirectory(prefix="sandserve-bench") as base:
        root, files = make_fixture(base)
        want = {name: sha256_file(os.path.join(root, name)) for name in files}
        perf = Perf(base) if args.perf else None
        if perf and not perf.works():
            perf = None
        variants = []
        for spec in args.variant:
            name, _, command = spec.partition("=")
            variants.append((name, shlex.split(command)))
        pool = servers(root, base, args.binary, variants)
        lattice = Lattice(base, os.path.join(ROOT, "target/wasm32-wasip2/release/sandserve.wasm"))
        started = []
        try:
            if use_lattice:
                try:
                    lattice.start()
                    pool += lattice.servers(root)
                except (subprocess.CalledProcessError, OSError) as e:
                    print(f"bench: no lattice servers: {e}", file=sys.stderr)
            if args.servers:
                keep = args.servers.split(",")
                pool = [s for s in pool if s.name in keep]
            if any(w[0] in TLS_NAMES for w in workloads):
                pool += tls_servers(root, base, args.binary, variants)
            if any(w[0] in DAV_NAMES for w in workloads):
                pool += dav_servers(root, base, args.binary)
            for server in pool:
                try:
                    server.start()
                except RuntimeError as e:
                    print(f"bench: skipping {server.name}: {e}", file=sys.stderr)
                    continue
                for name, digest in want.items() if server.serves_files else ():
                    if server.workloads is not None and name == "256m.bin":
                        continue  # not in its workloads, and slow through a lattice node
                    got = sha256_url(f"{server.base}/{name}", server.context)
                    if got != digest:
                        raise SystemExit(f"{server.name} served wrong bytes for {name}")
                started.append(server)
                print(f"bench: {server.name} ready in {server.startup_ms:.0f} ms, files verified",
                      file=sys.stderr)
            samples = {}
            for rnd in range(args.rounds):
                for name, path, conns, unit in workloads:
                    # A MB/s workload's CPU is per body moved (see run_load).
                    size = (os.path.getsize(os.path.join(root, path.lstrip("/")))
                            if unit == "MB/s" else None)
                    for server in started:
                        if server.tls != (name in TLS_NAMES) or not server.runs(name):
                            continue
                        if name in DAV_NAMES and server.workloads is None:
                            continue  # PROPFIND only to the servers that speak WebDAV
                        script = None
                        if name in DAV_NAMES:
                            script = os.path.join(base, "propfind.lua")
                            with open(script, "w") as f:
                                f.write(PROPFIND_LUA)
                        if name in H2_STREAMS:
                            r = run_h2load(server, path, conns, H2_STREAMS[name], args.seconds,
                                           perf, os.path.join(base, "h2load.log"))
                        else:
                            r = run_wrk(server, path, conns, args.seconds, perf, script, size)
                        samples.setdefault((name, server.name), []).append(r)
                        cpu, sys_req = r["cpu_us_per_req"], r["syscalls_per_req"]
                        print(f"bench: round {rnd + 1} {name} {server.name}: "
                              f"{r['rps']:.0f} req/s {r['mbps']:.0f} MB/s"
                              + (f" {cpu:.1f} CPU us/req" if cpu is not None else "")
                              + (f" {sys_req:.1f} syscalls/req" if sys_req is not None else "")
                              + (f" {r['socket_errors'] + r['non_2xx']} errors"
                                 if r['socket_errors'] + r['non_2xx'] else ""),
                              file=sys.stderr)
        finally:
            for server in pool:
                server.stop()
            lattice.stop()

    report = {"seconds": args.seconds, "rounds": args.rounds, "perf": perf is not None,
              "workloads": {}}
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
                "p50_ms": median_of(runs, "p50_ms"),
                "p99_ms": median_of(runs, "p99_ms"),
                "peak_rss_mib": max(r["peak_rss_kib"] for r in runs) / 1024,
                "errors": sum(r["socket_errors"] + r["non_2xx"] for r in runs),
                "cpu_us_per_req": median_of(runs, "cpu_us_per_req"),
                "syscalls_per_req": median_of(runs, "syscalls_per_req"),
                "context_switches_per_req": median_of(runs, "context_switches_per_req"),
            }
        # The reference peer: nginx, nginx-tls for HTTPS, Apache's mod_dav for WebDAV.
        peer = ("nginx-tls" if name in TLS_NAMES
                else "apache-dav" if name in DAV_NAMES else "nginx")
        reference = row.get(peer, {})
        for cell in row.values():
            for field, ratio in (("median", "ratio_to_nginx"),
                                 ("cpu_us_per_req", "cpu_ratio_to_nginx")):
                ours, theirs = cell[field], reference.get(field)
                cell[ratio] = ours / theirs if ours is not None and theirs else None
            cell["reference"] = peer
        report["workloads"][name] = {"connections": conns, "servers": row}
        if name in H2_STREAMS:
            report["workloads"][name]["streams_per_connection"] = H2_STREAMS[name]
    report["cpu_over_trivial"] = {}
    for server, trivial in TRIVIAL_OF.items():
        for name, data in report["workloads"].items():
            ours = data["servers"].get(server, {}).get("cpu_us_per_req")
            floor = data["servers"].get(trivial, {}).get("cpu_us_per_req")
            if ours and floor:
                report["cpu_over_trivial"].setdefault(server, {})[name] = ours / floor
    report["wasmtime_serve_cpu_over_trivial"] = report["cpu_over_trivial"].get("wasmtime-serve", {})
    report["startup_ms"] = {s.name: s.startup_ms for s in started}
    report["peak_rss_mib"] = {
        s.name: max((r["peak_rss_kib"] for (_, who), runs in samples.items() if who == s.name
                     for r in runs), default=0) / 1024
        for s in started}

    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(report, f, indent=2)

    def show(value, spec, width):
        return f"{'-' if value is None else format(value, spec):>{width}}"

    print("(x ref, CPU x ref: the median and the CPU us/req over nginx's; over nginx-tls's for "
          "HTTPS and apache-dav's for WebDAV. sys/req, cs/req: the server's syscalls and "
          "context switches per request, from perf)")
    print(f"{'workload':<20} {'server':<22} {'median':>12} {'x ref':>6} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'RSS MiB':>8} {'CPU us/req':>10} {'CPU x ref':>9} {'sys/req':>8} "
          f"{'cs/req':>7} {'errors':>6}")
    for name, data in report["workloads"].items():
        for server, cell in data["servers"].items():
            print(f"{name:<20} {server:<22} {cell['median']:>7.0f} {cell['unit']:<5}"
                  f"{show(cell['ratio_to_nginx'], '.2f', 6)} {show(cell['p50_ms'], '.2f', 8)} "
                  f"{show(cell['p99_ms'], '.2f', 8)} {cell['peak_rss_mib']:>8.1f} "
                  f"{show(cell['cpu_us_per_req'], '.1f', 10)} "
                  f"{show(cell['cpu_ratio_to_nginx'], '.2f', 9)} "
                  f"{show(cell['syscalls_per_req'], '.1f', 8)} "
                  f"{show(cell['context_switches_per_req'], '.2f', 7)} {cell['errors']:>6}")
    for server, over in report["cpu_over_trivial"].items():
        print(f"{server}, CPU us/req over {TRIVIAL_OF[server]}'s: " +
              ", ".join(f"{k} {v:.2f}x" for k, v in over.items()))
    print("start-up to first response (ms): " +
          ", ".join(f"{k} {v:.0f}" for k, v in report["startup_ms"].items()))
    print("peak RSS over the whole run (MiB): " +
          ", ".join(f"{k} {v:.1f}" for k, v in report["peak_rss_mib"].items()))
    print(f"results: {args.json}")


if __name__ == "__main__":
    main()
