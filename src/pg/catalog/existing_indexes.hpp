// The one reader of existing indexes (pg_index, pg_class, pg_attribute, pg_opclass, pg_stats and the scan
// counters), shared by rubberduck.index_health (functions/index_functions.cpp) and the index advisor's gather
// step (skills/indexing.cpp).
//
// read_existing_indexes is PG regime (SPI must be connected; it may ereport): one POD row per column of each
// btree/hash/brin/gin index, strings palloc'd in `cxt`, ordered by schema, table, index name and column
// position. add_existing_index is C++ regime (call it under cpp_guard): it folds consecutive rows of one
// index into core::index::ExistingIndex entries of a RelationStats.
#pragma once

#include "core/index/index_model.h"
#include "pg/postgres.hpp"

namespace rubberduck::pg {

struct ExistingIndexRow {  // one column (key or INCLUDE) of one existing index
    Oid relid;
    char *schema;
    char *table;
    double reltuples;   // pg_class.reltuples of the table, -1 = never vacuumed/analyzed
    double relpages;    // pg_class.relpages of the table
    double heap_pages;  // the table's current size in pages (what the planner scales reltuples by)
    Oid indexrelid;
    char *index;
    char *method;
    int64 size_bytes;  // pg_relation_size of the index
    int64 scans;       // idx_scan
    bool valid, primary, unique, constraint;
    int nkeyatts, pos;
    char *column;   // NULL for an expression
    char *keytext;  // pg_get_indexdef(index, pos): the column or expression text
    char *opclass;  // NULL for the default operator class (and INCLUDE columns)
    bool descending;
    char *predicate;  // NULL for a full index
    char *type_name;  // format_type of the column; NULL for an expression
    bool has_stats;   // pg_stats has the column
    double null_frac, avg_width, n_distinct;
};

struct ExistingIndexRows {
    ExistingIndexRow *rows;
    int count;
};

// relids == nullptr: the indexes of every table and materialized view of the current database outside the
// system schemas that no extension owns; otherwise the indexes of those relations only.
ExistingIndexRows read_existing_indexes(const Oid *relids, int nrelids, MemoryContext cxt);

// Folds row into rel.indexes: starts a new ExistingIndex when the row's index differs from the last one, and
// adds its key or INCLUDE column. Rows of an unsupported method are skipped (false).
bool add_existing_index(core::index::RelationStats &rel, const ExistingIndexRow &row);

}  // namespace rubberduck::pg
