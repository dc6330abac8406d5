#!/usr/bin/env bash
# Make a build context for `docker build --build-arg APP=prebuilt`: package files, the compiled
# runtime (dist/ of `npm run build`) and node_modules pruned to production dependencies, copied
# (node_modules may be a symlink, which a build context would carry as a dangling link).
# Usage: docker/prebuilt-context.sh DIR   (run `npm ci && npm run build` first)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: docker/prebuilt-context.sh DIR}
[ -f dist/cli/main.js ] || { echo "dist/cli/main.js is missing: run npm run build first" >&2; exit 1; }
rm -rf "$out" && mkdir -p "$out/dist"
cp package.json package-lock.json "$out/"
# Only the runtime rooms (tsconfig.build.json) and the explorer page; a build:all also leaves tests and bench in dist/.
for room in consensus protocol net lib node service client cli explorer; do cp -a "dist/$room" "$out/dist/"; done
cp -a "$(readlink -f node_modules)" "$out/node_modules"
(cd "$out" && npm prune --omit=dev --no-audit --no-fund --offline --loglevel=error >/dev/null)
