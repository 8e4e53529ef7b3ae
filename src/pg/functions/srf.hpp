// Helpers for set-returning SQL functions: a materialised tuplestore in the per-query context (R16).
#pragma once

#include "pg/postgres.hpp"

namespace rubberduck::pg {

struct SrfRows {
    ReturnSetInfo *rsinfo;
    int natts;
};

inline SrfRows begin_srf(FunctionCallInfo fcinfo) {
    InitMaterializedSRF(fcinfo, 0);
    auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    return {rsinfo, rsinfo->setDesc->natts};
}

inline void put_row(SrfRows &srf, Datum *values, bool *nulls) {
    tuplestore_putvalues(srf.rsinfo->setResult, srf.rsinfo->setDesc, values, nulls);
}

inline Datum text_datum(const char *s) {
    return CStringGetTextDatum(s ? s : "");
}

// NULL when empty.
inline void text_or_null(const char *s, Datum &value, bool &isnull) {
    isnull = (s == nullptr || *s == '\0');
    if (!isnull) value = CStringGetTextDatum(s);
}

inline void timestamp_or_null(TimestampTz t, Datum &value, bool &isnull) {
    isnull = (t == 0);
    if (!isnull) value = TimestampTzGetDatum(t);
}

// A text[] from C strings.
Datum text_array_datum(const char *const *items, int count);

// Raises the standard "not preloaded" WARNING with its HINT (once per call site use).
void warn_not_preloaded();

// ERROR unless the caller is a superuser or a member of rubberduck_admin (changing functions, R54).
void require_admin(const char *what);

}  // namespace rubberduck::pg
