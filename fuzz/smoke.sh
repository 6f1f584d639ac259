#!/usr/bin/env bash
# Runs every fuzz target for a few seconds (default 5) on its committed seed corpus, one
# at a time, at low priority. Not part of CI. New corpus entries go to a scratch
# directory, so the committed seeds are left as they are.
#   fuzz/smoke.sh            # all targets, 5 s each
#   SECS=60 fuzz/smoke.sh    # longer
set -euo pipefail
cd "$(dirname "$0")"
SECS="${SECS:-5}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
failed=0
for t in $(cargo fuzz list); do
    mkdir -p "$WORK/$t"
    if nice -n 19 cargo fuzz run -s none "$t" "$WORK/$t" "corpus/$t" -- \
        -max_total_time="$SECS" -jobs=1 -workers=1 -print_final_stats=1 >"$WORK/$t.log" 2>&1; then
        runs=$(grep -m1 '^stat::number_of_executed_units' "$WORK/$t.log" | awk '{print $2}')
        echo "ok     $t: ${runs:-?} executions in ${SECS}s"
    else
        echo "FAILED $t:"
        tail -n 40 "$WORK/$t.log"
        failed=1
    fi
done
exit "$failed"
