// rubberduck.analyze_migration(sql text): one row per finding (at least one per statement).
#include "pg/functions/srf.hpp"
#include "pg/migration/analyze.hpp"

namespace cm = rubberduck::core::migration;
using namespace rubberduck::pg;

extern "C" {
PG_FUNCTION_INFO_V1(rubberduck_analyze_migration);
}

RD_EXPORT Datum rubberduck_analyze_migration(PG_FUNCTION_ARGS) {
    if (PG_ARGISNULL(0))
        ereport(ERROR,
                (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("the migration SQL must not be NULL")));
    const char *sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
    SrfRows srf = begin_srf(fcinfo);
    // The analysis object lives in the per-call context; rows are copied into the tuplestore.
    const migration::MigrationAnalysis *a = migration::analyze_migration_text(sql);
    for (size_t i = 0; i < a->findings.size(); ++i) {
        const cm::MigrationFinding &f = a->findings[i];
        Datum values[11];
        bool nulls[11] = {false};
        values[0] = Int32GetDatum(f.statement_no);
        values[1] = text_datum(f.statement.c_str());
        text_or_null(f.relation.c_str(), values[2], nulls[2]);
        values[3] = text_datum(f.rule.c_str());
        values[4] = text_datum(cm::severity_name(f.severity));
        nulls[5] = !f.lock_mode.has_value();
        if (!nulls[5]) values[5] = text_datum(cm::lock_mode_name(*f.lock_mode));
        values[6] = BoolGetDatum(f.rewrites_table);
        values[7] = BoolGetDatum(f.scans_table);
        values[8] = Float8GetDatum(f.est_duration_ms);
        text_or_null(f.message.c_str(), values[9], nulls[9]);
        text_or_null(f.safer_alternative.c_str(), values[10], nulls[10]);
        put_row(srf, values, nulls);
    }
    return (Datum)0;
}
