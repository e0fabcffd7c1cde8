#!/usr/bin/env bash
# The two sources of patchline.spec, from this tree (run `npm run build` first):
#   <out>/patchline-<version>.tgz               npm pack: what runs, nothing else (package.json "files")
#   <out>/patchline-<version>-node_modules.tgz  the dependencies as package-lock.json pins them, without dev tools
# then: rpmbuild -bb patchline.spec --define "_sourcedir <out>"
#   scripts/rpm-sources.sh <out-dir>
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 <out-dir>" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
version="$(node -p 'require(process.argv[1]).version' "$root/package.json")"

# --ignore-scripts: pack the dist/ that is there (prepack would build it again)
(cd "$root" && npm pack --ignore-scripts --loglevel=warn --pack-destination "$out" >/dev/null)

deps="$(mktemp -d)"
trap 'rm -rf "$deps"' EXIT
cp "$root/package.json" "$root/package-lock.json" "$deps/"
(cd "$deps" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null)
tar -C "$deps" -czf "$out/patchline-$version-node_modules.tgz" node_modules
echo "$out/patchline-$version.tgz"
echo "$out/patchline-$version-node_modules.tgz"
