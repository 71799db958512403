#!/usr/bin/env bash
# Runs the component under `jco serve` (Node) with ROOT preopened at / and the caller's
# SANDSERVE_* variables as the component's environment.
# usage: serve.sh COMPONENT.wasm ROOT PORT
set -euo pipefail
wasm=$(realpath "$1") root=$(realpath "$2") port=$3
jco_dir=${SANDSERVE_JCO_DIR:-$HOME/.cache/sandserve-tools/jco}
# jco resolves its own nested copy of the shim; setting the top-level copy has no effect.
shim=$jco_dir/node_modules/@bytecodealliance/jco/node_modules/@bytecodealliance/preview2-shim/dist/nodejs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/preopen.mjs" <<JS
import { _setPreopens } from '$shim/filesystem.js';
import { _setEnv } from '$shim/cli.js';
_setPreopens({ '/': process.env.SANDSERVE_JCO_ROOT });
_setEnv(Object.fromEntries(
  Object.entries(process.env).filter(([name]) => name.startsWith('SANDSERVE_'))));
JS
export SANDSERVE_JCO_ROOT=$root
cd "$jco_dir"
node node_modules/@bytecodealliance/jco/dist/jco.js serve --port "$port" --host 127.0.0.1 \
  --jco-dir "$work/out" --jco-import "$work/preopen.mjs" "$wasm"
