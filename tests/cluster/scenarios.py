#!/usr/bin/env python3
"""The cluster scenarios of `make test-cluster`, run against a lattice that is already up.

    scenarios.py --state DIR --image REF [--wasm PATH] [--only nodes,node-loss,...]

DIR is a `examples/wasmcloud/lattice.py up` state dir with (at least) node1 and node2, REF
the pushed component. Each check prints one `PASS name: ...` or `FAIL name: ...` line with
its figures; the last line is `cluster: N passed, N failed` and the exit status is non-zero
on any failure. Every workload, nginx and temp tree a check starts is removed again, also
when it fails or this process is interrupted (TERM/INT).

  nodes           `lattice.py serve` of a fresh tree with a per-node header: 20 GETs through
                  the balancer, all 200 and byte-identical, both nodes named.
  node-loss       10 s of wrk through the balancer; node2's `wash host` is SIGKILLed ~3 s in.
                  0 non-2xx/3xx and 0 socket errors, every file byte-identical afterwards;
                  then the node is restarted, the workload placed on it again, and both
                  nodes answer.
  rolling-update  push WASM as tag v2; under 10 s of wrk, on each node in turn start the v2
                  workload beside v1 (same host name), then stop v1. 0 failed requests, and
                  afterwards every response comes from v2 (X-Sandserve-Release), on both nodes.
  sandbox         SANDSERVE_UPLOAD=1 on a read-only mount: PUT (new and existing), POST form,
                  MKCOL and DELETE are refused on each node, the tree is byte-identical; a
                  control workload on a writable copy accepts the same PUT.
  auth            SANDSERVE_AUTH through the balancer: 401 + WWW-Authenticate without
                  credentials, 200 with, 401 with a wrong password.

Python 3.11, stdlib; wrk from PATH; nginx and the lattice from lattice.py.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LATTICE_PY = REPO / "examples/wasmcloud/lattice.py"
NODE_HEADER = "X-Sandserve-Node"
RELEASE_HEADER = "X-Sandserve-Release"
WRK_SECONDS = 10
WRK_CONNECTIONS = 8
ROLL_TAIL = 1.5  # seconds of load after the rolling update's last step
CHECKS = ["oci", "nodes", "node-loss", "rolling-update", "sandbox", "auth"]


def import_lattice():
    spec = importlib.util.spec_from_file_location("lattice", LATTICE_PY)
    module = importlib.util.module_from_spec(spec)
    sys.modules["lattice"] = module
    spec.loader.exec_module(module)
    return module


lattice = import_lattice()


class Failure(Exception):
    """A check's own failure (as opposed to a bug here)."""


T0 = time.monotonic()


def say(message: str) -> None:
    print(f"  [{time.monotonic() - T0:7.2f}s] {message}", flush=True)


# --- clean-up --------------------------------------------------------------------------------

class Cleanup:
    """LIFO clean-up actions; each runs once, and a failing one does not stop the rest."""

    def __init__(self):
        self.actions: list[tuple[str, callable]] = []

    def add(self, what: str, action) -> None:
        self.actions.append((what, action))

    def run(self) -> list[str]:
        errors = []
        while self.actions:
            what, action = self.actions.pop()
            try:
                action()
            except BaseException as e:  # noqa: BLE001 - keep cleaning
                errors.append(f"{what}: {type(e).__name__} {e}")
        return errors


def on_signal(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


# --- the lattice CLI -------------------------------------------------------------------------

class Lattice:
    def __init__(self, state: str):
        self.state = str(Path(state).resolve())
        self.reload()

    def reload(self) -> dict:
        self.info = lattice.load(self.state)
        return self.info

    def cli(self, *args: str, timeout: float = 180) -> str:
        run = subprocess.run([sys.executable, str(LATTICE_PY), *args], capture_output=True,
                             text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if run.returncode != 0:
            raise Failure(f"lattice.py {args[0]} failed ({run.returncode}): "
                          f"{(run.stderr or run.stdout).strip()}")
        return run.stdout

    def port(self, node: str) -> int:
        return self.reload()["nodes"][node]["port"]

    def live_nodes(self) -> list[str]:
        info = self.reload()
        return [n for n, v in info["nodes"].items()
                if v.get("host_id") and lattice.alive(v.get("pid"), info["tools"]["wash"])]

    def place(self, cleanup: Cleanup, name: str, image: str, root: str, nodes: list[str],
              env: dict[str, str] | None = None, writable: bool = False,
              node_header: str | None = NODE_HEADER) -> dict[str, str]:
        args = ["place", self.state, "--name", name, "--image", image, "--dir", root]
        args += ["--writable"] if writable else []
        for k, v in (env or {}).items():
            args += ["--env", f"{k}={v}"]
        for n in nodes:
            args += ["--node", n]
        if node_header:
            args += ["--node-header", node_header]
        placed = dict(line.split() for line in self.cli(*args).splitlines() if line.strip())
        for node, wid in placed.items():
            cleanup.add(f"unplace {node} {wid}", lambda w=wid: self.unplace([w], quiet=True))
        return placed

    def unplace(self, ids: list[str], quiet: bool = False) -> None:
        try:
            self.cli("unplace", self.state, *ids)
        except Failure:
            if not quiet:
                raise


# --- HTTP ------------------------------------------------------------------------------------

class Response:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes):
        self.status, self.body = status, body
        self.headers = {}
        for k, v in headers:
            self.headers.setdefault(k.lower(), v)
        self.names = {k.lower() for k, _ in headers}

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def bare_404(self) -> bool:
        """The node's own answer for a Host no workload claims (see lattice.routed)."""
        return self.status == 404 and not self.body and self.names <= {"content-length", "date"}


def call(port: int, path: str, method: str = "GET", headers: dict | None = None,
         body: bytes | None = None, timeout: float = 30) -> Response:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Response(resp.status, resp.getheaders(), resp.read())
    finally:
        conn.close()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- trees -----------------------------------------------------------------------------------

def make_tree(base: str) -> Path:
    """A fresh tree: text, a nested file, a 1 MiB random file and a small binary one."""
    root = Path(tempfile.mkdtemp(prefix="tree-", dir=base))
    (root / "sub").mkdir()
    (root / "hello.txt").write_text("hello from the lattice\n")
    (root / "sub" / "nested.txt").write_text("nested " * 100 + "\n")
    (root / "blob.bin").write_bytes(os.urandom(1 << 20))
    (root / "small.bin").write_bytes(os.urandom(4096))
    return root


def tree_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def tree_digest(root: Path) -> tuple[list[str], dict[str, str]]:
    """Every name under `root` (files, directories, dot-files) and every file's sha256."""
    names = sorted(str(p.relative_to(root)) + ("/" if p.is_dir() else "")
                   for p in root.rglob("*"))
    return names, {f: sha256((root / f).read_bytes()) for f in tree_files(root)}


# --- nginx in front of the nodes -------------------------------------------------------------

class Balancer:
    """lattice.py's balancer config (lattice.nginx_conf), run here so a check can keep its
    own workload ids; its stderr goes to PREFIX/nginx.log."""

    def __init__(self, lat: Lattice, cleanup: Cleanup, name: str, nodes: list[str], base: str):
        self.lat, self.name = lat, name
        self.port = lattice.free_port()
        self.prefix = Path(tempfile.mkdtemp(prefix="nginx-", dir=base))
        for d in ("temp", "logs"):
            (self.prefix / d).mkdir()
        conf = self.prefix / "nginx.conf"
        conf.write_text(lattice.nginx_conf(self.prefix, self.port, name,
                                           [lat.port(n) for n in nodes]))
        self.log = open(self.prefix / "nginx.log", "wb")
        self.proc = subprocess.Popen(
            [lattice.APT_PACKAGES["nginx-light"], "-p", str(self.prefix), "-c", str(conf),
             "-e", "stderr"], stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            start_new_session=True)
        cleanup.add(f"nginx {self.port}", self.stop)
        lattice.wait_port(self.port, 20, self.proc.pid, "nginx")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def errors(self) -> list[str]:
        text = (self.prefix / "nginx.log").read_text(errors="replace")
        return [line for line in text.splitlines() if "[error]" in line or "[warn]" in line]

    def get(self, path: str, **kw) -> Response:
        return call(self.port, path, **kw)


def serve(lat: Lattice, cleanup: Cleanup, image: str, root: Path, env: dict[str, str],
          node_header: str | None = NODE_HEADER, extra: list[str] | None = None) -> int:
    """`lattice.py serve ROOT PORT` (the test-harness entry) in its own process group; returns
    PORT once it is open. The clean-up TERMs the group and waits for serve's own clean-up."""
    port = lattice.free_port()
    argv = [sys.executable, str(LATTICE_PY), "serve", str(root), str(port)]
    for k, v in env.items():
        argv += ["--env", f"{k}={v}"]
    if node_header:
        argv += ["--node-header", node_header]
    argv += extra or []
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True,
                            env=dict(os.environ, SANDSERVE_LATTICE=lat.state,
                                     SANDSERVE_LATTICE_IMAGE=image))

    def stop():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    cleanup.add(f"serve {port}", stop)
    lattice.wait_port(port, 120, proc.pid, "lattice.py serve")
    return port


# --- wrk -------------------------------------------------------------------------------------

class Wrk:
    """`wrk -t2 -c8 -dNs --latency URL` in the background. With `seconds=None` the run is
    open-ended and `stop()` ends it (wrk prints its summary on SIGINT), so a load can be made
    to outlast whatever runs under it."""

    def __init__(self, cleanup: Cleanup, url: str, seconds: int | None = WRK_SECONDS,
                 connections: int = WRK_CONNECTIONS):
        self.argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds or 600}s", "--latency", url]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, stdin=subprocess.DEVNULL)
        cleanup.add("wrk", lambda: self.proc.poll() is None and self.proc.kill())

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)

    def result(self) -> dict:
        out, _ = self.proc.communicate(timeout=660)
        m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
        if self.proc.returncode != 0 or not m:
            raise Failure(f"wrk failed ({self.proc.returncode}): {out.strip()}")
        sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                         out)
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
        socket_errors = dict(zip(("connect", "read", "write", "timeout"),
                                 map(int, sock.groups()))) if sock else {}
        return {"requests": int(m.group(1)), "non_2xx": int(bad.group(1)) if bad else 0,
                "socket_errors": socket_errors, "socket_total": sum(socket_errors.values()),
                "rps": float(rps.group(1)) if rps else 0.0, "output": out,
                "duration": m.group(2) + m.group(3)}


def print_wrk(result: dict) -> None:
    print("  wrk output (verbatim):")
    for line in result["output"].rstrip().splitlines():
        print(f"    | {line}")


def wrk_figures(r: dict) -> str:
    sock = ", ".join(f"{k} {v}" for k, v in r["socket_errors"].items()) or "none"
    return (f"{r['requests']} requests ({r['rps']:.0f} req/s), {r['non_2xx']} non-2xx/3xx, "
            f"socket errors: {sock}")


# --- the checks ------------------------------------------------------------------------------

class Context:
    def __init__(self, args):
        self.lat = Lattice(args.state)
        self.image = args.image
        self.wasm = args.wasm
        self.base = args.workdir


def nodes_of(responses: list[Response]) -> dict[str, int]:
    seen: dict[str, int] = {}
    for r in responses:
        n = r.header(NODE_HEADER) or "(none)"
        seen[n] = seen.get(n, 0) + 1
    return seen


def need_nodes(ctx: Context, count: int = 2) -> list[str]:
    nodes = ctx.lat.live_nodes()
    if len(nodes) < count:
        raise Failure(f"needs {count} live nodes, the lattice has {nodes}")
    return nodes[:count]


def verdict(figures: str, problems: list[str]) -> str:
    """A check's PASS figures, or its Failure naming the problems beside them."""
    if problems:
        raise Failure(figures + " -- " + "; ".join(problems))
    return figures


def check_oci(ctx: Context, cleanup: Cleanup) -> str:
    """The image `make oci` pushed names its version, source, revision and WASI version."""
    got = lattice.manifest_annotations(ctx.image)
    cargo = (REPO / "Cargo.toml").read_text()
    version = re.search(r'^version = "(.*)"', cargo, re.M).group(1)
    revision = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], text=True,
                              capture_output=True).stdout.strip()
    want = {"org.opencontainers.image.version": version,
            "org.opencontainers.image.revision": revision}
    figures = ", ".join(f"{k.rsplit('.', 1)[1]}={v!r}" for k, v in sorted(got.items()))
    wrong = [k for k, v in want.items() if got.get(k) != v]
    if not got.get("org.opencontainers.image.source"):
        wrong.append("source")
    # tests/imports.rs pins every import of the component at WASI 0.2.4.
    if "imports WASI 0.2.4" not in got.get("org.opencontainers.image.description", ""):
        wrong.append("description without 'imports WASI 0.2.4'")
    if wrong:
        raise Failure(f"{ctx.image}: wrong or missing {', '.join(wrong)}; got {figures}")
    return f"{ctx.image} annotated: {figures}"


def check_nodes(ctx: Context, cleanup: Cleanup) -> str:
    nodes = need_nodes(ctx)
    root = make_tree(ctx.base)
    files = tree_files(root)
    want = {f: sha256((root / f).read_bytes()) for f in files}
    t = time.monotonic()
    port = serve(ctx.lat, cleanup, ctx.image, root, {})
    say(f"lattice.py serve answered on 127.0.0.1:{port} after {time.monotonic() - t:.2f} s")
    responses, bad = [], []
    for i in range(20):
        f = files[i % len(files)]
        r = call(port, "/" + f)
        responses.append(r)
        if r.status != 200 or sha256(r.body) != want[f]:
            bad.append(f"GET /{f}: {r.status}, {len(r.body)} bytes"
                       f"{'' if r.status != 200 else ', sha256 differs'}")
    seen = nodes_of(responses)
    figures = (f"20 GETs of {len(files)} files (incl. 1 MiB random) through nginx: "
               f"{20 - len(bad)} 200 and byte-identical; {NODE_HEADER}: "
               + ", ".join(f"{k} x{v}" for k, v in sorted(seen.items())))
    if bad:
        raise Failure(figures + "; " + "; ".join(bad[:5]))
    missing = sorted(set(nodes) - set(seen))
    if missing:
        raise Failure(figures + f"; never named: {', '.join(missing)}")
    return figures


def check_node_loss(ctx: Context, cleanup: Cleanup) -> str:
    nodes = need_nodes(ctx)
    victim = nodes[-1]
    root = make_tree(ctx.base)
    name = f"ss-nodeloss-{uuid.uuid4().hex[:8]}"
    placed = ctx.lat.place(cleanup, name, ctx.image, str(root), nodes)
    say(f"placed {name} on {', '.join(f'{n} {w[:8]}' for n, w in placed.items())}")
    lb = Balancer(ctx.lat, cleanup, name, nodes, ctx.base)
    say(f"nginx on 127.0.0.1:{lb.port}; wrk -t2 -c8 -d{WRK_SECONDS}s --latency /small.bin")
    wrk = Wrk(cleanup, f"http://127.0.0.1:{lb.port}/small.bin")
    time.sleep(3)
    ctx.lat.cli("kill-node", ctx.lat.state, victim)
    say(f"SIGKILLed {victim}'s wash host at {wrk.elapsed():.2f} s into the wrk run")
    r = wrk.result()
    say("wrk done: " + wrk_figures(r))
    print_wrk(r)
    problems = []
    # nginx sends a request the dead node never answered to the other node, so no GET may fail
    # with a status. A response the node was in the middle of sending cannot be retried by
    # any balancer: its connection is cut (a wrk read error), at most one per connection,
    # and only read errors.
    cut = r["socket_errors"].get("read", 0)
    others = r["socket_total"] - cut
    if r["non_2xx"] or others or cut > WRK_CONNECTIONS:
        problems.append(f"wrk: {r['non_2xx']} non-2xx/3xx, {cut} cut mid-response "
                        f"(at most {WRK_CONNECTIONS}), {others} other socket errors")
    if problems or cut:
        nginx_errors = lb.errors()
        if nginx_errors:
            print("  nginx errors during the run (first 10):")
            for line in nginx_errors[:10]:
                print(f"    | {line}")
    # Every file, byte for byte, through the balancer with one node left.
    files = tree_files(root)
    mismatched = []
    for f in files:
        got = lb.get("/" + f)
        if got.status != 200 or sha256(got.body) != sha256((root / f).read_bytes()):
            mismatched.append(f"/{f} ({got.status})")
    say(f"after the loss: {len(files) - len(mismatched)}/{len(files)} files byte-identical "
        "through the balancer")
    if mismatched:
        problems.append("not byte-identical: " + ", ".join(mismatched))
    # The node comes back: a new host id, no workloads until placed again.
    host_id = ctx.lat.cli("start-node", ctx.lat.state, victim).strip()
    say(f"start-node {victim}: new host id {host_id}")
    direct = call(ctx.lat.port(victim), "/hello.txt", headers={"Host": name})
    say(f"{victim} before placement answers Host {name} with {direct.status}"
        f"{' (the node bare 404: nothing routed)' if direct.bare_404 else ''}")
    again = ctx.lat.place(cleanup, name, ctx.image, str(root), [victim])
    say(f"placed {name} on {victim} again ({again[victim][:8]})")
    responses, deadline = [], time.monotonic() + 20
    while time.monotonic() < deadline:  # nginx retries a failed server after fail_timeout
        responses.append(lb.get("/hello.txt"))
        if set(nodes) <= set(nodes_of(responses)):
            break
        time.sleep(0.1)
    seen = nodes_of(responses)
    not_ok = sum(1 for x in responses if x.status != 200)
    say(f"after re-placing: {len(responses)} GETs, {not_ok} not 200, {NODE_HEADER}: "
        + ", ".join(f"{k} x{v}" for k, v in sorted(seen.items())))
    if not set(nodes) <= set(seen):
        problems.append(f"after restart only {sorted(seen)} answered")
    if not_ok:
        problems.append(f"{not_ok} GETs after re-placing were not 200")
    figures = (f"killed {victim} mid-run: {wrk_figures(r)}; "
               f"{len(files) - len(mismatched)}/{len(files)} files byte-identical after; "
               f"{victim} restarted, re-placed, both nodes answer: "
               f"{'yes' if set(nodes) <= set(seen) else 'no'}")
    return verdict(figures, problems)


def check_rolling_update(ctx: Context, cleanup: Cleanup) -> str:
    nodes = need_nodes(ctx)
    if not ctx.wasm or not os.path.isfile(ctx.wasm):
        raise Failure(f"--wasm {ctx.wasm!r} is not a file: nothing to push as v2")
    before = ctx.lat.reload().get("image")
    new_image = ctx.lat.cli("push", ctx.lat.state, ctx.wasm, "v2").strip()
    info = ctx.lat.reload()  # `push` makes its tag serve's default: put the old one back
    info["image"] = before
    lattice.save(info)
    say(f"pushed {ctx.wasm} as {new_image}")
    root = make_tree(ctx.base)
    name = f"ss-roll-{uuid.uuid4().hex[:8]}"
    v1 = {"SANDSERVE_HEADERS": f"{RELEASE_HEADER}: v1"}
    v2 = {"SANDSERVE_HEADERS": f"{RELEASE_HEADER}: v2"}
    old = ctx.lat.place(cleanup, name, ctx.image, str(root), nodes, v1)
    say(f"v1 ({ctx.image}) placed as {name} on "
        + ", ".join(f"{n} {w[:8]}" for n, w in old.items()))
    lb = Balancer(ctx.lat, cleanup, name, nodes, ctx.base)
    # The load runs at least WRK_SECONDS and always ends TAIL seconds after the roll: a
    # placement under load takes 2-3.5 s here (the node compiles the component while it
    # serves), so a fixed 10 s could end before the second node is rolled.
    wrk = Wrk(cleanup, f"http://127.0.0.1:{lb.port}/small.bin", seconds=None)
    say(f"wrk -t2 -c8 --latency through nginx 127.0.0.1:{lb.port} started "
        f"(>= {WRK_SECONDS} s, until {ROLL_TAIL} s after the roll)")
    time.sleep(1)
    problems = []

    def sample(port: int, count: int = 10) -> dict[str, int]:
        out: dict[str, int] = {}
        for _ in range(count):
            got = call(port, "/hello.txt", headers={"Host": name})
            key = f"{got.status} {got.header(RELEASE_HEADER)}"
            out[key] = out.get(key, 0) + 1
        return out

    def fmt(counts: dict[str, int]) -> str:
        return ", ".join(f"{k} x{v}" for k, v in sorted(counts.items()))

    for node in nodes:
        port = ctx.lat.port(node)
        t = wrk.elapsed()
        new = ctx.lat.place(cleanup, name, new_image, str(root), [node], v2)
        say(f"+{t:5.2f}s..+{wrk.elapsed():5.2f}s {node}: v2 workload {new[node][:8]} started "
            "beside v1, same host name")
        t = wrk.elapsed()
        both = sample(port)  # the node now picks either workload for the one host name
        say(f"+{t:5.2f}s..+{wrk.elapsed():5.2f}s {node}: 10 direct GETs while both run: "
            + fmt(both))
        t = wrk.elapsed()
        ctx.lat.unplace([old[node]])
        say(f"+{t:5.2f}s..+{wrk.elapsed():5.2f}s {node}: v1 workload {old[node][:8]} stopped")
        t = wrk.elapsed()
        after = sample(port)
        say(f"+{t:5.2f}s..+{wrk.elapsed():5.2f}s {node}: 10 direct GETs after: " + fmt(after))
        if set(after) != {"200 v2"}:
            problems.append(f"{node} after the roll: {after}")
    rolled_at = wrk.elapsed()
    time.sleep(max(ROLL_TAIL, WRK_SECONDS - rolled_at))
    wrk.stop()
    r = wrk.result()
    say(f"roll done at +{rolled_at:.2f}s; load stopped at +{wrk.elapsed():.2f}s; wrk done: "
        + wrk_figures(r))
    print_wrk(r)
    if r["non_2xx"] or r["socket_total"]:
        problems.append(f"wrk: {r['non_2xx']} non-2xx/3xx, {r['socket_total']} socket errors")
    final = [lb.get("/hello.txt") for _ in range(40)]
    rel = {}
    for x in final:
        key = f"{x.status} {x.header(RELEASE_HEADER)}"
        rel[key] = rel.get(key, 0) + 1
    seen = nodes_of(final)
    say("40 GETs through nginx afterwards: " + ", ".join(f"{k} x{v}" for k, v in rel.items())
        + f"; {NODE_HEADER}: " + ", ".join(f"{k} x{v}" for k, v in sorted(seen.items())))
    if set(rel) != {"200 v2"}:
        problems.append(f"after the roll: {rel}")
    if not set(nodes) <= set(seen):
        problems.append(f"after the roll only {sorted(seen)} answered")
    figures = (f"v1 -> v2 on {', '.join(nodes)} in turn under {r['duration']} of load (v2 started "
               f"beside v1 on a node, same host name, then v1 stopped): {wrk_figures(r)}; "
               "afterwards through nginx "
               + ", ".join(f"{k} x{v}" for k, v in rel.items()))
    return verdict(figures, problems)


def multipart(field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "sandserve" + uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def write_attempts(port: int, host: str | None) -> dict[str, Response]:
    h = {"Host": host} if host else {}
    form, ctype = multipart("file", "posted.txt", b"posted\n")
    return {
        "PUT new": call(port, "/new-upload.txt", "PUT", h, b"new file\n"),
        "PUT existing": call(port, "/hello.txt", "PUT", h, b"overwritten\n"),
        "PUT new in new dir": call(port, "/newdir/x.txt", "PUT", h, b"x\n"),
        "POST form": call(port, "/", "POST", dict(h, **{"Content-Type": ctype}), form),
        "MKCOL": call(port, "/made/", "MKCOL", h),
        "DELETE": call(port, "/hello.txt", "DELETE", h),
    }


def check_sandbox(ctx: Context, cleanup: Cleanup) -> str:
    nodes = need_nodes(ctx)
    root = make_tree(ctx.base)
    names_before, hashes_before = tree_digest(root)
    name = f"ss-sandbox-{uuid.uuid4().hex[:8]}"
    ctx.lat.place(cleanup, name, ctx.image, str(root), nodes, {"SANDSERVE_UPLOAD": "1"})
    say(f"placed {name} read-only with SANDSERVE_UPLOAD=1 on {', '.join(nodes)}")
    lb = Balancer(ctx.lat, cleanup, name, nodes, ctx.base)
    problems, table = [], {}
    targets = [(n, ctx.lat.port(n), name) for n in nodes] + [("nginx", lb.port, None)]
    for who, port, host in targets:
        ok = call(port, "/hello.txt", headers={"Host": host} if host else {})
        if ok.status != 200 or ok.body != (root / "hello.txt").read_bytes():
            problems.append(f"{who}: GET /hello.txt gave {ok.status}: the workload does not "
                            "serve, so refusals would prove nothing")
            continue
        for what, r in write_attempts(port, host).items():
            table.setdefault(what, {})[who] = r.status
            if r.bare_404:
                problems.append(f"{who} {what}: the node's bare 404 (not routed)")
            elif r.status < 400:
                problems.append(f"{who} {what}: {r.status} (accepted)")
    for what, by in table.items():
        say(f"{what:<20} " + ", ".join(f"{who} {s}" for who, s in by.items()))
    names_after, hashes_after = tree_digest(root)
    identical = names_after == names_before and hashes_after == hashes_before
    say(f"tree before/after: {len(names_before)} names, {len(hashes_before)} files hashed; "
        f"{'byte-identical' if identical else 'CHANGED'}")
    if not identical:
        added = sorted(set(names_after) - set(names_before))
        gone = sorted(set(names_before) - set(names_after))
        changed = sorted(f for f in hashes_before if hashes_after.get(f) not in
                         (None, hashes_before[f]))
        problems.append(f"tree changed: added {added}, removed {gone}, modified {changed}")
    # Control: the same upload on a writable copy is accepted, so the refusals above are the
    # read-only mount's doing, not uploads being off.
    copy = Path(tempfile.mkdtemp(prefix="writable-", dir=ctx.base))
    shutil.copytree(root, copy, dirs_exist_ok=True)
    control = f"ss-sandbox-rw-{uuid.uuid4().hex[:8]}"
    ctx.lat.place(cleanup, control, ctx.image, str(copy), nodes[:1], {"SANDSERVE_UPLOAD": "1"},
                  writable=True)
    r = call(ctx.lat.port(nodes[0]), "/new-upload.txt", "PUT", {"Host": control}, b"new file\n")
    stored = (copy / "new-upload.txt").is_file()
    say(f"control: {control} on {nodes[0]} with --writable: PUT new {r.status}, "
        f"file {'written' if stored else 'NOT written'}")
    if r.status != 201 or not stored:
        problems.append(f"control PUT on a writable mount gave {r.status}, written={stored}")
    statuses = "; ".join(f"{what} " + "/".join(sorted({str(s) for s in by.values()}))
                         for what, by in table.items())
    figures = (f"read-only + SANDSERVE_UPLOAD=1 on {len(targets)} paths (each node, nginx): "
               f"{statuses}; tree {'byte-identical' if identical else 'CHANGED'} "
               f"({len(hashes_before)} files); writable control PUT {r.status}")
    return verdict(figures, problems)


def check_auth(ctx: Context, cleanup: Cleanup) -> str:
    nodes = need_nodes(ctx)
    root = make_tree(ctx.base)
    port = serve(ctx.lat, cleanup, ctx.image, root, {"SANDSERVE_AUTH": "alice:secret"})
    good = "Basic " + base64.b64encode(b"alice:secret").decode()
    wrong = "Basic " + base64.b64encode(b"alice:wrong").decode()
    want = (root / "hello.txt").read_bytes()
    rows = {"no credentials": [], "alice:secret": [], "alice:wrong": []}
    for _ in range(4):
        rows["no credentials"].append(call(port, "/hello.txt"))
        rows["alice:secret"].append(call(port, "/hello.txt", headers={"Authorization": good}))
        rows["alice:wrong"].append(call(port, "/hello.txt", headers={"Authorization": wrong}))
    problems = []
    for what, rs in rows.items():
        statuses = sorted({r.status for r in rs})
        challenge = {r.header("WWW-Authenticate") for r in rs}
        say(f"{what:<15} {'/'.join(map(str, statuses))}; WWW-Authenticate "
            f"{sorted(c or '-' for c in challenge)}; {NODE_HEADER}: "
            + ", ".join(f"{k} x{v}" for k, v in sorted(nodes_of(rs).items())))
    for r in rows["no credentials"] + rows["alice:wrong"]:
        if r.status != 401 or not (r.header("WWW-Authenticate") or "").startswith("Basic"):
            problems.append(f"without/wrong credentials: {r.status}, WWW-Authenticate "
                            f"{r.header('WWW-Authenticate')!r}")
            break
    for r in rows["alice:secret"]:
        if r.status != 200 or r.body != want:
            problems.append(f"with credentials: {r.status}, {len(r.body)} bytes")
            break
    seen = set(nodes_of(rows["alice:secret"]))
    if not set(nodes) <= seen:
        problems.append(f"authorised GETs only reached {sorted(seen)}")
    figures = ("SANDSERVE_AUTH=alice:secret through nginx: no credentials "
               + "/".join(sorted({str(r.status) for r in rows['no credentials']}))
               + ", alice:secret " + "/".join(sorted({str(r.status) for r in rows['alice:secret']}))
               + ", wrong password " + "/".join(sorted({str(r.status) for r in rows['alice:wrong']}))
               + f"; 200s from {', '.join(sorted(seen))}")
    return verdict(figures, problems)


CHECK_FUNCS = {"oci": check_oci, "nodes": check_nodes, "node-loss": check_node_loss,
               "rolling-update": check_rolling_update, "sandbox": check_sandbox,
               "auth": check_auth}


def run_checks(state: str, image: str, wasm: str | None, only: list[str] | None = None) -> int:
    """Runs the checks; prints one PASS/FAIL line each and the `cluster:` summary; returns
    the number failed."""
    names = only or CHECKS
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="sandserve-cluster-") as workdir:
        os.chmod(workdir, 0o755)
        args = argparse.Namespace(state=state, image=image, wasm=wasm, workdir=workdir)
        ctx = Context(args)
        for name in names:
            print(f"== {name}", flush=True)
            cleanup = Cleanup()
            t = time.monotonic()
            try:
                figures = CHECK_FUNCS[name](ctx, cleanup)
                verdict = f"PASS {name}: {figures}"
                ok = True
            except Failure as e:
                verdict, ok = f"FAIL {name}: {e}", False
            except KeyboardInterrupt:
                errors = cleanup.run()
                for e in errors:
                    print(f"  clean-up: {e}", flush=True)
                raise
            except Exception as e:  # noqa: BLE001 - a check that crashed has failed
                verdict, ok = f"FAIL {name}: {type(e).__name__}: {e}", False
            errors = cleanup.run()
            for e in errors:
                print(f"  clean-up: {e}", flush=True)
            passed += ok
            failed += not ok
            print(f"{verdict} ({time.monotonic() - t:.1f} s)", flush=True)
    print(f"cluster: {passed} passed, {failed} failed", flush=True)
    return failed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--state", required=True, help="lattice.py state dir (lattice up)")
    p.add_argument("--image", required=True, help="the pushed component, REGISTRY/sandserve:TAG")
    p.add_argument("--wasm", default=str(REPO / "target/wasm32-wasip2/release/sandserve.wasm"),
                   help="pushed again as tag v2 for the rolling update")
    p.add_argument("--only", help="comma-separated: " + ",".join(CHECKS))
    args = p.parse_args(argv)
    only = args.only.split(",") if args.only else None
    for name in only or []:
        if name not in CHECK_FUNCS:
            p.error(f"no check {name!r}")
    signal.signal(signal.SIGTERM, on_signal)
    try:
        failed = run_checks(args.state, args.image, args.wasm, only)
    except KeyboardInterrupt as e:
        print(f"cluster: interrupted ({e})", file=sys.stderr)
        return 130
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
