#!/usr/bin/env bash
# Estimated vs real index size: rubberduck.hypothetical_index_size(ddl) (the pages the what-if planner
# assumes, from the core estimator fed with pg_class/pg_statistic) against pg_relation_size after really
# building the same index, for a set of shapes on one table. Prints a markdown table (docs/performance.md).
#   ROWS=1000000 bench/index_advisor/size_check.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/cluster.sh
source "$here/../../tests/lib/cluster.sh"
rows=${ROWS:-1000000}

cluster_start "maintenance_work_mem = '256MB'" "max_parallel_maintenance_workers = 0" "rubberduck.naptime = '10s'"
cluster_psql -c 'CREATE EXTENSION rubberduck_agents; CREATE EXTENSION pg_trgm' >/dev/null
cluster_psql >/dev/null <<SQL
CREATE TABLE sz (
    id bigint NOT NULL, n4 int NOT NULL, low int NOT NULL, ref varchar(40) NOT NULL, email text NOT NULL,
    status text NOT NULL, created_at timestamptz NOT NULL, amount bigint, note text, words text, code text);
SELECT setseed(0.42);
INSERT INTO sz
SELECT g, ((g * 7919) % $rows)::int, (g % 5)::int, 'REF-' || lpad((g * 31)::text, 14, '0'), 'User' || g || '@Example.com',
       CASE WHEN g % 100 = 0 THEN 'queued' ELSE 'done' END,
       timestamptz '2024-01-01' + g * interval '1 second', CASE WHEN g % 10 = 0 THEN NULL ELSE g * 3 END,
       md5(g::text),
       -- English-like: 4-9 words drawn with a skew (random()^2) from a 100-word vocabulary.
       (SELECT string_agg(v[1 + floor(100 * random() ^ 2)::int], ' ')
          FROM (SELECT string_to_array('the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not what all were we when your can said there use an each which she do how their if will up other about out many then them these so some her would make like him into time has look two more write go see number no way could people my than first water been call who oil its now find long down day did get come made may part over new sound take only little work know place year live me back give most very after thing our just name good sentence man think say great where help through much before line right too mean old any same tell boy follow came want show also around form three small', ' ') AS v) w,
               generate_series(1, 4 + (g % 6)::int) k WHERE g > 0),
       -- Short codes over a 4-letter alphabet (DNA-like), 12 characters.
       translate(substr(md5((g * 13)::text), 1, 12), '0123456789abcdef', 'ACGTACGTACGTACGT')
FROM generate_series(1::bigint, $rows) g;
VACUUM ANALYZE sz;
SQL

shapes=(
  "btree int4|CREATE INDEX ON sz (n4)"
  "btree int8 unique|CREATE UNIQUE INDEX ON sz (id)"
  "btree varchar ~18 chars|CREATE INDEX ON sz (ref)"
  "btree int4, 5 values (dedup)|CREATE INDEX ON sz (low)"
  "btree int4 INCLUDE int8 (10% NULL)|CREATE INDEX ON sz (n4) INCLUDE (amount)"
  "btree (int4, timestamptz)|CREATE INDEX ON sz (low, created_at)"
  "btree timestamptz DESC|CREATE INDEX ON sz (created_at DESC)"
  "btree partial 1% (status = 'queued')|CREATE INDEX ON sz (created_at) WHERE status = 'queued'"
  "btree expression lower(email)|CREATE INDEX ON sz (lower(email))"
  "hash int4|CREATE INDEX ON sz USING hash (n4)"
  "brin timestamptz|CREATE INDEX ON sz USING brin (created_at)"
  "gin trigram md5 text (32 chars)|CREATE INDEX ON sz USING gin (note gin_trgm_ops)"
  "gin trigram email (User<n>@Example.com)|CREATE INDEX ON sz USING gin (email gin_trgm_ops)"
  "gin trigram English-like words (4-9 of 100)|CREATE INDEX ON sz USING gin (words gin_trgm_ops)"
  "gin trigram 12-char codes over ACGT|CREATE INDEX ON sz USING gin (code gin_trgm_ops)"
)

echo "| shape ($rows rows) | estimated | real | estimate / real |"
echo "|---|---:|---:|---:|"
for s in "${shapes[@]}"; do
  label=${s%%|*}
  ddl=${s#*|}
  est=$(cluster_psql -c "SELECT rubberduck.hypothetical_index_size(\$q\$$ddl\$q\$)")
  real=$(cluster_psql <<SQL | tail -1
$ddl;
SELECT pg_relation_size(c.oid) FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
 WHERE i.indrelid = 'sz'::regclass ORDER BY c.oid DESC LIMIT 1;
SQL
)
  cluster_psql -c "DO \$\$ DECLARE r record; BEGIN FOR r IN SELECT indexrelid::regclass AS i FROM pg_index WHERE indrelid = 'sz'::regclass LOOP EXECUTE 'DROP INDEX ' || r.i; END LOOP; END \$\$" >/dev/null
  ratio=$(awk -v e="$est" -v r="$real" 'BEGIN { printf "%.3f", e / r }')
  printf '| %s | %s | %s | %s |\n' "$label" \
    "$(awk -v b="$est" 'BEGIN { printf "%.2f MB", b / 1048576 }')" \
    "$(awk -v b="$real" 'BEGIN { printf "%.2f MB", b / 1048576 }')" "$ratio"
done
