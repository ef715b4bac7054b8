#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# demo.sh - Hamlet's main job, end to end, on this machine (make demo).
#
# A township hub on loopback with a certificate made here; three village
# laptops (two in 白沙村, one in 柏树湾村) enrolled with one-time codes; each
# imports its village's cases from the reference data while offline, then
# syncs; two laptops of 白沙村 change the same case's status without seeing
# each other; after the next syncs the hub shows the merged ledger and the
# conflict for review. Stops what it started unless KEEP_HUB=1.
set -euo pipefail

BUILD=${BUILD:-build}
HUB="$BUILD/hamlet-hub"
AGENT="$BUILD/hamlet"
DATA=${HAMLET_DATA:-../shared/data}
[ -f "$DATA/cases-1000.jsonl" ] || DATA="$(dirname "$0")/../../shared/data"
CASES="$DATA/cases-1000.jsonl"
[ -f "$CASES" ] || { echo "demo: no reference data (looked for $CASES)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/hamlet-demo-XXXXXX)
PORT=${DEMO_PORT:-$((20000 + RANDOM % 20000))}
HUB_PID=""
cleanup() {
    if [ -n "$HUB_PID" ] && [ "${KEEP_HUB:-0}" != 1 ]; then
        kill -TERM "$HUB_PID" 2>/dev/null || true
        wait "$HUB_PID" 2>/dev/null || true
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*"; }
hub() { "$HUB" --db "$WORK/hub.db" "$@"; }
laptop() { local name=$1; shift; "$AGENT" --db "$WORK/$name.db" "$@"; }

say "the township hub: a certificate, the villages, three laptops"
hub init
"$HUB" cert generate --out "$WORK/certs" --name localhost
hub village add 白沙村 --name 白沙村
hub village add 柏树湾村 --name 柏树湾村
code() { hub device add --village "$1" --label "$2" --url "https://localhost:$PORT" \
             --cert "$WORK/certs/hub.crt" | tail -n 1; }
CODE_A1=$(code 白沙村 "村委会笔记本")
CODE_A2=$(code 白沙村 "调解室笔记本")
CODE_B1=$(code 柏树湾村 "村委会笔记本")
REVIEW_PW=${DEMO_PASSWORD:-demo-审阅-2026}
printf '%s\n' "$REVIEW_PW" | hub user add 审阅员 --role admin
"$HUB" --db "$WORK/hub.db" serve --listen "127.0.0.1:$PORT" --cert "$WORK/certs/hub.crt" \
    --key "$WORK/certs/hub.key" --url "https://localhost:$PORT" 2> "$WORK/hub.log" &
HUB_PID=$!
for _ in $(seq 50); do
    grep -q serving "$WORK/hub.log" 2>/dev/null && break
    sleep 0.1
done

say "each laptop works offline first: its village's cases from the reference data"
laptop a1 init --village 白沙村
laptop a2 init --village 白沙村
laptop b1 init --village 柏树湾村
laptop a1 import "$CASES"
laptop b1 import "$CASES"

say "then a link: enrol with the codes, and sync"
laptop a1 enroll "$CODE_A1"
laptop a2 enroll "$CODE_A2"
laptop b1 enroll "$CODE_B1"
laptop a1 sync
laptop b1 sync
laptop a2 sync

say "two laptops of 白沙村 change the same case without seeing each other"
laptop a1 export > "$WORK/a1.jsonl"
# An accepted case: one laptop takes it into mediation, the other transfers it.
CASE=$(grep -m 1 '"status":"accepted"' "$WORK/a1.jsonl" | sed 's/^{"id":"\([^"]*\)".*/\1/')
laptop a1 case status "$CASE" mediating
laptop a2 case transfer "$CASE" --to court --note "涉及土地权属，移交法庭"
laptop a1 sync
laptop a2 sync
laptop a1 sync

say "the merged ledger at the hub"
hub village list
hub device list
for v in 白沙村 柏树湾村; do
    echo "$v: $(hub export --village "$v" | wc -l) cases"
done
if cmp -s <(laptop a1 export) <(hub export --village 白沙村) &&
    cmp -s <(laptop a2 export) <(hub export --village 白沙村) &&
    cmp -s <(laptop b1 export) <(hub export --village 柏树湾村); then
    echo "every laptop's export is byte for byte the hub's export of its village"
else
    echo "demo: the laptops and the hub disagree" >&2
    exit 1
fi

say "the township sets a deadline on a case; the village sees it overdue after a sync"
LATE=$(grep -m 1 '"status":"mediating"' "$WORK/a1.jsonl" | sed 's/^{"id":"\([^"]*\)".*/\1/')
hub case deadline "$LATE" "$(date -u -d '8 days ago' +%F)" --note "请尽快调结"
laptop a1 sync
laptop a1 list overdue

say "the township's figures for 2024"
hub report --year 2024 --village 白沙村

say "the conflict, waiting for the township's review"
hub conflicts list
hub conflicts show 1
laptop a2 case show "$CASE" > "$WORK/case.txt"
head -n 8 "$WORK/case.txt"
laptop a2 status

if [ "${KEEP_HUB:-0}" = 1 ]; then
    say "the hub keeps running at https://localhost:$PORT (pid $HUB_PID, files in $WORK)"
    echo "review pages: https://localhost:$PORT/ (the certificate is $WORK/certs/hub.crt);"
    echo "sign in as 审阅员 with the password $REVIEW_PW"
fi
