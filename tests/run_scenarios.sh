#!/usr/bin/env bash
# Runs every executable tests/scenarios/*.sh (or the ones named on the command line), each under a timeout and in its
# own temp root, and counts the TAP `ok` / `not ok` lines they print. A scenario that exits non-zero without a
# `not ok` line (crash, timeout, set -e) counts as one failed test; one that exits 0 without any TAP line counts as
# one passed test. Ends with `scenarios: N passed, M failed`; exit status 1 if M > 0.
#   RD_SCENARIO_TIMEOUT  seconds per scenario (default 300)
#   RD_SCENARIO_DIR      where the scenarios are (default tests/scenarios)
#   RD_KEEP=1            keep cluster dirs and temp roots
# Logs: tmp/test-logs/scenarios/<name>.log
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
dir=${RD_SCENARIO_DIR:-tests/scenarios}
timeout_s=${RD_SCENARIO_TIMEOUT:-300}
logdir=$repo/tmp/test-logs/scenarios
mkdir -p "$logdir"

scripts=()
if [[ $# -gt 0 ]]; then
  for name in "$@"; do
    [[ -f $name ]] || name=$dir/${name%.sh}.sh
    scripts+=("$name")
  done
else
  shopt -s nullglob
  scripts=("$dir"/*.sh)
  shopt -u nullglob
fi

# A temp root the server user can traverse; the clusters of one scenario live inside it so leftovers can be reaped.
new_root() {
  local r
  r=$(mktemp -d "${TMPDIR:-/tmp}/rd-scn.XXXXXX")
  chmod 755 "$r"
  echo "$r"
}

# Stops any server a scenario left running (e.g. killed before its trap could run) and removes its temp root.
reap_root() {
  local root=$1 pidfile data leftovers=0
  while IFS= read -r pidfile; do
    data=$(dirname "$pidfile")
    leftovers=$((leftovers + 1))
    if [[ $(id -u) -eq 0 ]]; then
      (cd "$root" && runuser -u "${RD_OS_USER:-postgres}" -- "${RD_PGBIN:-$repo/tmp/pg/usr/lib/postgresql/15/bin}/pg_ctl" \
        -D "$data" -m immediate -w -t 20 stop) >/dev/null 2>&1 || true
    else
      "${RD_PGBIN:-$repo/tmp/pg/usr/lib/postgresql/15/bin}/pg_ctl" -D "$data" -m immediate -w -t 20 stop \
        >/dev/null 2>&1 || true
    fi
    if [[ -f $pidfile ]]; then
      pid=$(head -n1 "$pidfile")
      if [[ $pid =~ ^[0-9]+$ ]]; then kill -9 "$pid" 2>/dev/null || true; fi
    fi
  done < <(find "$root" -name postmaster.pid -path '*/data/*' 2>/dev/null)
  if [[ ${RD_KEEP:-0} == 1 ]]; then
    echo "# kept $root"
  else
    rm -rf "$root"
  fi
  return $((leftovers > 0))
}

passed=0
failed=0
n=0
t_all=${EPOCHREALTIME/./}
for script in "${scripts[@]}"; do
  n=$((n + 1))
  name=$(basename "$script" .sh)
  log=$logdir/$name.log
  if [[ ! -f $script ]]; then
    echo "not ok $n - $name # no such scenario"
    failed=$((failed + 1))
    continue
  fi
  if [[ ! -x $script ]]; then
    # A forgotten chmod +x would silently drop a test: count it.
    echo "not ok $n - $name # not executable (chmod +x $script)"
    failed=$((failed + 1))
    continue
  fi
  root=$(new_root)
  t0=${EPOCHREALTIME/./}
  rc=0
  # timeout signals the whole process group: the scenario's EXIT trap stops its clusters.
  RD_TMPROOT=$root timeout -k 30 "$timeout_s" "$script" >"$log" 2>&1 </dev/null || rc=$?
  secs=$(((${EPOCHREALTIME/./} - t0) / 100000))
  secs="$((secs / 10)).$((secs % 10))s"
  leaked=0
  reap_root "$root" || leaked=1
  sp=$(grep -cE '^ok\b' "$log" || true)
  sf_all=$(grep -cE '^not ok\b' "$log" || true)
  sf_todo=$(grep -E '^not ok\b' "$log" | grep -ciE '#[[:space:]]*todo' || true)
  sf=$((sf_all - sf_todo))
  sp=$((sp + sf_todo))
  note=
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then note="timed out after ${timeout_s}s"; fi
  if [[ $rc -ne 0 && $sf -eq 0 ]]; then sf=1; fi
  if [[ $rc -eq 0 && $sf -gt 0 ]]; then note="exit 0 but $sf not ok"; fi
  if [[ $rc -eq 0 && $sp -eq 0 && $sf -eq 0 ]]; then sp=1; fi
  if [[ $leaked -eq 1 ]]; then note="${note:+$note; }left a server running"; fi
  passed=$((passed + sp))
  failed=$((failed + sf))
  if [[ $sf -eq 0 && $leaked -eq 0 ]]; then
    echo "ok $n - $name ($sp passed, $secs)"
  else
    echo "not ok $n - $name (exit $rc; $sp passed, $sf failed, $secs)${note:+ # $note}"
    if [[ $(wc -l <"$log") -gt 200 ]]; then echo "# ---- last 200 lines of $log"; fi
    tail -n 200 "$log" | sed 's/^/#   /'
  fi
done
echo "1..$n"
echo "# scenarios: $n script(s) in $(((${EPOCHREALTIME/./} - t_all) / 1000000))s; logs in ${logdir#"$repo"/}"
echo "scenarios: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
