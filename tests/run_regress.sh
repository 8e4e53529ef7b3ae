#!/usr/bin/env bash
# Runs the pg_regress suite (sql/*.sql vs expected/*.out, order from tests/schedule) on a --temp-instance of the
# sandbox server (`make sandbox`) with tests/regress.conf. pg_regress runs as the server's OS user in a temp copy of
# the inputs, so the checkout may live in a root-only dir. On failure regression.diffs/regression.out/results/ are
# copied back to the checkout root and the diffs printed.
#   tests/run_regress.sh            the whole schedule
#   tests/run_regress.sh foo bar    only sql/foo.sql and sql/bar.sql
#   RD_PGBIN      sandbox bin dir (default tmp/pg/usr/lib/postgresql/15/bin)
#   RD_PRELOAD    replaces shared_preload_libraries from tests/regress.conf ('' or none = no preload)
#   RD_KEEP=1     keep the temp dir
# Ends with `regress: N passed, M failed`; exit status 1 if M > 0.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
pgbin=${RD_PGBIN:-$repo/tmp/pg/usr/lib/postgresql/15/bin}
pg_regress=$pgbin/../lib/pgxs/src/test/regress/pg_regress
logdir=$repo/tmp/test-logs
mkdir -p "$logdir"
passed=0
failed=0

as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u "${RD_OS_USER:-postgres}" -- "$@"; else "$@"; fi; }
finish() {
  echo "regress: $passed passed, $failed failed"
  exit $((failed > 0))
}

# Every sql/*.sql must be in the schedule: a test that is never run is a silent hole.
shopt -s nullglob
[[ -f tests/schedule ]] || { echo "not ok - tests/schedule is missing"; failed=1; finish; }
listed=" $(sed -nE 's/^[[:space:]]*test:[[:space:]]*//p' tests/schedule | tr -s ' \t' '  ' | tr '\n' ' ') "
for f in sql/*.sql; do
  t=$(basename "$f" .sql)
  if [[ $listed != *" $t "* ]]; then
    echo "not ok - $f is not listed in tests/schedule"
    failed=$((failed + 1))
  fi
done

if [[ $# -gt 0 ]]; then
  tests=("$@")
else
  read -r -a tests <<<"$listed"
fi
if [[ ${#tests[@]} -eq 0 ]]; then
  echo "# no tests in tests/schedule"
  finish
fi
if [[ ! -x $pg_regress || ! -x $pgbin/postgres ]]; then
  echo "not ok - no sandbox at $pgbin (run 'make sandbox')"
  failed=$((failed + 1))
  finish
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rd-regress.XXXXXX")
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  if [[ ${RD_KEEP:-0} == 1 ]]; then echo "# kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
for d in sql expected input output data; do
  if [[ -d $d ]]; then cp -a "$d" "$work/"; fi
done
mkdir -p "$work/sql" "$work/expected"
cp tests/schedule "$work/schedule"
cp tests/regress.conf "$work/regress.conf"
if [[ -n ${RD_PRELOAD+set} ]]; then
  preload=$RD_PRELOAD
  [[ $preload == none ]] && preload=
  sed -i -E "s/^[[:space:]]*shared_preload_libraries[[:space:]]*=.*/shared_preload_libraries = '$preload'/" \
    "$work/regress.conf"
fi
# pg_regress aborts the whole run on a missing expected file: give it an empty one so only that test fails (its
# output lands in results/<test>.out, copied to the checkout, ready to be reviewed and moved to expected/).
for t in "${tests[@]}"; do
  if [[ ! -f $work/expected/$t.out && ! -f $work/output/$t.source ]]; then
    echo "# expected/$t.out is missing: the test will fail; review results/$t.out and copy it to expected/"
    : >"$work/expected/$t.out"
  fi
done
if [[ $(id -u) -eq 0 ]]; then chown -R "${RD_OS_USER:-postgres}:" "$work"; fi
chmod -R u+rwX "$work"

args=(--temp-instance="$work/tmp_check" --bindir="$pgbin" --inputdir="$work" --outputdir="$work"
  --temp-config="$work/regress.conf" --dbname=contrib_regression --no-locale --encoding=UTF8)
if [[ $# -gt 0 ]]; then args+=("${tests[@]}"); else args+=(--schedule="$work/schedule"); fi

rc=0
(cd "$work" && as_pg "$pg_regress" "${args[@]}") 2>&1 | tee "$logdir/regress.log" || rc=$?

# Per-test lines look like "test foo ... ok 12 ms" or, in a parallel group, "     foo ... FAILED 12 ms".
ok=$(grep -cE '^[[:space:]]*(test[[:space:]]+)?[^[:space:]]+[[:space:]]+\.\.\. (ok|failed \(ignored\))' \
  "$logdir/regress.log" || true)
bad=$(grep -cE '^[[:space:]]*(test[[:space:]]+)?[^[:space:]]+[[:space:]]+\.\.\. FAILED' "$logdir/regress.log" || true)
passed=$((passed + ok))
failed=$((failed + bad))
if [[ $rc -ne 0 && $bad -eq 0 ]]; then
  echo "not ok - pg_regress exited with status $rc"
  failed=$((failed + 1))
fi
if [[ -f $work/log/postmaster.log ]]; then cp "$work/log/postmaster.log" "$logdir/regress-postmaster.log"; fi
rm -f "$repo/regression.diffs" "$repo/regression.out"
if [[ $rc -ne 0 ]]; then
  for f in regression.diffs regression.out; do
    if [[ -f $work/$f ]]; then cp "$work/$f" "$repo/$f"; fi
  done
  if [[ -d $work/results ]]; then rm -rf "$repo/results" && cp -a "$work/results" "$repo/results"; fi
  if [[ -f $repo/regression.diffs ]]; then
    echo "# ---- regression.diffs (first 400 lines; full file: $repo/regression.diffs)"
    head -n 400 "$repo/regression.diffs"
  fi
  if [[ -f $logdir/regress-postmaster.log ]]; then
    echo "# ---- last 40 lines of the temp instance's log ($logdir/regress-postmaster.log)"
    tail -n 40 "$logdir/regress-postmaster.log"
  fi
fi
finish
