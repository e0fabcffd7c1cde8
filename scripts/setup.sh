#!/usr/bin/env bash
# Install what this machine lacks for patchline, then the npm dependencies.
#   scripts/setup.sh           what the pipeline (and `npm run demo`) needs: git, rpmbuild, createrepo_c, rsync,
#                              bwrap and setpriv (the build sandbox, docs/decisions/build-sandbox.md)
#   scripts/setup.sh --tests   also what the tests start for real: dovecot, groovy, chromium, dnf, ssh, openssl
# Debian/Ubuntu (apt-get) and Fedora/RHEL (dnf) agents; run as root, or with sudo available.
set -euo pipefail
cd "$(dirname "$0")/.."

# command | Debian package | Fedora package
pipeline=(
  "git|git|git"
  "rpmbuild|rpm|rpm-build"
  "rpmspec|rpm|rpm-build"
  "createrepo_c|createrepo-c|createrepo_c"
  "rsync|rsync|rsync"
  "bwrap|bubblewrap|bubblewrap"
  "setpriv|util-linux|util-linux-core"
  "rpmlint|rpmlint|rpmlint"
)
tests=(
  "dovecot|dovecot-imapd|dovecot"
  "groovy|groovy|groovy"
  "chromium|chromium|chromium"
  "dnf|dnf|dnf"
  "ssh|openssh-client|openssh-clients"
  "openssl|openssl|openssl"
)
wanted=("${pipeline[@]}")
[ "${1:-}" = "--tests" ] && wanted+=("${tests[@]}")

if command -v apt-get >/dev/null 2>&1; then column=2; else column=3; fi
missing=()
for row in "${wanted[@]}"; do
  IFS='|' read -r cmd deb rpm <<<"$row"
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
    pkg=$([ "$column" = 2 ] && echo "$deb" || echo "$rpm")
    [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
  fi
done

sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$column" = 2 ]; then
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    "${sudo[@]}" dnf install -y -q "${missing[@]}"
  fi
fi

# npm ci only when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
