#!/usr/bin/env bash
# `npm run lab:soak`: the lab's failover as statistics (issue #14). Runs every scenario N times
# (default 20, or $1) on the lab fixtures (default timing, fast timing, the fastest timing with
# keepalived.trackProcess, and the held-out profile of the same shape with other addresses, names
# and router id), and prints per
# scenario passed/failed, outage p50/p95/max, failed requests and the longest handover overlap.
# JSON of every run and the HTML reports go to ${SOAK_OUT:-/var/tmp/k8s-ha-soak}. Needs root.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
n=${1:-20}
out=${SOAK_OUT:-/var/tmp/k8s-ha-soak}
mkdir -p "$out"
status=0
for f in lab lab-fast lab-fast-track heldout; do
  echo "== fixtures/lab/$f.toml, $n runs"
  node bin/k8s-ha lab "fixtures/lab/$f.toml" --secrets fixtures/secrets/test.secrets.json --repeat "$n" \
    --json "$out/$f.json" --report "$out/$f.html" 2>"$out/$f.log" || status=1
done
echo "reports: $out/lab.html $out/lab-fast.html $out/lab-fast-track.html $out/heldout.html"
exit "$status"
