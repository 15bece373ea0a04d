#!/usr/bin/env bash
# Measures client-credentials issuance of a real `tessera serve` over HTTPS
# keep-alive against the RS256 signing floor of this machine, in one run:
#
#   1. builds ./cmd/tessera and bench/tokenload;
#   2. starts `tessera serve` on a free loopback port with a fresh data dir;
#   3. closed loop (CONCURRENCY workers): maximum tokens/s against the RS256
#      floor measured in the same tokenload process, interleaved: PAIRS
#      pairs of a FLOOR_SLICE floor slice (load paused) and a SLICE load
#      slice, so that foreign load on a shared machine weighs on both alike
#      (10 × (1 s + 2 s) by default: 20 s of load);
#   4. open loop at RATE_FRACTION (0.8) of that floor: p50/p99 at that load,
#      without coordinated omission;
#   5. open loop at RATE_FRACTION of the closed-loop maximum: latency at 80 %
#      of what this server actually sustains here;
#   6. stops the server;
#   7. reference: the same interleaved closed loop against bench/signonly, an
#      HTTPS server on the same certificate that only signs (no directory,
#      no client check, no audit log): the share of the floor that Go's HTTPS
#      stack plus one signature per request leaves on this machine;
#   8. prints a summary.
#
# Environment knobs (defaults in brackets):
#   PAIRS [10]  SLICE [2s]  FLOOR_SLICE [1s]  CONCURRENCY [8]   closed loop
#   DURATION [20s]  OPEN_CONCURRENCY [64]  RATE_FRACTION [0.8]  open loops
#   WARMUP [3s]
#   SERVER_PROCS [serve's own]  LOAD_PROCS [1]   GOMAXPROCS of server / load generator
#                   (serve's own: the CPUs, plus one per CPU when OpenSSL signs)
#   SIGNING_BACKEND [auto]  RSA implementation, passed to both `tessera serve
#                   --signing-backend` and `tokenload -signing-backend` so that the floor
#                   signs with what the server signs with: auto (the system's OpenSSL
#                   libcrypto if it loads, else Go's crypto/rsa), openssl or go. The summary
#                   also shows Go's crypto/rsa rate as a reference when the backend is not Go.
#   NICE [unset]    e.g. -10: run server and load generator at that nice level (and, with
#                   sched_autogroup, in a new session whose autogroup gets that nice level,
#                   as plain nice does not reach across sessions), so that other processes
#                   on a shared machine disturb the figures less. Negative values need
#                   root; it slows those other processes down while it runs.
#   KEEP=1 keeps the work directory (server log, JSON results).
#   REFERENCE [1]   0 skips step 7.
# The whole script takes about 130 s with the defaults plus the build (an
# overloaded open loop may add up to 10 s draining its queue).
set -euo pipefail

if [[ -n "${NICE:-}" && -z "${TESSERA_BENCH_SESSION:-}" ]] && command -v setsid >/dev/null; then
	TESSERA_BENCH_SESSION=1 exec setsid -w "$0" "$@"
fi
if [[ -n "${NICE:-}" && -w /proc/self/autogroup ]]; then
	echo "$NICE" >/proc/self/autogroup 2>/dev/null || echo "cannot set the autogroup nice level to $NICE" >&2
fi

cd "$(dirname "$0")/.."
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-3s}
PAIRS=${PAIRS:-10}
SLICE=${SLICE:-2s}
FLOOR_SLICE=${FLOOR_SLICE:-1s}
CONCURRENCY=${CONCURRENCY:-8}
OPEN_CONCURRENCY=${OPEN_CONCURRENCY:-64}
RATE_FRACTION=${RATE_FRACTION:-0.8}
NCPU=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc)
SERVER_ENV=()
if [[ -n "${SERVER_PROCS:-}" ]]; then SERVER_ENV=(GOMAXPROCS="$SERVER_PROCS"); fi
LOAD_PROCS=${LOAD_PROCS:-1}
SIGNING_BACKEND=${SIGNING_BACKEND:-auto}
NICE_CMD=()
if [[ -n "${NICE:-}" ]]; then NICE_CMD=(nice -n "$NICE"); fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tessera-bench.XXXXXX")
SERVER_PID=""
REF_PID=""
cleanup() {
	for pid in "$SERVER_PID" "$REF_PID"; do
		if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
	if [[ "${KEEP:-}" == 1 ]]; then
		echo "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== build"
go build -o "$WORK/tessera" ./cmd/tessera
go build -o "$WORK/tokenload" ./bench/tokenload
go build -o "$WORK/signonly" ./bench/signonly

# free_port: a loopback port nothing answers on.
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
	done
	echo "no free port found" >&2
	return 1
}
PORT=$(free_port)
URL="https://127.0.0.1:$PORT"

echo "== start tessera serve on $URL (GOMAXPROCS=${SERVER_PROCS:-default}, signing backend $SIGNING_BACKEND, log $WORK/server.log)"
env "${SERVER_ENV[@]}" "${NICE_CMD[@]}" "$WORK/tessera" serve --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" \
	--signing-backend "$SIGNING_BACKEND" --log-level warn >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

BOOT="$WORK/data/bootstrap.json"
ready=""
for _ in $(seq 1 300); do
	kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited:" >&2; cat "$WORK/server.log" >&2; exit 1; }
	if [[ -s "$BOOT" ]]; then
		CA=$(sed -n 's/.*"caFile": *"\([^"]*\)".*/\1/p' "$BOOT")
		if [[ -n "$CA" ]] && curl -fsS --max-time 2 --cacert "$CA" "$URL/healthz" >/dev/null 2>&1; then
			ready=1; break
		fi
	fi
	sleep 0.1
done
[[ -n "$ready" ]] || { echo "server not healthy after 30 s" >&2; cat "$WORK/server.log" >&2; exit 1; }

LOAD=("${NICE_CMD[@]}" env GOMAXPROCS="$LOAD_PROCS" "$WORK/tokenload" -bootstrap "$BOOT" -url "$URL" -server-pid "$SERVER_PID"
	-warmup "$WARMUP" -duration "$DURATION" -signing-backend "$SIGNING_BACKEND")
# field FILE NAME: a number from a tokenload -json file (no jq needed).
field() { sed -n "s/^ *\"$2\": *\([^,]*\),*$/\1/p" "$1" | head -1; }
# sfield FILE NAME: a string from a tokenload -json file, without its quotes.
sfield() { sed -n "s/^ *\"$2\": *\"\(.*\)\",*$/\1/p" "$1" | head -1; }
num() { printf '%.*f' "$2" "${1:-0}"; }

echo
echo "NOTE: the server and the load generator share this machine's $NCPU CPUs"
echo "      (server GOMAXPROCS=${SERVER_PROCS:-default}, load generator GOMAXPROCS=$LOAD_PROCS; the floor is always"
echo "      measured on $NCPU goroutines with GOMAXPROCS=$NCPU while the server is idle)."
echo "      Load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)${NICE:+; server and load generator at nice $NICE}"
echo
echo "== 1. closed loop: maximum throughput ($CONCURRENCY connections), $PAIRS × ($FLOOR_SLICE floor + $SLICE load)"
"${LOAD[@]}" -label max-throughput -interleave "$PAIRS" -slice "$SLICE" -floor-slice "$FLOOR_SLICE" \
	-concurrency "$CONCURRENCY" -json "$WORK/closed.json"
FLOOR_RATE=$(field "$WORK/closed.json" rs256Floor)
MAX_RATE=$(field "$WORK/closed.json" tokensPerSecond)
echo
echo "== 2. open loop at ${RATE_FRACTION} × RS256 floor (floor ${FLOOR_RATE%.*}/s from run 1; $OPEN_CONCURRENCY connections)"
"${LOAD[@]}" -label latency-at-floor-load -floor 0 -floor-rate "$FLOOR_RATE" -rate-fraction "$RATE_FRACTION" \
	-concurrency "$OPEN_CONCURRENCY" -json "$WORK/open.json"
echo
RATE2=$(awk -v f="$RATE_FRACTION" -v m="$MAX_RATE" 'BEGIN{printf "%.0f", f*m}')
echo "== 3. open loop at ${RATE_FRACTION} × closed-loop maximum (${RATE2}/s; $OPEN_CONCURRENCY connections)"
"${LOAD[@]}" -label latency-at-server-load -floor 0 -floor-rate "$FLOOR_RATE" -rate "$RATE2" \
	-concurrency "$OPEN_CONCURRENCY" -json "$WORK/open2.json"
echo

kill -TERM "$SERVER_PID"
for _ in $(seq 1 150); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SERVER_PID" 2>/dev/null; then echo "server did not stop in 15 s" >&2; else wait "$SERVER_PID" || true; fi
SERVER_PID=""
if grep -q '"level":"ERROR"' "$WORK/server.log"; then
	echo "server logged errors:"; grep '"level":"ERROR"' "$WORK/server.log" | head -5
fi

r=$WORK/reference.json
if [[ "${REFERENCE:-1}" != 0 ]]; then
	REF_PORT=$(free_port)
	echo "== 4. reference: the closed loop of run 1 against bench/signonly, an HTTPS server that only signs (127.0.0.1:$REF_PORT)"
	"${NICE_CMD[@]}" "$WORK/signonly" -listen "127.0.0.1:$REF_PORT" -cert "$WORK/data/server.pem" -key "$WORK/data/server-key.pem" \
		-signing-backend "$SIGNING_BACKEND" >"$WORK/signonly.log" 2>&1 &
	REF_PID=$!
	for _ in $(seq 1 100); do
		kill -0 "$REF_PID" 2>/dev/null || { echo "signonly exited:" >&2; cat "$WORK/signonly.log" >&2; exit 1; }
		(exec 3<>"/dev/tcp/127.0.0.1/$REF_PORT") 2>/dev/null && break
		sleep 0.1
	done
	"${NICE_CMD[@]}" env GOMAXPROCS="$LOAD_PROCS" "$WORK/tokenload" -bootstrap "$BOOT" -url "https://127.0.0.1:$REF_PORT" \
		-server-pid "$REF_PID" -warmup "$WARMUP" -signing-backend "$SIGNING_BACKEND" -label sign-only-reference \
		-interleave "$PAIRS" -slice "$SLICE" -floor-slice "$FLOOR_SLICE" -concurrency "$CONCURRENCY" -json "$r"
	kill -TERM "$REF_PID"; wait "$REF_PID" 2>/dev/null || true
	REF_PID=""
	echo
fi

c=$WORK/closed.json o=$WORK/open.json o2=$WORK/open2.json
echo "================ summary ================"
printf 'machine:          %s CPUs (%s), server GOMAXPROCS=%s, load generator GOMAXPROCS=%s, shared CPUs%s\n' \
	"$NCPU" "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo 2>/dev/null | head -1)" "${SERVER_PROCS:-default}" "$LOAD_PROCS" "${NICE:+, nice $NICE}"
GO_REF=$(field "$c" rs256FloorGo)
printf 'RS256 floor:      %s (%s): %s sig/s single-core; %s sig/s on %s cores (interleaved with run 1); %s per CPU-second%s\n' \
	"$(sfield "$c" rs256Backend)" "$SIGNING_BACKEND" \
	"$(num "$(field "$c" rs256FloorSingle)" 0)" "$(num "$(field "$c" rs256Floor)" 0)" "$NCPU" \
	"$(num "$(field "$c" rs256FloorPerCPUSecond)" 0)" \
	"${GO_REF:+; Go crypto/rsa $(num "$GO_REF" 0) sig/s on $NCPU cores (reference)}"
printf 'closed loop:      %s tokens/s = %s%% of the floor (median of %s pairs %s%%; target ≥ 85%%); errors: %s\n' \
	"$(num "$(field "$c" tokensPerSecond)" 0)" "$(num "$(field "$c" ratioToFloorPercent)" 1)" "$PAIRS" \
	"$(num "$(field "$c" ratioMedianPercent)" 1)" "$(grep -q '"errors"' "$c" && echo yes || echo none)"
printf '                  p50 %s ms, p99 %s ms; server CPU per token = %s%% signing; quiet-machine projection %s%%\n' \
	"$(field "$c" p50ms)" "$(field "$c" p99ms)" "$(num "$(field "$c" serverEfficiencyPercent)" 1)" \
	"$(num "$(field "$c" projectedQuietRatioPercent)" 1)"
if [[ -s "$r" ]]; then
	printf 'reference:        a server that only signs (bench/signonly): %s tokens/s = %s%% of the floor (median of %s pairs %s%%);\n' \
		"$(num "$(field "$r" tokensPerSecond)" 0)" "$(num "$(field "$r" ratioToFloorPercent)" 1)" "$PAIRS" \
		"$(num "$(field "$r" ratioMedianPercent)" 1)"
	printf '                  p50 %s ms, p99 %s ms; server CPU per token = %s%% signing; Tessera issues %s%% as many tokens/s\n' \
		"$(field "$r" p50ms)" "$(field "$r" p99ms)" "$(num "$(field "$r" serverEfficiencyPercent)" 1)" \
		"$(awk -v a="$(field "$c" ratioToFloorPercent)" -v b="$(field "$r" ratioToFloorPercent)" 'BEGIN{printf "%.0f", (b > 0 ? 100*a/b : 0)}')"
fi
for f in "$o" "$o2"; do
	printf 'open loop:        %s requests/s offered, %s tokens/s served; p50 %s ms, p99 %s ms (target ≤ 10 ms), max %s ms; errors: %s, unsent: %s\n' \
		"$(num "$(field "$f" targetRate)" 0)" "$(num "$(field "$f" tokensPerSecond)" 0)" \
		"$(field "$f" p50ms)" "$(field "$f" p99ms)" "$(field "$f" maxms)" \
		"$(grep -q '"errors"' "$f" && echo yes || echo none)" "$(num "$(field "$f" unsent)" 0)"
done
printf 'CPU (cores):      run 1 / 2 / 3: server %s / %s / %s, load generator %s / %s / %s, other processes %s / %s / %s\n' \
	"$(num "$(field "$c" cpuServerCores)" 2)" "$(num "$(field "$o" cpuServerCores)" 2)" "$(num "$(field "$o2" cpuServerCores)" 2)" \
	"$(num "$(field "$c" cpuLoadGeneratorCores)" 2)" "$(num "$(field "$o" cpuLoadGeneratorCores)" 2)" "$(num "$(field "$o2" cpuLoadGeneratorCores)" 2)" \
	"$(num "$(field "$c" cpuOtherCores)" 2)" "$(num "$(field "$o" cpuOtherCores)" 2)" "$(num "$(field "$o2" cpuOtherCores)" 2)"
noisy=""
for x in "$(field "$c" rs256FloorOtherCores)" "$(field "$c" cpuOtherCores)" \
	"$(field "$o" cpuOtherCores)" "$(field "$o2" cpuOtherCores)"; do
	if awk -v x="${x:-0}" 'BEGIN{exit !(x > 0.1)}'; then noisy=1; fi
done
if [[ -n "$noisy" ]]; then
	echo "WARNING: other processes used more than 0.1 core during a floor or a load run: the figures are disturbed"
	echo "         (the interleaved ratio of run 1 least so, the open-loop latencies most); rerun on a quiet machine."
fi
