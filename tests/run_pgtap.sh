#!/usr/bin/env bash
# Runs the pgTAP suites tests/pgtap/*.sql (or the files named on the command line) with pg_prove against one
# throwaway sandbox cluster (tests/lib/cluster.sh). pgtap and our extension are created once per run, in the
# database the agents watch; each file creates what else it needs (wrap it in BEGIN ... ROLLBACK).
#   RD_PRELOAD     shared_preload_libraries (default 'pg_stat_statements,rubberduck_agents')
#   RD_EXTENSION   extension created before the suites (default rubberduck_agents; '' = none)
#   RD_PGTAP_CONF  extra postgresql.conf lines, newline-separated (default: rubberduck.naptime = '200ms')
# Ends with `pgtap: N passed, M failed` (N/M count TAP tests; a file that dies or misses its plan counts as a
# failure); exit status 1 if M > 0.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
# shellcheck source=tests/lib/cluster.sh
source tests/lib/cluster.sh
logdir=$repo/tmp/test-logs/pgtap
mkdir -p "$logdir"
passed=0
failed=0
finish() {
  echo "pgtap: $passed passed, $failed failed"
  exit $((failed > 0))
}

if [[ $# -gt 0 ]]; then
  files=("$@")
else
  shopt -s nullglob
  files=(tests/pgtap/*.sql)
  shopt -u nullglob
fi
if [[ ${#files[@]} -eq 0 ]]; then
  echo "# no tests in tests/pgtap"
  finish
fi
if ! command -v pg_prove >/dev/null; then
  echo "not ok - pg_prove not found (apt-get install libtap-parser-sourcehandler-pgtap-perl)"
  failed=1
  finish
fi
if [[ ! -x $RD_PGBIN/postgres ]]; then
  echo "not ok - no sandbox at $RD_PGBIN (run 'make sandbox')"
  failed=1
  finish
fi

# pgtap reaches the sandbox only if it was installed before the sandbox copy was made: copy it in if missing.
share=$("$RD_PGBIN/pg_config" --sharedir)/extension
if [[ ! -f $share/pgtap.control ]]; then
  sys=/usr/share/postgresql/15/extension
  if compgen -G "$sys/pgtap*" >/dev/null; then
    cp "$sys"/pgtap* "$share/"
    chmod a+r "$share"/pgtap*
    echo "# copied pgtap from $sys into the sandbox"
  else
    echo "not ok - pgtap is not installed (apt-get install postgresql-15-pgtap)"
    failed=1
    finish
  fi
fi

conf=()
while IFS= read -r line; do
  [[ -n $line ]] && conf+=("$line")
done <<<"${RD_PGTAP_CONF-rubberduck.naptime = '200ms'}"
cluster_start "${conf[@]}"
cluster_psql -q -c 'CREATE EXTENSION pgtap'
ext=${RD_EXTENSION-rubberduck_agents}
if [[ -n $ext ]] && ! cluster_psql -q -c "CREATE EXTENSION \"$ext\"" 2>"$logdir/create_extension.err"; then
  echo "not ok - CREATE EXTENSION $ext"
  sed 's/^/#   /' "$logdir/create_extension.err"
  failed=$((failed + 1))
fi

n=0
for f in "${files[@]}"; do
  n=$((n + 1))
  name=$(basename "$f" .sql)
  log=$logdir/$name.log
  rc=0
  # pg_prove (and its psql) run as the caller so the files may sit in root-only dirs; -v prints every TAP line.
  pg_prove -v --psql-bin "$RD_PGBIN/psql" -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$PGDATABASE" \
    --ext .sql "$f" >"$log" 2>&1 </dev/null || rc=$?
  # TAP lines are "ok N ..." / "not ok N ..."; a TODO failure counts as a pass, like pg_prove does.
  fp=$(grep -cE '^[[:space:]]*ok [0-9]+' "$log" || true)
  todo=$(grep -E '^[[:space:]]*not ok [0-9]+' "$log" | grep -ciE '#[[:space:]]*todo' || true)
  fp=$((fp + todo))
  # pg_prove's own count includes planned tests that never ran (the file died mid-way).
  ff=$(sed -nE 's/^Failed ([0-9]+)\/[0-9]+ subtests.*/\1/p' "$log" | head -n1)
  [[ -n $ff ]] || ff=$(($(grep -cE '^[[:space:]]*not ok [0-9]+' "$log" || true) - todo))
  # Bad plan, SQL error before any test, no plan: pg_prove fails the file even when every printed line was ok.
  if [[ $rc -ne 0 && $ff -eq 0 ]]; then ff=1; fi
  passed=$((passed + fp))
  failed=$((failed + ff))
  if [[ $rc -eq 0 ]]; then
    echo "ok $n - $f ($fp passed)"
  else
    echo "not ok $n - $f ($fp passed, $ff failed)"
    sed 's/^/#   /' "$log"
  fi
done
echo "1..$n"
finish
