#!/bin/bash
# The README's second command: set up (quietly, without runc) and run the whole test suite.
#
#   bash scripts/test.sh [vitest arguments...]
#
# Tests create real containers and need root. They do not need runc.
# Exits with vitest's status.
set -euo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd -P)
cd "$root"

bash scripts/setup.sh --quiet

exec npx vitest run "$@"
