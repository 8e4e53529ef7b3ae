// The one reader of existing indexes: see existing_indexes.hpp.
#include "pg/catalog/existing_indexes.hpp"

#include <cstring>
#include <string>

#include "core/index/index_model.h"
#include "pg/catalog/spi_values.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
}

namespace rubberduck::pg {

namespace {

namespace ci = core::index;

// $1 oid[]: NULL = every user relation. pg_stats widths feed the bloat estimate of index_health.
constexpr const char *kExistingIndexesQuery = R"SQL(
SELECT i.indrelid, n.nspname::text, c.relname::text, c.reltuples::float8, c.relpages::float8,
       (pg_catalog.pg_relation_size(c.oid) / pg_catalog.current_setting('block_size')::int8)::float8,
       i.indexrelid, ic.relname::text, am.amname::text,
       pg_catalog.pg_relation_size(i.indexrelid), coalesce(s.idx_scan, 0),
       i.indisvalid, i.indisprimary, i.indisunique,
       EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con
                WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x')),
       i.indnkeyatts::int4, k.pos,
       CASE WHEN i.indkey[k.pos - 1] <> 0 THEN a.attname::text END,
       pg_catalog.pg_get_indexdef(i.indexrelid, k.pos, true),
       CASE WHEN k.pos <= i.indnkeyatts AND NOT opc.opcdefault THEN opc.opcname::text END,
       coalesce(k.pos <= i.indnkeyatts AND (i.indoption[k.pos - 1] & 1) = 1, false),
       pg_catalog.pg_get_expr(i.indpred, i.indrelid, true),
       CASE WHEN a.attnum IS NOT NULL THEN pg_catalog.format_type(a.atttypid, a.atttypmod) END,
       st.attname IS NOT NULL, coalesce(st.null_frac, 0)::float8, coalesce(st.avg_width, 0)::float8,
       coalesce(st.n_distinct, 0)::float8
  FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_am am ON am.oid = ic.relam
  CROSS JOIN LATERAL pg_catalog.generate_series(1, i.indnatts::int4) AS k(pos)
  LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[k.pos - 1]
                                      AND i.indkey[k.pos - 1] <> 0
  LEFT JOIN pg_catalog.pg_opclass opc ON opc.oid = i.indclass[k.pos - 1]
  LEFT JOIN pg_catalog.pg_stat_all_indexes s ON s.indexrelid = i.indexrelid
  LEFT JOIN pg_catalog.pg_stats st ON st.schemaname = n.nspname AND st.tablename = c.relname
                                  AND st.attname = a.attname AND NOT st.inherited
 WHERE c.relkind IN ('r', 'm')
   AND am.amname IN ('btree', 'hash', 'brin', 'gin')
   AND ($1 IS NULL OR c.oid = ANY ($1))
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
                      AND d.deptype = 'e')
 ORDER BY n.nspname, c.relname, ic.relname, k.pos
)SQL";

char *dup_value(MemoryContext cxt, HeapTuple tup, TupleDesc desc, int col) {
    char *v = SPI_getvalue(tup, desc, col);
    return v ? MemoryContextStrdup(cxt, v) : nullptr;
}

}  // namespace

ExistingIndexRows read_existing_indexes(const Oid *relids, int nrelids, MemoryContext cxt) {
    Oid types[1] = {OIDARRAYOID};
    Datum values[1] = {(Datum)0};
    char nulls[2] = "n";
    if (relids != nullptr) {
        Datum *elems = static_cast<Datum *>(palloc(sizeof(Datum) * (nrelids > 0 ? nrelids : 1)));
        for (int i = 0; i < nrelids; ++i) elems[i] = ObjectIdGetDatum(relids[i]);
        values[0] = PointerGetDatum(construct_array(elems, nrelids, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
        nulls[0] = ' ';
    }
    if (SPI_execute_with_args(kExistingIndexesQuery, 1, types, values, nulls, true, 0) != SPI_OK_SELECT)
        elog(ERROR, "rubberduck_agents: reading existing indexes failed");
    int n = static_cast<int>(SPI_processed);
    auto *rows = static_cast<ExistingIndexRow *>(
        MemoryContextAllocZero(cxt, sizeof(ExistingIndexRow) * (n > 0 ? n : 1)));
    TupleDesc d = SPI_tuptable->tupdesc;
    for (int r = 0; r < n; ++r) {
        HeapTuple t = SPI_tuptable->vals[r];
        ExistingIndexRow &k = rows[r];
        k.relid = spi_oid(t, d, 1);
        k.schema = dup_value(cxt, t, d, 2);
        k.table = dup_value(cxt, t, d, 3);
        k.reltuples = spi_float8(t, d, 4, -1);
        k.relpages = spi_float8(t, d, 5);
        k.heap_pages = spi_float8(t, d, 6);
        k.indexrelid = spi_oid(t, d, 7);
        k.index = dup_value(cxt, t, d, 8);
        k.method = dup_value(cxt, t, d, 9);
        k.size_bytes = spi_int8(t, d, 10);
        k.scans = spi_int8(t, d, 11);
        k.valid = spi_bool(t, d, 12);
        k.primary = spi_bool(t, d, 13);
        k.unique = spi_bool(t, d, 14);
        k.constraint = spi_bool(t, d, 15);
        k.nkeyatts = spi_int4(t, d, 16);
        k.pos = spi_int4(t, d, 17);
        k.column = dup_value(cxt, t, d, 18);
        k.keytext = dup_value(cxt, t, d, 19);
        k.opclass = dup_value(cxt, t, d, 20);
        k.descending = spi_bool(t, d, 21);
        k.predicate = dup_value(cxt, t, d, 22);
        k.type_name = dup_value(cxt, t, d, 23);
        k.has_stats = spi_bool(t, d, 24);
        k.null_frac = spi_float8(t, d, 25);
        k.avg_width = spi_float8(t, d, 26);
        k.n_distinct = spi_float8(t, d, 27);
    }
    return {rows, n};
}

bool add_existing_index(ci::RelationStats &rel, const ExistingIndexRow &row) {
    std::string method = row.method ? row.method : "";
    if (method != "btree" && method != "hash" && method != "brin" && method != "gin") return false;
    std::string name = row.index ? row.index : "";
    if (rel.indexes.empty() || rel.indexes.back().def.name != name) {
        ci::ExistingIndex e;
        e.def.relation_oid = row.relid;
        e.def.schema = rel.schema;
        e.def.table = rel.name;
        e.def.name = name;
        e.def.method = ci::parse_index_method(method);
        e.def.unique = row.unique;
        e.def.predicate = row.predicate ? row.predicate : "";
        e.size_bytes = row.size_bytes;
        e.scans = row.scans;
        e.valid = row.valid;
        e.primary = row.primary;
        e.constraint = row.constraint;
        rel.indexes.push_back(e);
    }
    ci::ExistingIndex &e = rel.indexes.back();
    if (row.pos <= row.nkeyatts) {
        ci::IndexKey key;
        if (row.column)
            key.column = row.column;
        else
            key.expression = row.keytext ? row.keytext : "";
        key.opclass = row.opclass ? row.opclass : "";
        key.descending = row.descending;
        e.def.keys.push_back(key);
    } else if (row.column) {
        e.def.include.push_back(row.column);
    }
    return true;
}

}  // namespace rubberduck::pg
