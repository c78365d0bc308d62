#!/usr/bin/env bash
# The newcomer's path on a fresh clone: npm install; npx bmw-cardata and npx cardata-simulator right after it;
# npm start with Node-RED's port 1880 taken (and with a busy --port), then running: the editor answers, an
# example flow produces output, Ctrl-C stops everything; every README snippet (test/packages/readme-snippets.test.ts); two
# examples imported into a fresh plain Node-RED (the packed Node-RED package in a new user directory) through the
# admin API give one account node, which, authorized at a simulator with two cars, reads both with a node without a
# VIN (test/e2e/plain-node-red-two-cars.js). The n8n sandbox has test/e2e/n8n-sandbox.sh.
# Prints "quickstart: N passed, 0 failed" when all checks hold.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
port="${QUICKSTART_PORT:-18801}"
# Not the default 4010, which a sandbox already running on this machine may hold.
simport="${QUICKSTART_SIM_PORT:-18810}"
passed=0
pid=""

red=""
cleanup() {
  # The sandbox's whole process group (npm, the sandbox, Node-RED, the simulator), as Ctrl-C would.
  if [ -n "$pid" ]; then kill -INT -- "-$pid" 2>/dev/null || true; sleep 2; kill -9 -- "-$pid" 2>/dev/null || true; fi
  if [ -n "$red" ] && kill -0 "$red" 2>/dev/null; then kill "$red" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

check() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { echo "not ok - $1"; echo "quickstart: $passed passed, 1 failed"; tail -30 "$work/start.log" 2>/dev/null || true; exit 1; }

git clone -q "$root" "$work/repo"
cd "$work/repo"
started=$SECONDS
npm install --no-audit --no-fund --silent >/dev/null 2>&1 || fail "npm install on a fresh clone"
check "npm install on a fresh clone ($((SECONDS - started)) s)"

# Right after install, nothing built yet: the commands build the tree once and answer.
[ ! -e dist ] || fail "a fresh clone has no dist/ yet"
npx bmw-cardata --help > "$work/cli.log" 2>&1 || fail "npx bmw-cardata --help right after npm install"
grep -q "^Usage: bmw-cardata <command>" "$work/cli.log" || fail "npx bmw-cardata --help prints the usage"
npx cardata-simulator --help > "$work/sim.log" 2>&1 || fail "npx cardata-simulator --help right after npm install"
grep -qi "usage: cardata-simulator" "$work/sim.log" || fail "npx cardata-simulator --help prints the usage"
check "npx bmw-cardata --help and npx cardata-simulator --help right after npm install"

# npm start on a busy editor port (anyone who already runs Node-RED): it exits with a clear refusal naming the
# port and the way out, and never prints the "running" banner. The port is held here (or already by another program).
refuses_busy_port() {
  local busy_port="$1" log="$2" named="$3" way_out="$4"
  shift 4
  node -e "require('net').createServer().on('error', () => {}).listen($busy_port, '127.0.0.1')" & blocker=$!
  sleep 1
  set +e
  timeout 120 npm start "$@" > "$log" 2>&1
  local status=$?
  set -e
  kill "$blocker" 2>/dev/null || true
  wait "$blocker" 2>/dev/null || true
  [ "$status" != 0 ] || fail "npm start refuses a busy port $busy_port"
  grep -q "$named" "$log" || fail "npm start names the busy port $busy_port"
  grep -q -- "$way_out" "$log" || fail "npm start says how to pick another port"
  if grep -q "sandbox is running" "$log"; then fail "npm start never says running on a busy port $busy_port"; fi
}

refuses_busy_port 1880 "$work/busy1880.log" "Port 1880 for the Node-RED editor is already in use (is another Node-RED running?)" "npm start -- --port"
check "a busy 1880 is refused with the way out (npm start -- --port N), and no 'running' banner"
refuses_busy_port "$port" "$work/busy.log" "Port $port for the Node-RED editor is already in use" "--port" -- --port "$port"
check "a busy port $port is refused with the way out (--port), and no 'running' banner"

# setsid: npm start runs in its own process group, like a terminal session, so Ctrl-C (SIGINT) reaches it all.
setsid npm start -- --port "$port" --sim-port "$simport" > "$work/start.log" 2>&1 &
pid=$!
# The first start builds the package and installs Dashboard 2 from the npm registry (about a minute on a cold cache).
for _ in $(seq 1 240); do
  grep -q "Press Ctrl-C to stop" "$work/start.log" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 1
done
grep -q "Press Ctrl-C to stop" "$work/start.log" || fail "npm start prints the editor URL"
grep -q "http://127.0.0.1:$port" "$work/start.log" || fail "npm start prints the editor URL"
check "npm start prints the editor URL and what to click first"
grep -q "Dashboard         http://127.0.0.1:$port/dashboard" "$work/start.log" || fail "npm start installs Dashboard 2 and prints the dashboard's URL"
check "npm start installs Dashboard 2 and prints where the dashboard is"

sleep 3
[ ! -s "$work/repo/.sandbox/bmw-cardata-quota.json" ] || fail "the sandbox spends no call at start"
check "the sandbox spent no call at start"

code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")"
[ "$code" = 200 ] || fail "the editor answers (HTTP $code)"
check "the editor answers on port $port"

nodes="$(curl -s -H 'Accept: application/json' "http://127.0.0.1:$port/nodes")"
echo "$nodes" | grep -q '"module":"node-red-contrib-bmw-cardata"' || fail "the package is installed in Node-RED"
check "the package's nodes are loaded"

# The example writes one CSV per car: its file name is an expression around the VIN ("/tmp/…-" & vin & ".csv").
pattern="$(node -e "const f=require('$work/repo/.sandbox/flows.json'); const n=f.find(n=>n.type==='file'&&/csv/i.test(n.filename)); const m=n.filenameType==='jsonata'&&/^\"([^\"]*)\"\s*&\s*vin\s*&\s*\"([^\"]*)\"$/.exec(n.filename); console.log(m?m[1]+'*'+m[2]:n.filename)")"
# shellcheck disable=SC2086
rm -f $pattern
inject="$(node -e "const f=require('$work/repo/.sandbox/flows.json'); const t=f.find(n=>n.type==='tab'&&/charging history/i.test(n.label)); console.log(f.find(n=>n.type==='inject'&&n.z===t.id).id)")"
curl -s -X POST "http://127.0.0.1:$port/inject/$inject" >/dev/null
csv=""
for _ in $(seq 1 30); do
  # shellcheck disable=SC2086
  csv="$(ls $pattern 2>/dev/null | head -1 || true)"
  [ -n "$csv" ] && [ -s "$csv" ] && break
  sleep 1
done
[ -n "$csv" ] && [ -s "$csv" ] || fail "the charging-history example writes its CSV"
rows=$(($(wc -l < "$csv") - 1))
head -1 "$csv" | grep -q '^start,end,' || fail "the CSV has a header"
[ "$rows" -gt 0 ] || fail "the CSV has rows"
check "the charging-history example wrote $csv with $rows sessions"

kill -INT -- "-$pid"
# Every process of the group ends: npm, the sandbox, Node-RED and the simulator.
for _ in $(seq 1 20); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 1; done
kill -0 -- "-$pid" 2>/dev/null && fail "Ctrl-C stops the sandbox, Node-RED and the simulator"
grep -q "Stopped." "$work/start.log" || fail "the sandbox says it stopped"
sleep 1
curl -s -o /dev/null "http://127.0.0.1:$port/" && fail "Node-RED is gone after Ctrl-C"
check "Ctrl-C stops Node-RED and the simulator"
pid=""

# Every README snippet, in the clone, against the simulator.
npx mocha --no-config --require tsx/cjs --timeout 60000 --exit test/packages/readme-snippets.test.ts > "$work/snippets.log" 2>&1 || { cat "$work/snippets.log"; fail "the README snippets run"; }
snippets="$(grep -Eo '[0-9]+ passing' "$work/snippets.log")"
check "the README snippets run ($snippets, $(grep -Eo '[0-9]+ pending' "$work/snippets.log" || echo 0 pending) marked not run)"

# Two examples imported into a fresh plain Node-RED: the packed package installed into a new user directory.
npm run packages --silent > "$work/packages.log" 2>&1 || { tail -20 "$work/packages.log"; fail "npm run packages"; }
tgz="$work/repo/$(ls build/node-red-contrib-bmw-cardata-[0-9]*.tgz)"
user="$work/plain-node-red"
mkdir -p "$user" && (cd "$user" && echo '{"name":"node-red-project","private":true}' > package.json && npm install --no-audit --no-fund --silent "$tgz" >/dev/null 2>&1) || fail "the packed Node-RED package installs into a user directory"
plain="$((port + 1))"
echo "module.exports = { uiHost: '127.0.0.1', uiPort: $plain, flowFile: 'flows.json', credentialSecret: false, telemetry: { enabled: false, updateNotification: false } };" > "$user/settings.js"
node node_modules/node-red/red.js --userDir "$user" --settings "$user/settings.js" > "$work/plain.log" 2>&1 &
red=$!
for _ in $(seq 1 60); do curl -s -H 'Accept: application/json' "http://127.0.0.1:$plain/settings" | grep -q '"version"' && break; sleep 1; done
curl -s -H 'Accept: application/json' "http://127.0.0.1:$plain/nodes" | grep -q '"module":"node-red-contrib-bmw-cardata"' || { tail -20 "$work/plain.log"; fail "the plain Node-RED loads the packed package"; }
# Imported as the editor does: each example on a tab of its own, nodes whose id is already deployed not added again.
for example in "Low state of charge notification" "Containers housekeeping"; do
  curl -s -H 'Accept: application/json' "http://127.0.0.1:$plain/flows" > "$work/deployed.json"
  node -e "
    const fs = require('fs');
    const deployed = JSON.parse(fs.readFileSync('$work/deployed.json', 'utf8'));
    const example = JSON.parse(fs.readFileSync('examples/$example.json', 'utf8'));
    const have = new Set(deployed.map((n) => n.id));
    const tab = 'tab-' + deployed.length;
    const nodes = example.filter((n) => !have.has(n.id)).map((n) => (n.type === 'bmw-cardata-account' ? n : { ...n, z: tab }));
    fs.writeFileSync('$work/import.json', JSON.stringify([...deployed, { id: tab, type: 'tab', label: '$example' }, ...nodes]));
  "
  code="$(curl -s -o "$work/deploy.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' -H 'Node-RED-Deployment-Type: full' --data-binary @"$work/import.json" "http://127.0.0.1:$plain/flows")"
  [ "$code" = 200 ] || [ "$code" = 204 ] || { cat "$work/deploy.out"; fail "the admin API deploys the example $example (HTTP $code)"; }
done
curl -s -H 'Accept: application/json' "http://127.0.0.1:$plain/flows" > "$work/deployed.json"
accounts="$(node -e "const f = require('$work/deployed.json'); console.log(f.filter((n) => n.type === 'bmw-cardata-account').length)")"
tabs="$(node -e "const f = require('$work/deployed.json'); console.log(f.filter((n) => n.type === 'tab').length)")"
users="$(node -e "const f = require('$work/deployed.json'); console.log(new Set(f.filter((n) => n.account).map((n) => n.z)).size)")"
[ "$tabs" = 2 ] && [ "$users" = 2 ] || fail "both examples deployed on their tabs ($tabs tabs, $users using an account)"
[ "$accounts" = 1 ] || fail "two imported examples give one account node, not $accounts"
grep -q "Started flows" "$work/plain.log" || fail "the plain Node-RED started the flows"
check "two examples imported into a fresh plain Node-RED through the admin API: one account node, $tabs tabs"
# A third example, the account pointed at a simulator with two PRIMARY cars and authorized as the Authorize
# button does; a node without a VIN then reads each car.
node test/e2e/plain-node-red-two-cars.js "http://127.0.0.1:$plain" "$work/repo/scripts/bin/cardata-simulator.js" "$work/repo" > "$work/two-cars.log" 2>&1 || { cat "$work/two-cars.log"; tail -20 "$work/plain.log"; fail "the plain Node-RED's account authorized at the simulator reads both cars"; }
check "the plain Node-RED's account authorized at a simulator with two cars: $(tail -1 "$work/two-cars.log")"
kill "$red"; wait "$red" 2>/dev/null || true; red=""

echo "quickstart: $passed passed, 0 failed"
