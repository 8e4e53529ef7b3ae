// Plain data model of the index advisor (data_persistence agent, indexing skill).
//
// The PostgreSQL adapter fills these structs from pg_class/pg_stats/pg_index/pgstat and from the predicates
// the query hooks observed; the core (candidate generator, size estimator, selector, health rules) only reads
// them. Conventions shared by every module:
//   * Relations are identified by OID; schema and name are kept unquoted and quoted only when SQL is written.
//   * A column or expression text is compared verbatim after whitespace normalisation, so the adapter must
//   deparse
//     predicate expressions and existing index expressions the same way (e.g. both via deparse_expression).
//   * An empty opclass means "the default operator class of the column's type".
#pragma once
#include "core/common/no_postgres.h"
#include "core/common/sql_quote.h"

#include <cstdint>
#include <string>
#include <vector>

namespace rubberduck::core::index {

enum class IndexMethod { kBtree, kHash, kBrin, kGin };

// "btree", "hash", "brin", "gin".
const char *to_string(IndexMethod method);
// Accepts the names above (case-insensitive); throws std::invalid_argument otherwise.
IndexMethod parse_index_method(const std::string &text);

struct ColumnStats {
    std::string name;
    int attnum = 0;
    std::string
        type_name;  // format_type() output, e.g. "integer", "bigint", "text", "timestamp with time zone"
    double avg_width = 0;  // pg_stats.avg_width (stored bytes incl. varlena header)
    double null_frac = 0;  // pg_stats.null_frac
    double n_distinct =
        0;  // pg_stats convention: > 0 count, < 0 minus the fraction of rows (-1 = unique), 0 unknown
    double correlation = 0;    // pg_stats.correlation, -1..1
    bool c_collation = false;  // true when the column collates as "C": LIKE 'x%' can use a default btree
    struct CommonValue {
        std::string literal;   // SQL literal as quote_literal would write it, e.g. 'queued'
        double frequency = 0;  // fraction of rows
    };
    std::vector<CommonValue> most_common_vals;  // pg_stats MCV list (optional)
};

// One key column of an index: a plain column, or an expression such as lower(email).
struct IndexKey {
    std::string column;  // plain column name; for an expression, the column it is computed from (for widths)
    std::string expression;  // non-empty: expression key (written in parentheses), e.g. "lower(email)"
    std::string opclass;     // empty = default; e.g. "gin_trgm_ops", "text_pattern_ops"
    bool descending = false;

    bool is_expression() const { return !expression.empty(); }
};

struct IndexDef {
    uint32_t relation_oid = 0;
    std::string schema;  // unquoted
    std::string table;   // unquoted
    std::string name;    // index name, unquoted; optional for candidates (DDL then lets PostgreSQL choose)
    IndexMethod method = IndexMethod::kBtree;
    std::vector<IndexKey> keys;
    std::vector<std::string> include;  // INCLUDE columns (btree only)
    std::string predicate;             // partial-index WHERE clause text, empty = full index
    bool unique = false;
};

// An index that exists in the database, with its usage statistics.
struct ExistingIndex {
    IndexDef def;
    int64_t size_bytes = 0;  // pg_relation_size
    int64_t scans = 0;       // idx_scan over the observation window (see RelationStats::stats_window_seconds)
    bool valid = true;       // pg_index.indisvalid
    bool primary = false;    // pg_index.indisprimary
    bool constraint = false;  // backs a UNIQUE/PRIMARY KEY/EXCLUDE constraint (pg_constraint.conindid)
};

struct RelationStats {
    uint32_t oid = 0;
    std::string schema;  // unquoted
    std::string name;    // unquoted
    double reltuples = 0;
    double relpages = 0;
    double current_pages = 0;  // the heap's size now, in pages (0 = unknown); reltuples/relpages describe the
                               // last VACUUM/ANALYZE, so row counts are scaled to it as the planner does
    int fillfactor = 100;      // heap fillfactor
    std::vector<ColumnStats> columns;
    double inserts_per_sec = 0;  // observed write rates (pgstat deltas / window)
    double updates_per_sec = 0;
    double deletes_per_sec = 0;
    double hot_update_fraction = 0;   // n_tup_hot_upd / n_tup_upd: HOT updates do not touch indexes
    double stats_window_seconds = 0;  // how long the scan counters of `indexes` were observed
    std::vector<ExistingIndex> indexes;

    // Quoted "schema.table" (schema omitted when empty).
    std::string qualified_name() const;
    // nullptr when absent.
    const ColumnStats *find_column(const std::string &column) const;
};

enum class PredicateOp {
    kEq,
    kLt,
    kGt,
    kLe,
    kGe,
    kBetween,
    kIn,
    kLikePrefix,  // col LIKE 'abc%'
    kLikeInfix,   // col LIKE '%abc%' or any ILIKE
    kIsNull,
    kExpression,  // an equality on `expression` that is not classified further (e.g. lower(email) = $1)
};

// "=", "<", ">", "<=", ">=", "BETWEEN", "IN", "LIKE prefix", "LIKE infix", "IS NULL", "expression".
const char *to_string(PredicateOp op);
// Accepts the names above plus "ILIKE" (→ kLikeInfix), "LIKE" (→ kLikePrefix), "= ANY" (→ kIn);
// case-insensitive.
PredicateOp parse_predicate_op(const std::string &text);
bool is_equality_op(PredicateOp op);  // =, IN, IS NULL, expression
bool is_range_op(PredicateOp op);     // <, >, <=, >=, BETWEEN, LIKE prefix

struct PredicateObservation {
    uint32_t relation_oid = 0;
    std::vector<std::string> columns;  // usually one; the columns `expression` reads when it is set
    PredicateOp op = PredicateOp::kEq;
    std::string expression;  // non-empty: the predicate applies to this expression, e.g. "lower(email)"
    int64_t queryid = 0;
    int64_t executions = 0;
    double avg_selectivity = -1;  // fraction of rows passing, -1 unknown
    bool used_index = false;      // an index served this predicate in the observed plans
    std::string
        constant_literal;  // the compared constant when it is always the same, e.g. 'queued' (optional)
    double constant_frequency = -1;  // fraction of rows with that constant (MCV), -1 unknown
};

struct OrderKey {
    std::string column;
    bool descending = false;
};

// What one query does with one relation.
struct QueryRelationUse {
    uint32_t relation_oid = 0;
    std::vector<std::string> join_columns;
    std::vector<OrderKey> order_by;  // only when the whole ORDER BY comes from this relation
    bool has_limit = false;
    std::vector<std::string> group_by;
    std::vector<std::string>
        selected_columns;  // every column of this relation the query reads (for covering)
};

struct QueryProfile {
    int64_t queryid = 0;
    double weight = 0;  // share of the workload: calls × mean time (or calls × plan cost) over the window
    double calls = 0;
    std::vector<QueryRelationUse> relations;
};

struct Workload {
    std::vector<RelationStats> relations;
    std::vector<QueryProfile> queries;
    std::vector<PredicateObservation> predicates;

    const RelationStats *find_relation(uint32_t oid) const;
};

using core::quote_ident;  // core/common/sql_quote.h

// CREATE [UNIQUE] INDEX CONCURRENTLY [name] ON schema.table USING method (keys) [INCLUDE (...)] [WHERE ...].
// Throws std::invalid_argument when the definition is unusable (no table, no keys, INCLUDE on a non-btree
// ...).
std::string create_index_ddl(const IndexDef &def);
std::string drop_index_ddl(const std::string &schema, const std::string &index_name);
std::string reindex_index_ddl(const std::string &schema, const std::string &index_name);

// Dedup key: identical for two definitions that build the same index (name ignored, whitespace normalised,
// INCLUDE order ignored).
std::string canonical_key(const IndexDef &def);

// Collapses runs of whitespace outside quotes to one space and trims.
std::string normalize_sql_text(const std::string &text);

// A stable, readable name for a candidate: rd_<table>_<keys>[_incl_<cols>][_part]_idx, at most 63 bytes
// (hash-suffixed when cut, or always when with_hash, to tell apart definitions that read alike).
std::string suggested_index_name(const IndexDef &def, bool with_hash = false);

}  // namespace rubberduck::core::index
