#!/usr/bin/env bash
# The README quick start on a fresh clone: npm ci, npm start in the background, the editor answers, an example
# flow produces output, Ctrl-C stops everything. Prints "quickstart: N passed, 0 failed" when all checks hold.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
port="${QUICKSTART_PORT:-18801}"
passed=0
pid=""

cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -INT "$pid" 2>/dev/null || true; sleep 2; kill -9 "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

check() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { echo "not ok - $1"; echo "quickstart: $passed passed, 1 failed"; tail -30 "$work/start.log" 2>/dev/null || true; exit 1; }

git clone -q "$root" "$work/repo"
cd "$work/repo"
npm ci --silent >/dev/null 2>&1 || fail "npm ci on a fresh clone"
check "npm ci on a fresh clone"

# A busy editor port (anyone who already runs Node-RED): a clear refusal naming the port and --port, no banner.
node -e "require('net').createServer().listen($port, '127.0.0.1')" & blocker=$!
sleep 1
set +e
npm start -- --port "$port" > "$work/busy.log" 2>&1
busy=$?
set -e
kill "$blocker" 2>/dev/null || true
wait "$blocker" 2>/dev/null || true
[ "$busy" != 0 ] || fail "npm start refuses a busy port"
grep -q "Port $port for the Node-RED editor is already in use" "$work/busy.log" || fail "npm start names the busy port"
grep -q -- "--port" "$work/busy.log" || fail "npm start says how to pick another port"
grep -q "sandbox is running" "$work/busy.log" && fail "npm start never says running on a busy port"
check "a busy port $port is refused with the way out (--port), and no 'running' banner"

# setsid: npm start runs in its own process group, like a terminal session, so Ctrl-C (SIGINT) reaches it all.
setsid npm start -- --port "$port" > "$work/start.log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  grep -q "Press Ctrl-C to stop" "$work/start.log" 2>/dev/null && break
  sleep 1
done
grep -q "Press Ctrl-C to stop" "$work/start.log" || fail "npm start prints the editor URL"
grep -q "http://127.0.0.1:$port" "$work/start.log" || fail "npm start prints the editor URL"
check "npm start prints the editor URL and what to click first"

sleep 3
[ ! -s "$work/repo/.sandbox/bmw-cardata-quota.json" ] || fail "the sandbox spends no call at start"
check "the sandbox spent no call at start"

code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")"
[ "$code" = 200 ] || fail "the editor answers (HTTP $code)"
check "the editor answers on port $port"

nodes="$(curl -s -H 'Accept: application/json' "http://127.0.0.1:$port/nodes")"
echo "$nodes" | grep -q '"module":"n8n-nodes-bmw-cardata"' || fail "the package is installed in Node-RED"
check "the package's nodes are loaded"

csv="$(node -e "const f=require('$work/repo/.sandbox/flows.json'); const n=f.find(n=>n.type==='file'&&/csv/i.test(n.filename)); console.log(n.filename)")"
rm -f "$csv"
inject="$(node -e "const f=require('$work/repo/.sandbox/flows.json'); const t=f.find(n=>n.type==='tab'&&/charging history/i.test(n.label)); console.log(f.find(n=>n.type==='inject'&&n.z===t.id).id)")"
curl -s -X POST "http://127.0.0.1:$port/inject/$inject" >/dev/null
for _ in $(seq 1 30); do [ -s "$csv" ] && break; sleep 1; done
[ -s "$csv" ] || fail "the charging-history example writes its CSV"
rows=$(($(wc -l < "$csv") - 1))
head -1 "$csv" | grep -q '^start,end,' || fail "the CSV has a header"
[ "$rows" -gt 0 ] || fail "the CSV has rows"
check "the charging-history example wrote $csv with $rows sessions"

kill -INT -- "-$pid"
for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
kill -0 "$pid" 2>/dev/null && fail "Ctrl-C stops the sandbox"
grep -q "Stopped." "$work/start.log" || fail "the sandbox says it stopped"
sleep 1
curl -s -o /dev/null "http://127.0.0.1:$port/" && fail "Node-RED is gone after Ctrl-C"
check "Ctrl-C stops Node-RED and the simulator"
pid=""

echo "quickstart: $passed passed, 0 failed"
