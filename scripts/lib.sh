# Shared by scripts/setup.sh and scripts/setup-e2e.sh (sourced). The caller sets `me` (the prefix of its
# messages) and `quiet` (1: print only errors).

say() { [ "$quiet" = 1 ] || echo "$me: $*"; }

# run DESCRIPTION CMD...: in quiet mode the output is kept and only shown when the command fails
# (not even then when SETUP_HIDE_FAILURE is set: the caller has a fallback).
run() {
  local what=$1; shift
  say "$what"
  if [ "$quiet" = 1 ]; then
    local log rc=0
    log=$(mktemp)
    "$@" >"$log" 2>&1 || rc=$?
    if [ "$rc" != 0 ] && [ -z "${SETUP_HIDE_FAILURE:-}" ]; then
      echo "$me: $what failed (exit $rc):" >&2
      cat "$log" >&2
    fi
    rm -f "$log"
    return "$rc"
  else
    "$@"
  fi
}

# ensure_packages PKG...: install the Debian packages that are missing (one apt-get update, one apt-get install,
# without recommends); nothing when all are there.
ensure_packages() {
  local p status missing=()
  for p in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "system packages present"
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "$me: missing packages (${missing[*]}) and not root; install them or run as root" >&2
      exit 1
    fi
  fi
  run "apt-get update" "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  run "installing ${missing[*]}" "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}
