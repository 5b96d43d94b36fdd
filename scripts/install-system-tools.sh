#!/usr/bin/env bash
# Install the system tools bakeoff measures with (Debian/Ubuntu). Idempotent: does
# nothing when everything is present. Without apt, or without root/sudo, it prints
# what is missing and how to get it, and carries on (the run then names what it lacks).
set -euo pipefail

# Usage: install-system-tools.sh [run|test]   (test adds what only the tests need)
PROFILE=${1:-run}

# command -> Debian package
declare -A NEED=(
  [sysbench]=sysbench [fio]=fio [iperf3]=iperf3 [stress-ng]=stress-ng
  [ping]=iputils-ping [ip]=iproute2 [ss]=iproute2
  [pgbench]=postgresql-contrib [pg_ctlcluster]=postgresql
)
if [ "$PROFILE" = "test" ]; then
  # the report is checked in headless Chromium; the load benchmarks compare with wrk, hey, nginx
  NEED+=([chromium]=chromium [nginx]=nginx-light [wrk]=wrk [hey]=hey)
  # the node function runtime (docs/serverless.md): node runs the JavaScript handler, npm
  # fetches its pinned `pg` tarballs (a NodeSource nodejs brings npm with it)
  NEED+=([node]=nodejs [npm]=npm)
fi

missing=()
for cmd in "${!NEED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}")
done
# the SSH executor is tested against a real sshd on loopback (not on PATH for non-root)
if [ "$PROFILE" = "test" ] && [ ! -x /usr/sbin/sshd ]; then
  missing+=(openssh-server)
fi
# python3 -m venv needs ensurepip, which Debian ships separately
python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')

if ! command -v apt-get >/dev/null 2>&1; then
  echo "bakeoff: apt-get not found; install these with your package manager: $pkgs" >&2
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "bakeoff: need root or passwordless sudo to install: $pkgs" >&2
  echo "         run: sudo apt-get install -y $pkgs" >&2
  exit 0
fi
echo "bakeoff: installing system tools: $pkgs"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
