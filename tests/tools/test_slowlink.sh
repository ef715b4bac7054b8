#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_slowlink.sh - checks the slowlink proxy (tests/tools/slowlink.c).
#
# Starts `openssl s_server -WWW` on loopback with a throwaway certificate,
# puts slowlink in front of it and checks what the integration tests and
# benchmarks rely on: opaque relaying (a real TLS handshake passes), the
# shared rate cap, latency, cuts after N bytes on a connection and every N
# bytes of the link, stalls, the stats file, 250 concurrent connections,
# bounded memory against a sender faster than the receiver, signals and
# argument errors. Needs only bash, coreutils, ss and openssl. Runs in
# about 20 seconds; prints "N passed, N failed" and exits non-zero on any
# failure.
#
#   tests/tools/test_slowlink.sh                 # uses build/tests/slowlink
#   SLOWLINK=build/asan/tests/slowlink tests/tools/test_slowlink.sh

set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
SLOWLINK=${SLOWLINK:-$root/build/tests/slowlink}
if [[ ! -x $SLOWLINK ]]; then
    echo "test_slowlink: $SLOWLINK is missing; run 'make build/tests/slowlink'" >&2
    exit 2
fi
SLOWLINK=$(cd "$(dirname "$SLOWLINK")" && pwd)/$(basename "$SLOWLINK")

work=$(mktemp -d "${TMPDIR:-/tmp}/test_slowlink.XXXXXX")
pids=()
passed=0
failed=0

cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() {
    passed=$((passed + 1))
    echo "ok   - $1"
}

not_ok() {
    failed=$((failed + 1))
    echo "FAIL - $1"
}

# check NAME CONDITION...: one test result from a [[ ]]-style condition.
check() {
    local name=$1
    shift
    if "$@"; then
        ok "$name"
    else
        not_ok "$name"
    fi
}

now_ms() {
    date +%s%3N
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds; 1 on timeout.
wait_for() {
    local deadline=$(($(now_ms) + $1 * 1000))
    shift
    until "$@"; do
        if (($(now_ms) > deadline)); then
            return 1
        fi
        sleep 0.05
    done
}

# json_field FILE NAME: one number from slowlink's stats file.
json_field() {
    local value
    value=$(grep -o "\"$2\":[0-9]*" "$1" 2>/dev/null | cut -d: -f2) || true
    echo "${value:--1}"
}

# ---- the sink: openssl s_server serving files from $work ----

cd "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
    -days 1 -keyout key.pem -out cert.pem 2>/dev/null
head -c 40000 /dev/urandom >blob.bin
head -c 100 /dev/urandom >small.bin
openssl s_server -accept 127.0.0.1:0 -cert cert.pem -key key.pem -WWW \
    >server.out 2>server.err </dev/null &
pids+=($!)
wait_for 10 grep -q '^ACCEPT' server.out
upstream=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' server.out)

# start_proxy NAME ARGS...: start slowlink towards the sink; sets $proxy_pid
# and $proxy_port. Its stats go to NAME.json, its output to NAME.out/.err.
start_proxy() {
    local name=$1
    shift
    "$SLOWLINK" --listen 127.0.0.1:0 --connect "127.0.0.1:$upstream" --stats "$name.json" \
        --port-file "$name.port" "$@" >"$name.out" 2>"$name.err" &
    proxy_pid=$!
    proxy_name=$name
    pids+=("$proxy_pid")
    wait_for 10 test -s "$name.port"
    proxy_port=$(cat "$name.port")
}

# stop_proxy [SIGNAL]: stop the proxy (SIGTERM by default); it must exit 0
# and say nothing on stderr, which also catches sanitizer reports.
stop_proxy() {
    kill "-${1:-TERM}" "$proxy_pid"
    proxy_status=0
    wait "$proxy_pid" || proxy_status=$?
    if [[ $proxy_status -ne 0 || -s $proxy_name.err ]]; then
        not_ok "$proxy_name: exit status $proxy_status, stderr:"
        sed 's/^/    /' "$proxy_name.err"
    fi
}

# fetch PORT FILE OUT: GET /FILE through TLS; sets $fetch_ms and $fetch_bytes.
fetch() {
    local start
    start=$(now_ms)
    printf 'GET /%s HTTP/1.0\r\n\r\n' "$2" |
        timeout 20 openssl s_client -connect "127.0.0.1:$1" -quiet >"$3" 2>/dev/null || true
    fetch_ms=$(($(now_ms) - start))
    fetch_bytes=$(wc -c <"$3")
}

# got_file OUT FILE: OUT is an HTTP response whose body is FILE.
got_file() {
    [[ $(head -c 15 "$1") == "HTTP/1.0 200 ok" ]] &&
        cmp -s <(tail -c "$(wc -c <"$2")" "$1") "$2"
}

# hold_server / release_server: keep s_server (one connection at a time)
# busy with an idle connection, so that connections slowlink makes wait in
# its listen backlog, where the kernel accepts their bytes.
hold_server() {
    exec {hold_fd}<>"/dev/tcp/127.0.0.1/$upstream"
}

release_server() {
    exec {hold_fd}>&-
}

# ---- arguments ----

status=0
"$SLOWLINK" --help >help.out 2>&1 || status=$?
check "--help prints usage and exits 0" [ "$status" -eq 0 -a -n "$(grep -l usage help.out)" ]

bad_args() {
    local status=0
    "$SLOWLINK" "$@" >bad.out 2>bad.err || status=$?
    [[ $status -eq 2 && $(wc -l <bad.err) -eq 1 && -s bad.err && ! -s bad.out ]]
}
up=(--connect "127.0.0.1:$upstream")
check "no arguments: exit 2" bad_args
check "--rate abc: exit 2" bad_args --listen 127.0.0.1:0 "${up[@]}" --rate abc
check "--rate -1: exit 2" bad_args --listen 127.0.0.1:0 "${up[@]}" --rate -1
check "--latency too large: exit 2" bad_args --listen 127.0.0.1:0 "${up[@]}" --latency 99999999999
check "--cut-after 12x: exit 2" bad_args --listen 127.0.0.1:0 "${up[@]}" --cut-after 12x
check "unknown option: exit 2" bad_args --listen 127.0.0.1:0 "${up[@]}" --bogus 1
check "--stall-after without --stall-ms: exit 2" \
    bad_args --listen 127.0.0.1:0 "${up[@]}" --stall-after 10
check "--connect to port 0: exit 2" bad_args --listen 127.0.0.1:0 --connect 127.0.0.1:0
check "--listen without a port: exit 2" bad_args --listen 127.0.0.1 "${up[@]}"
check "missing value: exit 2" bad_args --listen 127.0.0.1:0 "${up[@]}" --rate

# ---- (a) plain relay, and (e) the stats of a clean connection ----

start_proxy relay
check "port 0: stdout names the chosen port" \
    [ "$(cat relay.out)" = "listening on 127.0.0.1:$proxy_port" ]
fetch "$proxy_port" blob.bin relay.body
check "relay: TLS handshake and the whole page through the proxy" got_file relay.body blob.bin
wait_for 5 [ "$(json_field relay.json connections)" -eq 1 ] || true
check "stats: written after a closed connection" [ "$(json_field relay.json connections)" -eq 1 ]
check "stats: bytes_down covers the page" [ "$(json_field relay.json bytes_down)" -gt 40000 ]
check "stats: bytes_up counts the request" [ "$(json_field relay.json bytes_up)" -gt 100 ]
check "stats: no cuts" [ "$(json_field relay.json cuts)" -eq 0 ]
fetch "$proxy_port" small.bin relay.small
baseline_ms=$fetch_ms
stop_proxy
check "SIGTERM: exit 0" [ "$proxy_status" -eq 0 ]
check "SIGTERM: stats count both connections" [ "$(json_field relay.json connections)" -eq 2 ]
check "stats: no temporary files left" [ -z "$(ls relay.json.* 2>/dev/null)" ]

# ---- (b) rate: ~40 KB at 64 kbit/s (8000 bytes/s) takes about 5 s ----

start_proxy rate --rate 64
fetch "$proxy_port" blob.bin rate.body
check "rate 64: the page arrives whole" got_file rate.body blob.bin
# Lower bounds check the emulation; upper bounds only catch a hang (the
# machine is shared, so no speed is asserted).
check "rate 64: 40 KB take at least 4 s (took ${fetch_ms} ms)" \
    [ "$fetch_ms" -ge 4000 -a "$fetch_ms" -le 60000 ]
stop_proxy

# ---- rate is one link: 100 connections share it ----
# 100 clients send 200 bytes each while the sink holds them in its backlog.
# One 8000 bytes/s link delivers at most its 1024-byte burst plus 8 bytes
# per ms; a cap per connection would deliver all 20000 bytes at once.

start_proxy shared --rate 64
hold_server
fds=()
start=$(now_ms)
for ((i = 0; i < 100; i++)); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$proxy_port"
    fds+=("$fd")
    printf '%0200d' 0 >&"$fd"
done
sleep 1.5
stop_proxy
elapsed=$(($(now_ms) - start))
for fd in "${fds[@]}"; do
    exec {fd}>&-
done
release_server
sent=$(json_field shared.json bytes_up)
check "rate is shared: $sent bytes up in $elapsed ms stay under 8000 bytes/s" \
    [ "$sent" -le $((1024 + 8 * elapsed + 400)) -a "$sent" -gt 0 ]
check "rate is shared: 100 connections" [ "$(json_field shared.json connections)" -eq 100 ]

# ---- (c) latency: 300 ms each way adds at least 600 ms per round trip ----

start_proxy latency --latency 300
fetch "$proxy_port" small.bin latency.body
check "latency 300: the page arrives whole" got_file latency.body small.bin
check "latency 300: adds >= 600 ms (took $fetch_ms ms, $baseline_ms ms without)" \
    [ $((fetch_ms - baseline_ms)) -ge 600 -a "$fetch_ms" -le 60000 ]
stop_proxy

# ---- (d) cuts ----

start_proxy cut --cut-after 2000
fetch "$proxy_port" blob.bin cut.body
check "cut-after 2000: the client sees EOF early ($fetch_bytes bytes)" \
    [ "$fetch_bytes" -lt 40000 -a "$fetch_ms" -lt 60000 ]
wait_for 5 [ "$(json_field cut.json cuts)" -eq 1 ] || true
check "cut-after 2000: stats count one cut" [ "$(json_field cut.json cuts)" -eq 1 ]
check "cut-after 2000: exactly 2000 bytes passed" \
    [ $(($(json_field cut.json bytes_up) + $(json_field cut.json bytes_down))) -eq 2000 ]
stop_proxy

start_proxy cutmid --cut-after 20000
fetch "$proxy_port" blob.bin cutmid.body
check "cut-after 20000: part of the page, then EOF ($fetch_bytes bytes)" \
    [ "$fetch_bytes" -gt 1000 -a "$fetch_bytes" -lt 40000 ]
stop_proxy

# A fetch of small.bin is about 2 KB of traffic, so with a cut every 5000
# bytes the third fetch is cut, the counter restarts, and the sixth is cut.
start_proxy every --cut-every 5000
results=""
for ((i = 0; i < 6; i++)); do
    fetch "$proxy_port" small.bin every.body
    if got_file every.body small.bin; then
        results+=o
    else
        results+=x
    fi
done
stop_proxy
check "cut-every 5000: fetches 3 and 6 are cut ($results)" [ "$results" = "ooxoox" ]
check "cut-every 5000: stats count two cuts" [ "$(json_field every.json cuts)" -eq 2 ]

# ---- stall ----

start_proxy stall --stall-after 1000 --stall-ms 1500
fetch "$proxy_port" blob.bin stall.body
check "stall: the page arrives whole after the stall" got_file stall.body blob.bin
check "stall 1500 ms: took $fetch_ms ms" [ "$fetch_ms" -ge 1500 -a "$fetch_ms" -le 60000 ]
stop_proxy

# ---- 250 concurrent connections ----

start_proxy many
hold_server
fds=()
for ((i = 0; i < 250; i++)); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$proxy_port"
    fds+=("$fd")
    printf '%0100d' 0 >&"$fd"
done
upstream_conns() {
    [[ $(ss -Htn state established "( dport = :$upstream )" | wc -l) -eq 251 ]]
}
status=0
wait_for 10 upstream_conns || status=1
check "250 connections open upstream at once" [ "$status" -eq 0 ]
sleep 0.3
stop_proxy
for fd in "${fds[@]}"; do
    exec {fd}>&-
done
release_server
check "250 connections: all counted" [ "$(json_field many.json connections)" -eq 250 ]
check "250 connections: every byte delivered" [ "$(json_field many.json bytes_up)" -eq 25000 ]

# ---- bounded memory: a fast sender, a sink that does not read ----

start_proxy memory
rss_kb() {
    awk '/^VmRSS/ { print $2 }' "/proc/$proxy_pid/status"
}
rss_before=$(rss_kb)
hold_server
exec {fd}<>"/dev/tcp/127.0.0.1/$proxy_port"
status=0
timeout 2 dd if=/dev/zero bs=64k count=1600 1>&"$fd" 2>/dev/null || status=$?
rss_after=$(rss_kb)
exec {fd}>&-
release_server
check "memory: a 100 MB sender is held back (dd status $status)" [ "$status" -eq 124 ]
check "memory: grew $(((rss_after - rss_before) / 1024)) MB, under 40 MB" \
    [ $((rss_after - rss_before)) -lt 40960 ]
stop_proxy INT
check "SIGINT: exit 0, stats written" \
    [ "$proxy_status" -eq 0 -a "$(json_field memory.json connections)" -eq 1 ]

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
