#!/usr/bin/env bash
# Fails if any file under the given directory includes a PostgreSQL server header (cpp-in-postgres.md R3).
dir=${1:?usage: check_no_postgres_includes.sh SRC_CORE_DIR}
hits=$(grep -rnE '#\s*include\s*[<"](postgres(_ext)?\.h|fmgr\.h|funcapi\.h|miscadmin\.h|pgstat\.h|(utils|access|catalog|executor|nodes|optimizer|storage|parser|commands|tcop|postmaster|lib|port)/)' "$dir")
if [ -n "$hits" ]; then echo "PostgreSQL headers in the pure core:"; echo "$hits"; exit 1; fi
echo "src/core is free of PostgreSQL headers"
