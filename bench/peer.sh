#!/usr/bin/env bash
# Stepdown beside PostGraphile v5 over the same rows (a benchmark, not part
# of the test suite or CI): installs Node 22 and postgraphile@5 from npm into
# target/peer (ignored by git), then runs the reads benchmark on PostgreSQL
# with the peer started on the bench's database. Prints both and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
peer="$PWD/target/peer"
if [ ! -x "$peer/node_modules/.bin/postgraphile" ] || [ ! -x "$peer/node_modules/.bin/node" ]; then
  mkdir -p "$peer"
  npm install --no-audit --no-fund --prefix "$peer" node@22 postgraphile@5
fi
export STEPDOWN_PEER_DIR="$peer"
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
exec cargo bench -p stepdown-tests --bench reads
