#!/usr/bin/env bash
# The migration-safety corpus (tests/migration_corpus/*.sql) through rubberduck.analyze_migration() on a real
# server: each distinct setup runs once in its own schema (first on the search_path, so the setup's and the
# migration's unqualified names live there; the analysis never executes anything, so cases with the same setup
# share it), then the set of rule ids reported for the case (ok rows excluded) is compared with its `-- expect:`
# line. One TAP line per case. The guard is off for the setups.
#   RD_CORPUS_FILTER=ERE   run only the cases whose file name matches.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
corpus="$here/../migration_corpus"
# shellcheck source=tests/lib/cluster.sh
source "$here/../lib/cluster.sh"
# shellcheck source=tests/lib/tap.sh
source "$here/../lib/tap.sh"

cluster_start "rubberduck.naptime = '1s'"
cluster_psql -c "CREATE EXTENSION rubberduck_agents" >/dev/null

# "a, b" -> "a,b" sorted; "clean" -> ""
normalise() { tr ',' '\n' | sed 's/^ *//; s/ *$//' | { grep -v -e '^$' -e '^clean$' || true; } | sort -u | paste -sd, -; }

n=0
declare -A ready=()
for f in "$corpus"/[0-9]*.sql; do
  name=$(basename "$f" .sql)
  if [[ -n ${RD_CORPUS_FILTER:-} && ! $name =~ $RD_CORPUS_FILTER ]]; then continue; fi
  n=$((n + 1))
  expect=$(sed -n '1s/^-- expect:[[:space:]]*//p' "$f" | normalise)
  setup=$(sed -n '/^-- setup:/,/^-- end setup/{/^-- setup:/d;/^-- end setup/d;s/^-- \{0,1\}//;p}' "$f")
  body=$(sed -n '/^-- end setup/,$p' "$f" | tail -n +2)
  key=$(printf '%s' "$setup" | md5sum | cut -c1-12)
  schema="rd_setup_$key"
  export PGOPTIONS="-c search_path=$schema,public -c rubberduck.migration_guard=off"
  if [[ -z ${ready[$key]:-} ]]; then
    cluster_psql -c "CREATE SCHEMA $schema" >/dev/null
    if [[ -n $setup ]] && ! printf '%s\n' "$setup" | cluster_psql -q >/dev/null 2>"$RD_CLUSTER_DIR/setup.err"; then
      _tap_result 0 "$name: setup failed: $(head -c 300 "$RD_CLUSTER_DIR/setup.err")"
      cluster_psql -c "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1
      continue
    fi
    ready[$key]=1
  fi
  if got=$(printf '%s\n' "SELECT string_agg(DISTINCT rule, ',' ORDER BY rule) FROM rubberduck.analyze_migration(:'body') WHERE rule <> 'ok';" |
           cluster_psql -v body="$body" 2>&1); then
    got=$(printf '%s' "$got" | normalise)
    tap_is "${got:-clean}" "${expect:-clean}" "$name"
    if [[ ${got:-clean} != "${expect:-clean}" ]]; then
      printf '%s\n' "SELECT statement_no, rule, severity, lock_mode, round(est_duration_ms) AS ms, left(message, 160) FROM rubberduck.analyze_migration(:'body');" |
        cluster_psql -v body="$body" 2>&1 | sed 's/^/#   /' >&2 || true
    fi
  else
    _tap_result 0 "$name: analyze_migration failed: $got"
  fi
done
unset PGOPTIONS
tap_cmp "$n" -ge 1 "corpus cases found"
tap_done
