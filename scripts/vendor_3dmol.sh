#!/usr/bin/env bash
# Fetch 3Dmol.js from npm again into pomodoro_core/report/vendor/ and check it is the version recorded in
# pomodoro_core/report/viewer.py (VIEWER_JS): the reports' 3-D viewer is inlined from this file, offline.
set -euo pipefail
cd "$(dirname "$0")/.."
spec=$(python -c "from pomodoro_core.report.viewer import VIEWER_JS as v; print(v['npm'])")
want=$(python -c "from pomodoro_core.report.viewer import VIEWER_JS as v; print(v['sha256'])")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$spec" >/dev/null && tar xzf ./*.tgz package/build/3Dmol-min.js package/LICENSE)
got=$(sha256sum "$tmp/package/build/3Dmol-min.js" | cut -d' ' -f1)
[ "$got" = "$want" ] || { echo "vendor_3dmol: $spec has sha256 $got, viewer.py records $want" >&2; exit 2; }
cp "$tmp/package/build/3Dmol-min.js" pomodoro_core/report/vendor/3Dmol-min.js
cp "$tmp/package/LICENSE" pomodoro_core/report/vendor/3Dmol-LICENSE.txt
echo "vendor_3dmol: $spec in pomodoro_core/report/vendor/ (sha256 $got)"
