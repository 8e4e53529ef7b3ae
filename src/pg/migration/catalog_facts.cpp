// Catalog facts for the migration analysis. PG regime throughout; each row is copied into the core's C++
// structures by a small cpp_guard lambda (R9: no C++ temporaries alive across a PostgreSQL call).
#include "pg/migration/catalog_facts.hpp"

#include <string>
#include <vector>

#include "pg/boundary/cpp_guard.hpp"
#include "pg/guc/migration_directives.hpp"

namespace rubberduck::pg::migration {

namespace cm = core::migration;

namespace {

constexpr char kSep = '\x1f';  // unit separator for string_agg'd name lists

const char *kRelationQuery =
    "SELECT c.oid, n.nspname, c.relname, c.relkind, c.reltuples::float8, "
    "       c.relpages::float8 * current_setting('block_size')::float8, "
    "       coalesce(pg_catalog.pg_stat_get_live_tuples(c.oid), 0)::float8 "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.oid = (SELECT coalesce((SELECT i.indrelid FROM pg_catalog.pg_index i WHERE i.indexrelid = "
    "r.oid), r.oid) "
    "               FROM (SELECT pg_catalog.to_regclass(CASE WHEN $2 IS NULL THEN pg_catalog.quote_ident($1) "
    "                     ELSE pg_catalog.quote_ident($2) || '.' || pg_catalog.quote_ident($1) END) AS oid) "
    "r) "
    "  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')";

const char *kColumnQuery =
    "SELECT a.attname, CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN et.typname ELSE t.typname END, "
    "       a.atttypmod, a.attnotnull, t.typcategory = 'A' AND t.typelem <> 0 "
    "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
    "LEFT JOIN pg_catalog.pg_type et ON et.oid = t.typelem "
    "WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";

const char *kIndexQuery =
    "SELECT ic.relname, i.indisunique, i.indisprimary, i.indisvalid, "
    "       ic.relpages::float8 * current_setting('block_size')::float8, "
    "       (SELECT string_agg(pg_catalog.pg_get_indexdef(i.indexrelid, k, true), E'\\x1f' ORDER BY k) "
    "        FROM generate_series(1, i.indnkeyatts) k) "
    "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
    "WHERE i.indrelid = $1 ORDER BY ic.relname";

const char *kConstraintQuery =
    "SELECT c.conname, c.contype::text, c.convalidated, "
    "       coalesce((SELECT string_agg(a.attname, E'\\x1f' ORDER BY k.ord) "
    "                 FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord) "
    "                 JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum), "
    "''), "
    "       CASE WHEN c.contype = 'c' THEN pg_catalog.pg_get_expr(c.conbin, c.conrelid) END, "
    "       fn.nspname, fc.relname "
    "FROM pg_catalog.pg_constraint c "
    "LEFT JOIN pg_catalog.pg_class fc ON fc.oid = c.confrelid "
    "LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace "
    "WHERE c.conrelid = $1 ORDER BY c.conname";

const char *kViewQuery =
    "SELECT DISTINCT vn.nspname || '.' || v.relname "
    "FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid "
    "JOIN pg_catalog.pg_class v ON v.oid = r.ev_class JOIN pg_catalog.pg_namespace vn ON vn.oid = "
    "v.relnamespace "
    "WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass "
    "  AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
    "  AND d.refobjid = $1 AND r.ev_class <> $1 ORDER BY 1";

// Column `col` (1-based) of row `row` as a C string ("" for NULL). PG regime.
const char *value(uint64 row, int col) {
    char *v = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
    return v ? v : "";
}

double number(uint64 row, int col) {
    bool isnull = false;
    Datum d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
    return isnull ? 0 : DatumGetFloat8(d);
}

bool flag(uint64 row, int col) {
    bool isnull = false;
    Datum d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
    return !isnull && DatumGetBool(d);
}

std::vector<std::string> split(const char *s) {
    std::vector<std::string> out;
    std::string cur;
    for (const char *p = s; *p; ++p) {
        if (*p == kSep) {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += *p;
        }
    }
    if (!cur.empty() || !out.empty()) out.push_back(cur);
    return out;
}

cm::ConstraintKind kind_of(char c) {
    switch (c) {
        case 'f':
            return cm::ConstraintKind::ForeignKey;
        case 'c':
            return cm::ConstraintKind::Check;
        case 'u':
            return cm::ConstraintKind::Unique;
        case 'p':
            return cm::ConstraintKind::PrimaryKey;
        case 'x':
            return cm::ConstraintKind::Exclusion;
        default:
            return cm::ConstraintKind::Other;
    }
}

int run_oid_query(const char *sql, Oid oid) {
    Oid types[1] = {OIDOID};
    Datum values[1] = {ObjectIdGetDatum(oid)};
    return SPI_execute_with_args(sql, 1, types, values, nullptr, true, 0);
}

// Reads the facts of the relation named (schema may be "") into facts, unless already there. PG regime.
void read_relation(const char *schema, const char *name, cm::CatalogFacts &facts) {
    Oid types[2] = {TEXTOID, TEXTOID};
    Datum values[2] = {CStringGetTextDatum(name), *schema ? CStringGetTextDatum(schema) : (Datum)0};
    char nulls[2] = {' ', *schema ? ' ' : 'n'};
    if (SPI_execute_with_args(kRelationQuery, 2, types, values, nulls, true, 1) != SPI_OK_SELECT ||
        SPI_processed != 1)
        return;  // neither exists: the core reports unknown_relation unless the migration creates it
    bool isnull = false;
    Oid oid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    const char *nsp = value(0, 2), *rel = value(0, 3), *kind = value(0, 4);
    double tuples = number(0, 5), bytes = number(0, 6), live = number(0, 7);
    bool known = cpp_guard([&] {
        for (const auto &r : facts.relations)
            if (r.name.schema == nsp && r.name.name == rel) return true;
        cm::RelationFacts f;
        f.name = {nsp, rel};
        f.rows = tuples >= 0 ? tuples : (live > 0 ? live : -1);
        f.bytes = bytes;
        f.is_view = kind[0] == 'v' || kind[0] == 'm';
        facts.relations.push_back(std::move(f));
        return false;
    });
    if (known) return;
    size_t idx = facts.relations.size() - 1;

    if (run_oid_query(kColumnQuery, oid) == SPI_OK_SELECT)
        for (uint64 i = 0; i < SPI_processed; ++i) {
            const char *att = value(i, 1), *typ = value(i, 2);
            int32 typmod = static_cast<int32>(pg_strtoint32(value(i, 3)));
            bool notnull = flag(i, 4), array = flag(i, 5);
            cpp_guard([&] {
                cm::ColumnFacts c;
                c.name = att;
                c.type = cm::type_from_catalog(typ, typmod, array);
                c.not_null = notnull;
                facts.relations[idx].columns.push_back(std::move(c));
            });
        }
    if (run_oid_query(kIndexQuery, oid) == SPI_OK_SELECT)
        for (uint64 i = 0; i < SPI_processed; ++i) {
            const char *iname = value(i, 1), *cols = value(i, 6);
            bool unique = flag(i, 2), primary = flag(i, 3), valid = flag(i, 4);
            double ibytes = number(i, 5);
            cpp_guard([&] {
                cm::IndexFacts x;
                x.name = iname;
                x.columns = split(cols);
                x.unique = unique;
                x.primary = primary;
                x.valid = valid;
                x.bytes = ibytes;
                facts.relations[idx].indexes.push_back(std::move(x));
            });
        }
    if (run_oid_query(kConstraintQuery, oid) == SPI_OK_SELECT)
        for (uint64 i = 0; i < SPI_processed; ++i) {
            const char *cname = value(i, 1), *ctype = value(i, 2), *cols = value(i, 4), *expr = value(i, 5),
                       *fnsp = value(i, 6), *frel = value(i, 7);
            bool validated = flag(i, 3);
            cpp_guard([&] {
                cm::ConstraintFacts k;
                k.name = cname;
                k.kind = kind_of(ctype[0]);
                k.columns = split(cols);
                k.validated = validated;
                k.expression = expr;
                if (*frel) k.referenced = {fnsp, frel};
                facts.relations[idx].constraints.push_back(std::move(k));
            });
        }
    if (run_oid_query(kViewQuery, oid) == SPI_OK_SELECT)
        for (uint64 i = 0; i < SPI_processed; ++i) {
            const char *v = value(i, 1);
            cpp_guard([&] { facts.relations[idx].dependent_views.emplace_back(v); });
        }
}

void read_name(const cm::RelationName &n, cm::CatalogFacts &facts) {
    if (n.name.empty()) return;
    read_relation(n.schema.c_str(), n.name.c_str(), facts);
}

}  // namespace

void read_throughput(cm::ServerThroughput &t) {
    if (SPI_execute("SELECT pg_catalog.to_regclass('rubberduck.migration_throughput') IS NOT NULL", true,
                    1) == SPI_OK_SELECT &&
        SPI_processed == 1 && flag(0, 1) &&
        SPI_execute("SELECT kind, rows_per_sec, bytes_per_sec FROM rubberduck.migration_throughput", true,
                    0) == SPI_OK_SELECT) {
        for (uint64 i = 0; i < SPI_processed; ++i) {
            const char *kind = value(i, 1);
            double rows = number(i, 2), bytes = number(i, 3);
            if (!(rows > 0)) continue;
            // The calibration measures the per-row (CPU) rate on a cached table; the per-byte (I/O) term
            // keeps its default or directive, since a function cannot measure uncached storage bandwidth.
            if (strcmp(kind, "rewrite") == 0) {
                t.rewrite_rows_per_s = rows;
                if (bytes > 0) t.rewrite_bytes_per_s = bytes;
            } else if (strcmp(kind, "scan") == 0) {
                t.scan_rows_per_s = rows;
                if (bytes > 0) t.scan_bytes_per_s = bytes;
            } else if (strcmp(kind, "index_build") == 0) {
                t.index_build_rows_per_s = rows;
            } else if (strcmp(kind, "fk_validate") == 0) {
                t.fk_validate_rows_per_s = rows;
            } else if (strcmp(kind, "dml") == 0) {
                t.dml_rows_per_s = rows;
            }
        }
    }
    const MigrationDirectives &d = migration_directives;
    auto over = [](double &field, double v) {
        if (v > 0) field = v;
    };
    over(t.rewrite_rows_per_s, d.rewrite_rows_per_sec);
    over(t.rewrite_bytes_per_s, d.rewrite_bytes_per_sec);
    over(t.scan_rows_per_s, d.scan_rows_per_sec);
    over(t.scan_bytes_per_s, d.scan_bytes_per_sec);
    over(t.index_build_rows_per_s, d.index_build_rows_per_sec);
    over(t.fk_validate_rows_per_s, d.fk_validate_rows_per_sec);
    over(t.dml_rows_per_s, d.dml_rows_per_sec);
}

cm::AnalyzerOptions analyzer_options_from_directives() {
    cm::AnalyzerOptions o;
    const MigrationDirectives &d = migration_directives;
    o.warning_lock_ms = d.warning_lock_ms;
    o.danger_lock_ms = d.danger_lock_ms > d.warning_lock_ms ? d.danger_lock_ms : d.warning_lock_ms;
    o.large_table_rows = d.large_table_rows;
    o.large_dml_rows = d.large_dml_rows;
    return o;
}

void read_catalog_facts(const std::vector<cm::StatementDescription> &statements, cm::CatalogFacts &facts) {
    facts.server_version_num = PG_VERSION_NUM;
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "rubberduck: SPI_connect failed");
    read_throughput(facts.throughput);
    for (size_t s = 0; s < statements.size(); ++s) {
        const cm::StatementDescription &d = statements[s];
        read_name(d.relation, facts);
        for (size_t i = 0; i < d.relations.size(); ++i) read_name(d.relations[i], facts);
        for (size_t i = 0; i < d.table_constraints.size(); ++i)
            read_name(d.table_constraints[i].referenced, facts);
        for (size_t i = 0; i < d.alter_cmds.size(); ++i) {
            read_name(d.alter_cmds[i].constraint.referenced, facts);
            read_name(d.alter_cmds[i].partition, facts);
        }
    }
    SPI_finish();
}

}  // namespace rubberduck::pg::migration
