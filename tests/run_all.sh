#!/usr/bin/env bash
# The body of `make test`: build (-Werror), unit (CTest), sandbox, regress, pgtap, scenarios, compat (PostgreSQL's
# own regression suite with and without our hooks). Counts tests, not
# stages: each stage contributes its own pass/fail counts (build and sandbox count as one test each; a stage that
# could not run counts as one failure). Prints each stage's time, a summary table, and last exactly one line
# `N passed, M failed`; exit status 1 if M > 0.
#   tests/run_all.sh [stage...]   run only these stages (default: all, in order)
#   RD_INCREMENTAL=1              build without -B (faster, but objects built before without -Werror are not
#                                 rechecked)
# Logs: tmp/test-logs/<stage>.log
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
logdir=$repo/tmp/test-logs
mkdir -p "$logdir"
all_stages=(build unit sandbox regress pgtap scenarios compat)
if [[ $# -gt 0 ]]; then stages=("$@"); else stages=("${all_stages[@]}"); fi
for s in "${stages[@]}"; do
  [[ " ${all_stages[*]} " == *" $s "* ]] || { echo "unknown stage '$s' (stages: ${all_stages[*]})" >&2; exit 2; }
done
# --no-print-directory: under `make test` the sub-makes would add "Entering directory" lines to their output.
make=("${MAKE:-make}" --no-print-directory)
jobs=$(nproc 2>/dev/null || echo 2)
sandbox_ok=
[[ -x ${RD_PGBIN:-$repo/tmp/pg/usr/lib/postgresql/15/bin}/postgres ]] && sandbox_ok=1

declare -A st_pass st_fail st_time st_note
total_pass=0
total_fail=0

now_us() { echo "${EPOCHREALTIME/./}"; }
fmt_secs() { local ds=$(($1 / 100000)); echo "$((ds / 10)).$((ds % 10))s"; }

# run_stage NAME CMD... — runs CMD with output to the stage log (and the console), returns its status.
run_stage() {
  local name=$1
  shift
  echo "==> $name: $*"
  local rc=0
  "$@" </dev/null 2>&1 | tee "$logdir/$name.log" || rc=$?
  return "$rc"
}

# quiet_stage NAME CMD... — like run_stage, but prints the output only when the command fails (build noise).
quiet_stage() {
  local name=$1
  shift
  echo "==> $name: $*"
  local rc=0
  "$@" </dev/null >"$logdir/$name.log" 2>&1 || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "# ---- last 100 lines of $logdir/$name.log"
    tail -n 100 "$logdir/$name.log"
  fi
  return "$rc"
}

# Counts from a runner's last "<stage>: N passed, M failed" line; none at all means the runner broke.
parse_counts() {
  local name=$1 rc=$2 line
  line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed$" "$logdir/$name.log" | tail -n1 || true)
  if [[ -z $line ]]; then
    st_pass[$name]=0 st_fail[$name]=1 st_note[$name]="no result line (runner broke; exit $rc)"
    return
  fi
  line=${line#"$name: "}
  st_pass[$name]=${line%% passed*}
  line=${line#* passed, }
  st_fail[$name]=${line%% failed}
  if [[ $rc -ne 0 && ${st_fail[$name]} -eq 0 ]]; then
    st_fail[$name]=1 st_note[$name]="exit $rc with no failed test"
  fi
}

for stage in "${stages[@]}"; do
  t0=$(now_us)
  rc=0
  st_note[$stage]=
  case $stage in
  build)
    flags=(-j"$jobs" RD_WERROR=-Werror)
    [[ ${RD_INCREMENTAL:-0} == 1 ]] || flags=(-B "${flags[@]}")
    quiet_stage build "${make[@]}" "${flags[@]}" || rc=$?
    st_pass[build]=$((rc == 0)) st_fail[build]=$((rc != 0))
    ;;
  unit)
    quiet_stage unit "${make[@]}" unit || rc=$?
    line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$logdir/unit.log" | tail -n1 || true)
    if [[ -n $line ]]; then
      read -r _ _ _ nf _ _ _ _ nt <<<"$line"
      st_pass[unit]=$((nt - nf)) st_fail[unit]=$nf
      if [[ $rc -ne 0 && $nf -eq 0 ]]; then st_fail[unit]=1 st_note[unit]="make unit failed after ctest"; fi
    else
      st_pass[unit]=0 st_fail[unit]=1 st_note[unit]="ctest did not run (build failed?)"
    fi
    grep -E '^[0-9]+% tests passed|\*\*\*Failed|\(Failed\)' "$logdir/unit.log" || true
    ;;
  sandbox)
    quiet_stage sandbox "${make[@]}" sandbox || rc=$?
    st_pass[sandbox]=$((rc == 0)) st_fail[sandbox]=$((rc != 0))
    sandbox_ok=
    if [[ $rc -eq 0 ]]; then
      # sandbox_install.sh prints the bin dir (its last line; search in case make adds lines after it).
      while IFS= read -r line; do
        if [[ $line == /* && -x $line/postgres ]]; then RD_PGBIN=$line; fi
      done <"$logdir/sandbox.log"
      export RD_PGBIN
      if [[ -x ${RD_PGBIN:-}/postgres ]]; then
        sandbox_ok=1
      else
        st_pass[sandbox]=0 st_fail[sandbox]=1 st_note[sandbox]="no bin dir in the output of make sandbox"
      fi
    fi
    ;;
  regress | pgtap | scenarios)
    if [[ -z $sandbox_ok ]]; then
      echo "==> $stage: not run (no sandbox)"
      st_pass[$stage]=0 st_fail[$stage]=1 st_note[$stage]="could not run: no sandbox"
    else
      run_stage "$stage" "tests/run_$stage.sh" || rc=$?
      parse_counts "$stage" "$rc"
    fi
    ;;
  compat)
    # PostgreSQL's own regression suite with and without our hooks (tests/compat/core_regress.sh).
    if [[ -z $sandbox_ok ]]; then
      echo "==> $stage: not run (no sandbox)"
      st_pass[$stage]=0 st_fail[$stage]=1 st_note[$stage]="could not run: no sandbox"
    else
      # The migration guard's WARNINGs on DDL are intended output changes, not hook side effects: off here.
      RD_COMPAT_CONF=${RD_COMPAT_CONF:-rubberduck.migration_guard = off} \
        run_stage "$stage" tests/compat/core_regress.sh || rc=$?
      if [[ $rc -ne 0 ]]; then
        # Known timing-dependent difference (docs/performance.md): an agent's cycle transaction can hold back the
        # xmin horizon while the suite VACUUMs, changing one plan. A difference must reproduce to fail the stage.
        echo "# compat: a difference on the first run; running the comparison once more"
        cp "$logdir/$stage.log" "$logdir/$stage.first-run.log"
        rc=0
        RD_COMPAT_CONF=${RD_COMPAT_CONF:-rubberduck.migration_guard = off} \
          run_stage "$stage" tests/compat/core_regress.sh || rc=$?
        st_note[$stage]="ran twice; first run in $logdir/$stage.first-run.log"
      fi
      parse_counts "$stage" "$rc"
    fi
    ;;
  esac
  st_time[$stage]=$(fmt_secs $(($(now_us) - t0)))
  total_pass=$((total_pass + st_pass[$stage]))
  total_fail=$((total_fail + st_fail[$stage]))
  echo "<== $stage: ${st_pass[$stage]} passed, ${st_fail[$stage]} failed in ${st_time[$stage]}${st_note[$stage]:+ (${st_note[$stage]})}"
done

echo
echo "== summary (logs in ${logdir#"$repo"/})"
printf '%-10s %7s %7s %9s  %s\n' stage passed failed time note
for stage in "${stages[@]}"; do
  printf '%-10s %7d %7d %9s  %s\n' "$stage" "${st_pass[$stage]}" "${st_fail[$stage]}" "${st_time[$stage]}" "${st_note[$stage]}"
done
echo "$total_pass passed, $total_fail failed"
exit $((total_fail > 0))
