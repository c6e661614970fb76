#!/bin/bash
# The README's first command: set up, then run the example busybox container and show what it sees.
#
#   bash scripts/example.sh
#
# Needs root (the container gets its own pid, network, ipc, uts and mount namespaces).
# Exits with the container's exit status.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd -P)
cd "$root"

bash scripts/setup.sh

id=example-$$
# `run` deletes the container when it exits; this only matters when something failed half-way.
cleanup() { bin/runts delete --force "$id" >/dev/null 2>&1 || true; }
trap cleanup EXIT

echo "+ bin/runts run --bundle examples/busybox $id"
rc=0
bin/runts run --bundle examples/busybox "$id" || rc=$?
exit "$rc"
