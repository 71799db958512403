#!/usr/bin/env python3
"""Directories of 1,000 to 1,000,000 entries: sandserve's first page beside nginx autoindex's
and python -m http.server's one page, in one run, and what each holds in memory for it.

For each directory (empty files with 40-character names, as in issue 20), per server:
- the time to the whole first page (the median of 3 GETs, the body read to its end), and its
  bytes: nginx and python send the whole directory as one page, sandserve its first 10,000;
- memory: sandserve's peak guest memory, found by bisecting `--max-memory` for the smallest
  cap at which the page still answers 200 (a fresh server per probe, 64 KiB steps, the wasm
  page size); for nginx and python, the process's RSS high-water mark (VmHWM) after the GET.
Then, on the biggest directory, under `--max-memory 16M`: the time to walk every JSON page by
following `next`, and to stream the tar, the zip and a search of the whole directory.

The trees are made once under --cache (default /var/tmp/sandserve-bigdirs) and reused.
Usage: python3 bench/big_dirs.py [--sizes 1000,10000,100000,1000000] [--json OUT]
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import run  # noqa: E402  (the bench's servers and /proc readers)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target/release/sandserve")


def label(n):
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def make_tree(cache, sizes):
    """cache/root/d{label}/ with n empty files each; a marker says a directory is complete."""
    root = os.path.join(cache, "root")
    os.makedirs(root, exist_ok=True)
    for path in (cache, root):
        os.chmod(path, 0o755)  # nginx's workers run unprivileged
    # Server.start waits for this file.
    with open(os.path.join(root, "1k.bin"), "wb") as f:
        f.write(b"x" * 1024)
    for n in sizes:
        d = os.path.join(root, "d" + label(n))
        marker = os.path.join(cache, f".complete-{n}")
        if os.path.exists(marker):
            continue
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        started = time.monotonic()
        for i in range(n):
            os.close(os.open(os.path.join(d, f"{i:08d}-" + "x" * 31), os.O_CREAT | os.O_WRONLY, 0o644))
        open(marker, "w").close()
        print(f"made {d} in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return root


def get(url, timeout=300):
    """Status, bytes, and seconds to the end of the body."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            size = 0
            for chunk in iter(lambda: r.read(1 << 20), b""):
                size += len(chunk)
            return r.status, size, time.monotonic() - started
    except urllib.error.HTTPError as e:
        return e.code, 0, time.monotonic() - started


def sandserve(root, *flags):
    port = run.free_port()
    argv = [BINARY, root, "--port", str(port), "--bind", "127.0.0.1", "-q", *flags]
    return run.Server("sandserve", argv, port)


def first_page(server, path):
    """Median seconds of 3 GETs, the bytes, and the peak RSS (KiB) of the server's processes."""
    pids = server.pids()
    run.reset_peak_rss(pids)
    times, size = [], 0
    for _ in range(3):
        status, size, seconds = get(server.base + path)
        if status != 200:
            return None
        times.append(seconds)
    return statistics.median(times), size, run.status_kib(pids, "VmHWM")


def peak_guest_memory(root, path):
    """The smallest --max-memory, in 64 KiB steps, at which `path` answers 200."""
    def answers(kib):
        server = sandserve(root, "--max-memory", f"{kib}K")
        try:
            server.start()
        except RuntimeError:
            return False
        try:
            return get(server.base + path)[0] == 200
        finally:
            server.stop()

    low, high = 64, 64 * 1024  # KiB: the first always fails, the last is the default cap
    if not answers(high):
        return None
    while high - low > 64:
        middle = (low + high) // 2 // 64 * 64
        if answers(middle):
            high = middle
        else:
            low = middle
    return high


def walk_json(base, path):
    """Follows `next` from `path` to the last page: seconds, pages, entries."""
    started, pages, entries = time.monotonic(), 0, 0
    url = base + path
    while url:
        with urllib.request.urlopen(url, timeout=300) as r:
            page = json.load(r)
        pages += 1
        entries += len(page["entries"])
        url = base + page["next"] if page["next"] else None
    return time.monotonic() - started, pages, entries


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    # Not under $HOME, which may be closed to nginx's unprivileged workers.
    parser.add_argument("--cache", default="/var/tmp/sandserve-bigdirs")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    root = make_tree(args.cache, sizes)

    peers = [sandserve(root)]
    if shutil.which("nginx"):
        peers.append(run.nginx_server("nginx", args.cache, root, run.free_port(), "", ""))
    port = run.free_port()
    peers.append(run.Server("python", [sys.executable, "-m", "http.server", str(port),
                                       "--bind", "127.0.0.1"], port, cwd=root))
    rows = []
    try:
        for server in peers:
            server.start()
        for n in sizes:
            path = f"/d{label(n)}/"
            row = {"entries": n}
            for server in peers:
                measured = first_page(server, path)
                row[server.name] = (None if measured is None else
                                    {"seconds": measured[0], "bytes": measured[1],
                                     "peak_rss_kib": measured[2]})
            rows.append(row)
    finally:
        for server in peers:
            server.stop()
    for row in rows:
        row["sandserve_guest_kib"] = peak_guest_memory(root, f"/d{label(row['entries'])}/")

    print(f"{'entries':>9} | {'server':<9} {'first page':>10} {'bytes':>11} {'memory':>22}")
    for row in rows:
        for name in ("sandserve", "nginx", "python"):
            cell = row.get(name)
            if cell is None:
                continue
            if name == "sandserve":
                memory = f"{row['sandserve_guest_kib'] / 1024:.1f} MiB guest"
            else:
                memory = f"{cell['peak_rss_kib'] / 1024:.1f} MiB RSS"
            print(f"{row['entries']:>9} | {name:<9} {cell['seconds'] * 1000:>8.0f} ms "
                  f"{cell['bytes']:>11} {memory:>22}")

    biggest = f"/d{label(max(sizes))}/"
    server = sandserve(root, "--max-memory", "16M")
    whole = {}
    server.start()
    try:
        seconds, pages, entries = walk_json(server.base, biggest + "?format=json")
        whole["json_walk"] = {"seconds": seconds, "pages": pages, "entries": entries}
        for what in ("download=tar", "download=zip", "q=99999-"):
            status, size, seconds = get(server.base + biggest + "?" + what)
            whole[what] = {"status": status, "bytes": size, "seconds": seconds}
    finally:
        server.stop()
    print(f"\n{biggest} under --max-memory 16M:")
    walk = whole["json_walk"]
    print(f"  every JSON page: {walk['pages']} pages, {walk['entries']} entries, "
          f"{walk['seconds']:.1f} s")
    for what in ("download=tar", "download=zip", "q=99999-"):
        cell = whole[what]
        print(f"  ?{what}: {cell['status']}, {cell['bytes']} bytes, {cell['seconds']:.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"first_page": rows, "whole": whole}, f, indent=1)


if __name__ == "__main__":
    main()
