#!/usr/bin/env bash
# PostgreSQL's own regression suite must behave exactly the same with our hooks collecting (issue #3).
#
# Fetches the PostgreSQL 15 source with Debian's source package (adds a deb-src entry if none exists; the newest
# security release's source is often not served, so it falls back version by version to the newest that
# downloads), extracts only src/test/regress and contrib/spi, builds the helper modules the suite loads
# (regress.so from src/test/regress/regress.c, refint.so and autoinc.so from contrib/spi) against the installed
# server headers with PGXS, and runs the core parallel_schedule with the sandbox's pg_regress twice, each on a
# throwaway --temp-instance cluster:
#   baseline   shared_preload_libraries = 'pg_stat_statements', compute_query_id = regress
#   candidate  shared_preload_libraries = 'pg_stat_statements,rubberduck_agents', compute_query_id = regress,
#              every agent and skill on, rubberduck.naptime = 200ms, track = all, sample_rate = 1,
#              max_worker_processes = 8 (the default) + 5 for our launcher and agents
# Both runs CREATE the extension in the test database (pg_regress --load-extension=rubberduck_agents): the agents
# only run their skills where the extension exists, and with its catalog objects present in both runs the one
# difference left is the preload — our hooks collecting in every backend and the agents working on the database
# the suite is running in. (Without the preload the baseline's CREATE EXTENSION just creates the objects.)
# and compares the two runs' results/*.out test by test (not expected/: the packaged test sources may be a minor
# release older than the server, so a few tests can differ from expected/ in both runs alike). A test passes when
# its output is byte-identical in both runs; any crash (a process terminated by a signal, PANIC, TRAP) in either
# server log is a failure.
#
# Tarball, extracted sources and built modules are cached under tests/compat/cache (gitignored).
#   tests/compat/core_regress.sh               whole parallel_schedule
#   RD_PGBIN            sandbox bin dir (default tmp/pg/usr/lib/postgresql/15/bin; run `make sandbox` first)
#   RD_COMPAT_DB        rubberduck.database of the candidate (default regression; pg_regress creates it)
#   RD_COMPAT_TESTS     space-separated test names to run instead of the schedule (debugging)
#   RD_COMPAT_CONF      extra postgresql.conf lines for the candidate, ';'-separated
#                       (e.g. 'rubberduck.migration_guard = off' to look past the guard's DDL warnings)
#   RD_KEEP=1           keep the work dir (both runs' outputs and logs)
# Ends with `compat: N passed, M failed`; exit status 1 if M > 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
cache=$repo/tests/compat/cache
pgbin=${RD_PGBIN:-$repo/tmp/pg/usr/lib/postgresql/15/bin}
pg_regress=$pgbin/../lib/pgxs/src/test/regress/pg_regress
pg_config_bin=${PG_CONFIG:-pg_config}
db=${RD_COMPAT_DB:-regression}
logdir=$repo/tmp/test-logs
mkdir -p "$cache" "$logdir"
started=$(date +%s)
passed=0
failed=0

say() { echo "# $*"; }
finish() {
  say "took $(($(date +%s) - started)) s"
  echo "compat: $passed passed, $failed failed"
  exit $((failed > 0))
}
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u "${RD_OS_USER:-postgres}" -- "$@"; else "$@"; fi; }

if [[ ! -x $pg_regress || ! -x $pgbin/postgres ]]; then
  echo "not ok - no sandbox at $pgbin (run 'make sandbox')"
  failed=1
  finish
fi

# ---- 1. the source tarball (cached) -------------------------------------------------------------------------
tarball() { find "$cache" -maxdepth 1 -name 'postgresql-15_15.*.orig.tar.*' | sort -V | tail -n 1; }
ensure_deb_src() {
  if grep -rqsE '^[[:space:]]*(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    return 0
  fi
  say "adding a deb-src entry for the Debian main suite (/etc/apt/sources.list.d/rubberduck-deb-src.sources)"
  local codename
  # shellcheck disable=SC1091
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  cat >/etc/apt/sources.list.d/rubberduck-deb-src.sources <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $codename-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}
if [[ -z $(tarball) ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "not ok - no cached PostgreSQL source in $cache and not root (apt-get source needs root here)"
    failed=1
    finish
  fi
  ensure_deb_src
  apt-get update -qq >/dev/null 2>&1 || say "apt-get update reported errors; trying the cached lists"
  installed=$(dpkg-query -W -f '${Version}' postgresql-15 2>/dev/null || true)
  # The installed version first, then every other version the source index knows, newest first.
  mapfile -t versions < <({
    [[ -n $installed ]] && echo "$installed"
    apt-cache showsrc postgresql-15 2>/dev/null | sed -n 's/^Version: //p' | sort -V -r
  } | awk '!seen[$0]++')
  for v in "${versions[@]}"; do
    say "apt-get source --download-only postgresql-15=$v"
    if (cd "$cache" && apt-get source --download-only "postgresql-15=$v" >"$logdir/compat-apt.log" 2>&1); then
      break
    fi
    say "  not served ($(grep -m1 -oE '[0-9]{3} +Not Found|E: .*' "$logdir/compat-apt.log" || echo failed)); trying an older one"
  done
  if [[ -z $(tarball) ]]; then
    echo "not ok - could not download the postgresql-15 source package (see $logdir/compat-apt.log)"
    failed=1
    finish
  fi
fi
tb=$(tarball)
srcver=$(basename "$tb" | sed -E 's/^postgresql-15_(15\.[0-9]+)\.orig\.tar\..*/\1/')
src=$cache/postgresql-$srcver
if [[ ! -f $src/src/test/regress/parallel_schedule || ! -f $src/contrib/spi/refint.c ]]; then
  say "extracting src/test/regress and contrib/spi of $(basename "$tb")"
  tar -xf "$tb" -C "$cache" --wildcards "postgresql-$srcver/src/test/regress/*" "postgresql-$srcver/contrib/spi/*"
fi
say "PostgreSQL test sources $srcver; server $("$pgbin/postgres" --version | awk '{print $3}')"

# ---- 2. helper modules, built with PGXS against the installed headers (cached) --------------------------------
mods=$cache/modules-$srcver-$("$pg_config_bin" --version | awk '{print $2}')
if [[ ! -f $mods/regress.so || ! -f $mods/refint.so || ! -f $mods/autoinc.so ]]; then
  say "building regress.so, refint.so, autoinc.so in $mods"
  rm -rf "$mods" && mkdir -p "$mods"
  cp "$src/src/test/regress/regress.c" "$src/contrib/spi/refint.c" "$src/contrib/spi/autoinc.c" "$mods/"
  cat >"$mods/Makefile" <<'EOF'
# Helper modules of PostgreSQL's core regression suite (built by tests/compat/core_regress.sh).
MODULES = regress refint autoinc
# contrib/spi builds refint with REFINT_VERBOSE; the suite's expected output contains its NOTICEs.
PG_CPPFLAGS = -DREFINT_VERBOSE
override with_llvm = no
PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
EOF
  if ! make -C "$mods" PG_CONFIG="$pg_config_bin" >"$logdir/compat-build.log" 2>&1; then
    tail -n 30 "$logdir/compat-build.log"
    echo "not ok - building the regression helper modules failed (see $logdir/compat-build.log)"
    rm -f "$mods"/*.so
    failed=1
    finish
  fi
fi
chmod -R a+rX "$cache"

# ---- 3. two runs on throwaway clusters ---------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/rd-compat.XXXXXX")
# shellcheck disable=SC2317  # called by the trap
cleanup() { if [[ ${RD_KEEP:-0} == 1 ]]; then say "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
cat >"$work/base.conf" <<'EOF'
shared_preload_libraries = 'pg_stat_statements'
compute_query_id = regress
lc_messages = 'C'
EOF
cat >"$work/cand.conf" <<EOF
shared_preload_libraries = 'pg_stat_statements,rubberduck_agents'
compute_query_id = regress
lc_messages = 'C'
rubberduck.database = '$db'
rubberduck.enabled = on
rubberduck.skills = 'all'
rubberduck.naptime = '200ms'
rubberduck.track = all
rubberduck.sample_rate = 1
# Our launcher and 4 agents take 5 background-worker slots; the suite's select_parallel expects 4 parallel workers
# to launch out of the default 8 slots, so the candidate gets the default plus ours (docs: add 5 to
# max_worker_processes when you preload rubberduck_agents).
max_worker_processes = 13
EOF
if [[ -n ${RD_COMPAT_CONF:-} ]]; then tr ';' '\n' <<<"$RD_COMPAT_CONF" >>"$work/cand.conf"; fi
mkdir -p "$work/base" "$work/cand"
# The suite's inputs plus one probe that the candidate runs after the schedule (not compared with the baseline):
# proof that the agents really cycled and ran every enabled skill while the suite was running.
cp -a "$src/src/test/regress" "$work/inputs"
cat >"$work/inputs/sql/rubberduck_probe.sql" <<'EOF'
-- rubberduck_probe (tests/compat/core_regress.sh): after the core suite, in the candidate instance.
-- (waits up to 60 s for a first cycle, for short RD_COMPAT_TESTS runs)
DO $$ BEGIN FOR i IN 1..300 LOOP EXIT WHEN (SELECT count(*) FROM rubberduck.agents WHERE cycles > 0) = 4; PERFORM pg_sleep(0.2); END LOOP; END $$;
SELECT count(*) = 4 AS every_agent_cycled FROM rubberduck.agents WHERE cycles > 0;
SELECT bool_and(runs > 0) AS every_enabled_skill_ran FROM rubberduck.skills WHERE enabled;
EOF
cat >"$work/inputs/expected/rubberduck_probe.out" <<'EOF'
-- rubberduck_probe (tests/compat/core_regress.sh): after the core suite, in the candidate instance.
-- (waits up to 60 s for a first cycle, for short RD_COMPAT_TESTS runs)
DO $$ BEGIN FOR i IN 1..300 LOOP EXIT WHEN (SELECT count(*) FROM rubberduck.agents WHERE cycles > 0) = 4; PERFORM pg_sleep(0.2); END LOOP; END $$;
SELECT count(*) = 4 AS every_agent_cycled FROM rubberduck.agents WHERE cycles > 0;
 every_agent_cycled 
--------------------
 t
(1 row)

SELECT bool_and(runs > 0) AS every_enabled_skill_ran FROM rubberduck.skills WHERE enabled;
 every_enabled_skill_ran 
-------------------------
 t
(1 row)

EOF
if [[ $(id -u) -eq 0 ]]; then chown -R "${RD_OS_USER:-postgres}:" "$work"; fi

tests=()
if [[ -n ${RD_COMPAT_TESTS:-} ]]; then read -r -a tests <<<"$RD_COMPAT_TESTS"; fi
run_suite() { # name [extra test...]
  local name=$1 rc=0 t0
  shift
  t0=$(date +%s)
  local args=(--temp-instance="$work/$name/tmp_check" --bindir="$pgbin" --inputdir="$work/inputs"
    --outputdir="$work/$name" --dlpath="$mods" --temp-config="$work/$name.conf" --max-concurrent-tests=20
    --load-extension=rubberduck_agents)
  if [[ ${#tests[@]} -gt 0 ]]; then args+=("${tests[@]}"); else args+=(--schedule="$work/inputs/parallel_schedule"); fi
  args+=("$@")
  (cd "$work/$name" && LC_ALL=C as_pg "$pg_regress" "${args[@]}") >"$logdir/compat-$name.log" 2>&1 || rc=$?
  if [[ -f $work/$name/log/postmaster.log ]]; then cp "$work/$name/log/postmaster.log" "$logdir/compat-$name-postmaster.log"; fi
  say "$name run: pg_regress status $rc, $(grep -cE '\.\.\. (ok|FAILED|failed \(ignored\))' "$logdir/compat-$name.log" || true) tests, $(grep -cE '\.\.\. FAILED' "$logdir/compat-$name.log" || true) differ from expected/, $(($(date +%s) - t0)) s"
}
run_suite base
run_suite cand rubberduck_probe

# ---- 4. compare test by test -------------------------------------------------------------------------------
crashes() { # postmaster log -> crash lines
  grep -E 'terminated by signal|was terminated by exception|PANIC:|TRAP:|server process .* exited with exit code [^01]|terminating any other active server processes' "$1" 2>/dev/null || true
}
for name in base cand; do
  log=$logdir/compat-$name-postmaster.log
  if [[ ! -f $log ]]; then
    echo "not ok - $name run left no server log"
    failed=$((failed + 1))
  elif [[ -n $(crashes "$log") ]]; then
    echo "not ok - crash in the $name run:"
    crashes "$log" | head -n 10 | sed 's/^/#   /'
    failed=$((failed + 1))
  fi
done
if [[ ${#tests[@]} -eq 0 ]]; then
  mapfile -t tests < <(sed -nE 's/^[[:space:]]*test:[[:space:]]*//p' "$src/src/test/regress/parallel_schedule" | tr -s ' \t' '\n' | sed '/^$/d')
fi
probe=$work/cand/results/rubberduck_probe.out
if [[ -f $probe ]] && cmp -s "$probe" "$work/inputs/expected/rubberduck_probe.out"; then
  say "probe: every agent cycled and every enabled skill ran during the candidate run"
else
  echo "not ok - the agents did not all work during the candidate run (rubberduck_probe):"
  if [[ -f $probe ]]; then sed 's/^/#   /' "$probe"; else echo "#   no probe output"; fi
  failed=$((failed + 1))
fi
: >"$logdir/compat.diffs"
for t in "${tests[@]}"; do
  b=$work/base/results/$t.out
  c=$work/cand/results/$t.out
  if [[ -f $b && -f $c ]] && cmp -s "$b" "$c"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "not ok - $t differs between the baseline and the candidate run"
    if [[ -f $b && -f $c ]]; then diff -u "$b" "$c" >>"$logdir/compat.diffs" || true; else echo "missing output for $t" >>"$logdir/compat.diffs"; fi
  fi
done
if [[ -s $logdir/compat.diffs ]]; then
  say "---- differences (first 100 lines; all in $logdir/compat.diffs)"
  head -n 100 "$logdir/compat.diffs"
fi
finish
