#!/usr/bin/env python3
"""make test-cluster: a two-node wasmCloud lattice on loopback, the cluster checks, teardown.

    run.py [--wasm PATH] [--cargo-tests] [--only CHECKS] [--wheels DIR] [--keep-state]

1. installs the pinned lattice tools (`lattice.py tools`) into $SANDSERVE_TOOLS/wasmcloud,
   or lattice.py's default tools dir (~/.cache/sandserve-tools/wasmcloud) without it;
   --wheels DIR (or $SANDSERVE_WHEELS) installs the same pinned wheels offline;
2. `lattice.py up` with 2 nodes in a temp state dir, and `make oci` of the component to
   the lattice's registry;
3. with --cargo-tests: `cargo test --release -p sandserve --tests` with
   SANDSERVE_TEST_HOST=wasmcloud, SANDSERVE_LATTICE=<state>/lattice.json and
   SANDSERVE_LATTICE_IMAGE=<ref>: the black-box tests through the balancer;
4. tests/cluster/scenarios.py against that lattice (nodes, node-loss, rolling-update,
   sandbox, auth);
5. `lattice.py down`, always: also on failure, Ctrl-C, TERM or HUP. The state dir (logs
   included) is removed on success and kept, with its path printed, on failure.

Exits non-zero when anything failed. Python 3.11, stdlib.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LATTICE_PY = REPO / "examples/wasmcloud/lattice.py"
SCENARIOS_PY = REPO / "tests/cluster/scenarios.py"
DEFAULT_WASM = REPO / "target/wasm32-wasip2/release/sandserve.wasm"


def log(message: str) -> None:
    print(f"test-cluster: {message}", file=sys.stderr, flush=True)


def tools_dir() -> str | None:
    """$SANDSERVE_TOOLS/wasmcloud (the Makefile's TOOLS dir), else lattice.py's default."""
    root = os.environ.get("SANDSERVE_TOOLS")
    return str(Path(os.path.expanduser(root)) / "wasmcloud") if root else None


class Interrupted(Exception):
    pass


def on_signal(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


CHILD: list[subprocess.Popen] = []


def run(argv: list[str], env: dict | None = None, capture: bool = False) -> subprocess.CompletedProcess:
    """Runs a step as a child; on an interrupt the child is TERMed (then KILLed) first."""
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE if capture else None, text=True)
    CHILD.append(proc)
    try:
        out, _ = proc.communicate()
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(60)  # scenarios.py cleans up its workloads on TERM
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        CHILD.remove(proc)
    return subprocess.CompletedProcess(argv, proc.returncode, out, None)


def lattice_cli(*args: str, env: dict, capture: bool = False) -> subprocess.CompletedProcess:
    return run([sys.executable, str(LATTICE_PY), *args], env=env, capture=capture)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--wasm", default=str(DEFAULT_WASM), help="the component to push")
    p.add_argument("--cargo-tests", action="store_true",
                   help="also run the black-box cargo tests through the balancer")
    p.add_argument("--only", help="scenarios.py --only (comma-separated check names)")
    p.add_argument("--wheels", default=os.environ.get("SANDSERVE_WHEELS"),
                   help="install the pinned wheels from this directory (offline)")
    p.add_argument("--keep-state", action="store_true", help="keep the state dir even on success")
    args = p.parse_args(argv)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)

    t0 = time.monotonic()
    if not os.path.isfile(args.wasm):
        log(f"no component at {args.wasm}: build it first (make component)")
        return 2
    env = dict(os.environ)
    tools = tools_dir()
    if tools:
        env["SANDSERVE_TOOLS_WASMCLOUD"] = tools  # what lattice.py reads
    failures: list[str] = []
    state = Path(tempfile.mkdtemp(prefix="sandserve-lattice-"))
    up = False
    try:
        step = lattice_cli("tools", *([tools] if tools else []),
                           *(["--wheels", args.wheels] if args.wheels else []), env=env)
        if step.returncode != 0:
            failures.append("lattice.py tools")
            return 1
        up = True  # from here on `down` runs, even for a half-started lattice
        step = lattice_cli("up", str(state), "--nodes", "2",
                           *(["--tools", tools] if tools else []), env=env)
        if step.returncode != 0:
            failures.append("lattice.py up")
            return 1
        # The component goes to the lattice's registry the way a user publishes it: `make oci`
        # (version, source, revision and WASI version as annotations; the `oci` check reads
        # them back). The registry is plain HTTP on loopback.
        registry = json.loads((state / "lattice.json").read_text())["registry"]["address"]
        step = run(["make", "--no-print-directory", "-C", str(REPO), "oci",
                    f"REGISTRY={registry}", "TAG=v1", "INSECURE=1"],
                   env=env, capture=True)
        if step.returncode != 0:
            failures.append("make oci")
            return 1
        image = step.stdout.strip().splitlines()[-1]
        log(f"lattice up in {state}, component pushed as {image} "
            f"({time.monotonic() - t0:.1f} s)")
        lattice_cli("status", str(state), env=env)

        if args.cargo_tests:
            t = time.monotonic()
            test_env = dict(env, SANDSERVE_TEST_HOST="wasmcloud",
                            SANDSERVE_LATTICE=str(state / "lattice.json"),
                            SANDSERVE_LATTICE_IMAGE=image)
            step = run(["cargo", "test", "--release", "-p", "sandserve", "--tests", "--no-fail-fast"],
                       env=test_env)
            log(f"cargo tests through the balancer: exit {step.returncode} "
                f"({time.monotonic() - t:.0f} s)")
            if step.returncode != 0:
                failures.append("cargo test (SANDSERVE_TEST_HOST=wasmcloud)")

        step = run([sys.executable, str(SCENARIOS_PY), "--state", str(state), "--image", image,
                    "--wasm", args.wasm, *(["--only", args.only] if args.only else [])],
                   env=env)
        if step.returncode != 0:
            failures.append("scenarios")
    except Interrupted as e:
        failures.append(f"interrupted by {e}")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the teardown finish
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if up:
            down = lattice_cli("down", str(state), env=env)
            if down.returncode != 0:
                failures.append("lattice.py down")
        if failures or args.keep_state:
            log(f"state and logs kept in {state}")
        else:
            shutil.rmtree(state, ignore_errors=True)
        verdict = "FAILED: " + ", ".join(failures) if failures else "passed"
        log(f"{verdict} ({time.monotonic() - t0:.0f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
