// SQL functions of the indexing area: hypothetical_explain (what-if EXPLAIN) and _index_health (the rows of
// rubberduck.index_health).
#include <string>
#include <vector>

#include "core/index/index_health_rules.h"
#include "core/index/index_model.h"
#include "pg/boundary/cpp_guard.hpp"
#include "pg/catalog/existing_indexes.hpp"
#include "pg/catalog/spi_values.hpp"
#include "pg/functions/srf.hpp"
#include "pg/guc/index_directives.hpp"
#include "pg/index/hypo_index.hpp"
#include "pg/index/whatif.hpp"
#include "pg/module.hpp"

extern "C" {
#include "utils/array.h"
#include "utils/lsyscache.h"
}

using namespace rubberduck::pg;
namespace ci = rubberduck::core::index;

extern "C" {
PG_FUNCTION_INFO_V1(rubberduck_hypothetical_explain);
PG_FUNCTION_INFO_V1(rubberduck_index_health);
PG_FUNCTION_INFO_V1(rubberduck_whatif_cost);
PG_FUNCTION_INFO_V1(rubberduck_hypothetical_index_size);
}

// hypothetical_index_size(index_ddl text) -> bigint
extern "C" Datum rubberduck_hypothetical_index_size(PG_FUNCTION_ARGS) {
    char *ddl = text_to_cstring(PG_GETARG_TEXT_PP(0));
    PG_RETURN_INT64(hypothetical_index_size(ddl));
}

// hypothetical_explain(query text, index_ddl text[]) -> SETOF text
extern "C" Datum rubberduck_hypothetical_explain(PG_FUNCTION_ARGS) {
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("query must not be NULL")));
    char *query = text_to_cstring(PG_GETARG_TEXT_PP(0));
    const char **ddls = nullptr;
    int count = 0;
    if (!PG_ARGISNULL(1)) {
        ArrayType *arr = PG_GETARG_ARRAYTYPE_P(1);
        if (ARR_NDIM(arr) > 1)
            ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
                            errmsg("index_ddl must be a one-dimensional array")));
        Datum *elems;
        bool *nulls;
        deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &count);
        ddls = static_cast<const char **>(palloc(sizeof(char *) * (count > 0 ? count : 1)));
        for (int i = 0; i < count; ++i) {
            if (nulls[i])
                ereport(ERROR,
                        (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("index_ddl[%d] is NULL", i + 1)));
            ddls[i] = TextDatumGetCString(elems[i]);
        }
    }
    // SETOF text: the tuple descriptor is the one-column descriptor the executor expects.
    InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
    SrfRows srf{reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo), 1};
    char *text = whatif_explain(query, ddls, count);
    // One row per line, as EXPLAIN returns them.
    char *line = text;
    while (*line) {
        char *end = strchr(line, '\n');
        if (end) *end = '\0';
        Datum value = CStringGetTextDatum(line);
        bool isnull = false;
        put_row(srf, &value, &isnull);
        if (!end) break;
        line = end + 1;
    }
    return (Datum)0;
}

namespace {

constexpr const char *kWindowQuery = R"SQL(
SELECT extract(epoch FROM now() - coalesce(
           (SELECT stats_reset FROM pg_catalog.pg_stat_database WHERE datname = pg_catalog.current_database()),
           pg_catalog.pg_postmaster_start_time()))::float8
)SQL";

// A finding as POD (filled inside the C++ guard, emitted after it).
struct FindingRow {
    char relation[2 * NAMEDATALEN + 8];
    char index[NAMEDATALEN];
    char issue[16];
    int64 size_bytes;
    int64 scans;
    char related[NAMEDATALEN];
    char detail[512];
    char fix_sql[512];
};

// C++ regime: rows → RelationStats → findings → POD rows. Returns the number of findings.
int compute_health(const ExistingIndexRow *rows, int nrows, double window_s, double min_window_s,
                   FindingRow *out, int capacity) {
    std::vector<ci::RelationStats> rels;
    for (int r = 0; r < nrows; ++r) {
        const ExistingIndexRow &k = rows[r];
        if (rels.empty() || rels.back().oid != k.relid) {
            ci::RelationStats rel;
            rel.oid = k.relid;
            rel.schema = k.schema;
            rel.name = k.table;
            rel.reltuples = k.reltuples;  // -1 (never vacuumed or analyzed): no bloat estimate
            rel.relpages = k.relpages;
            rel.current_pages = k.heap_pages;
            rel.stats_window_seconds = window_s;
            rels.push_back(rel);
        }
        ci::RelationStats &rel = rels.back();
        if (!add_existing_index(rel, k)) continue;
        if (k.column && rel.find_column(k.column) == nullptr) {
            ci::ColumnStats c;
            c.name = k.column;
            c.type_name = k.type_name ? k.type_name : "";
            if (k.has_stats) {
                c.avg_width = k.avg_width;
                c.null_frac = k.null_frac;
                c.n_distinct = k.n_distinct;
            } else {
                c.avg_width = 8;
            }
            rel.columns.push_back(c);
        }
    }
    ci::HealthOptions options;
    options.min_window_seconds = min_window_s;
    std::vector<ci::HealthFinding> findings = ci::check_index_health(rels, options);
    int n = 0;
    for (const auto &f : findings) {
        if (n >= capacity) break;
        FindingRow &o = out[n++];
        copy_message(o.relation, sizeof o.relation, f.relation.c_str());
        copy_message(o.index, sizeof o.index, f.index.c_str());
        copy_message(o.issue, sizeof o.issue, ci::to_string(f.issue));
        o.size_bytes = f.size_bytes;
        o.scans = f.scans;
        copy_message(o.related, sizeof o.related, f.related_index.c_str());
        copy_message(o.detail, sizeof o.detail, f.detail.c_str());
        copy_message(o.fix_sql, sizeof o.fix_sql, f.fix_sql.c_str());
    }
    return n;
}

}  // namespace

// relation, index, issue, size_bytes, scans, fix_sql, related_index, detail, window_seconds
extern "C" Datum rubberduck_index_health(PG_FUNCTION_ARGS) {
    SrfRows srf = begin_srf(fcinfo);
    MemoryContext cxt = CurrentMemoryContext;
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    if (SPI_execute(kWindowQuery, true, 1) != SPI_OK_SELECT) elog(ERROR, "index health: window query failed");
    double window_s = spi_float8(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
    ExistingIndexRows existing = read_existing_indexes(nullptr, 0, cxt);
    const ExistingIndexRow *rows = existing.rows;
    int nrows = existing.count;
    SPI_finish();

    int capacity = nrows > 0 ? nrows : 1;  // at most one finding per index
    auto *findings = static_cast<FindingRow *>(palloc0(sizeof(FindingRow) * capacity));
    double min_window = static_cast<double>(index_directives.unused_window_s);
    int n = cpp_guard([&] { return compute_health(rows, nrows, window_s, min_window, findings, capacity); });

    for (int i = 0; i < n; ++i) {
        const FindingRow &f = findings[i];
        Datum values[9];
        bool nulls[9] = {false};
        values[0] = CStringGetTextDatum(f.relation);
        values[1] = CStringGetTextDatum(f.index);
        values[2] = CStringGetTextDatum(f.issue);
        values[3] = Int64GetDatum(f.size_bytes);
        values[4] = Int64GetDatum(f.scans);
        text_or_null(f.fix_sql, values[5], nulls[5]);
        text_or_null(f.related, values[6], nulls[6]);
        text_or_null(f.detail, values[7], nulls[7]);
        values[8] = Float8GetDatum(window_s);
        put_row(srf, values, nulls);
    }
    return (Datum)0;
}

namespace {

// text[] → palloc'd C strings (NULL elements stay nullptr); *count = -1 for a NULL array.
const char **cstring_array(FunctionCallInfo fcinfo, int arg, int *count) {
    *count = -1;
    if (PG_ARGISNULL(arg)) return nullptr;
    ArrayType *arr = PG_GETARG_ARRAYTYPE_P(arg);
    Datum *elems;
    bool *nulls;
    deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, count);
    auto **out = static_cast<const char **>(palloc0(sizeof(char *) * (*count > 0 ? *count : 1)));
    for (int i = 0; i < *count; ++i) out[i] = nulls[i] ? nullptr : TextDatumGetCString(elems[i]);
    return out;
}

}  // namespace

// _whatif_cost(query text, relation regclass, keys text[], method text, include text[], predicate text,
//              params text[], param_types regtype[], as_role regrole) -> float8
// The advisor's C++ cost entry (whatif_cost) for one hypothetical index built from an IndexDef; NULL keys =
// no index (the baseline). Administrators only: it plans as another role.
extern "C" Datum rubberduck_whatif_cost(PG_FUNCTION_ARGS) {
    require_admin("plan hypothetical costs as another role");
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("query must not be NULL")));
    char *query = text_to_cstring(PG_GETARG_TEXT_PP(0));
    Oid relid = PG_ARGISNULL(1) ? InvalidOid : PG_GETARG_OID(1);
    int nkeys, ninclude, nparams;
    const char **keys = cstring_array(fcinfo, 2, &nkeys);
    const char *method = PG_ARGISNULL(3) ? "btree" : text_to_cstring(PG_GETARG_TEXT_PP(3));
    const char **include = cstring_array(fcinfo, 4, &ninclude);
    const char *predicate = PG_ARGISNULL(5) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(5));
    const char **params = cstring_array(fcinfo, 6, &nparams);
    Oid *types = nullptr;
    int ntypes = -1;
    if (!PG_ARGISNULL(7)) {
        ArrayType *arr = PG_GETARG_ARRAYTYPE_P(7);
        Datum *elems;
        bool *nulls;
        deconstruct_array(arr, REGTYPEOID, sizeof(Oid), true, TYPALIGN_INT, &elems, &nulls, &ntypes);
        types = static_cast<Oid *>(palloc0(sizeof(Oid) * (ntypes > 0 ? ntypes : 1)));
        for (int i = 0; i < ntypes; ++i) types[i] = nulls[i] ? InvalidOid : DatumGetObjectId(elems[i]);
    }
    if (ntypes >= 0 && nparams >= 0 && ntypes != nparams)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("params and param_types must have the same length")));
    if (nparams >= 0 && ntypes < 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("params need param_types")));
    Oid role = PG_ARGISNULL(8) ? InvalidOid : PG_GETARG_OID(8);
    const char *schema = "";
    const char *table = "";
    if (nkeys > 0) {
        if (!OidIsValid(relid))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("keys need a relation")));
        schema = get_namespace_name(get_rel_namespace(relid));
        table = get_rel_name(relid);
        if (!schema || !table)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation %u does not exist", relid)));
    }

    WhatifQuery q;
    q.text = query;
    q.nparams = ntypes > 0 ? ntypes : 0;
    q.param_types = ntypes >= 0 ? types : nullptr;
    q.param_values = nparams > 0 ? params : nullptr;
    q.userid = role;
    WhatifResult r = cpp_guard([&] {
        std::vector<ci::IndexDef> config;
        if (nkeys > 0) {
            ci::IndexDef def;
            def.relation_oid = relid;
            def.schema = schema;
            def.table = table;
            def.method = ci::parse_index_method(method);
            for (int i = 0; i < nkeys; ++i) {
                if (keys[i] == nullptr) throw UserError("keys must not contain NULL");
                ci::IndexKey k;
                std::string key = keys[i];
                if (key.find('(') != std::string::npos)
                    k.expression = key;
                else
                    k.column = key;
                def.keys.push_back(k);
            }
            for (int i = 0; i < ninclude; ++i) {
                if (include[i] == nullptr) throw UserError("include must not contain NULL");
                def.include.push_back(include[i]);
            }
            def.predicate = predicate;
            config.push_back(def);
        }
        return whatif_cost(q, config);
    });
    if (r.interrupted) CHECK_FOR_INTERRUPTS();
    if (!r.ok) ereport(ERROR, (errcode(r.sqlstate), errmsg("what-if planning failed: %s", r.message)));
    PG_RETURN_FLOAT8(r.total_cost);
}
