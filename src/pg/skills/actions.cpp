#include "pg/skills/actions.hpp"

#include <cmath>

#include "pg/postgres.hpp"

extern "C" {
#include "access/xlog.h"
#include "utils/jsonb.h"
}

namespace rubberduck::pg {
namespace {

Datum text_or_null(const char *s, char &null_flag) {
    null_flag = s ? ' ' : 'n';
    return s ? CStringGetTextDatum(s) : (Datum)0;
}

}  // namespace

int64_t record_action(const ActionRecord &a) {
    if (RecoveryInProgress()) {
        ereport(LOG, (errmsg("rubberduck_agents: hot standby, not recording action %s on %s", a.action,
                             a.target ? a.target : "?")));
        return 0;
    }
    Oid types[9] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, FLOAT8OID, JSONBOID};
    Datum values[9];
    char nulls[10] = "         ";
    values[0] = text_or_null(a.agent, nulls[0]);
    values[1] = text_or_null(a.skill, nulls[1]);
    values[2] = text_or_null(a.action, nulls[2]);
    values[3] = text_or_null(a.target, nulls[3]);
    values[4] = text_or_null(a.sql, nulls[4]);
    values[5] = text_or_null(a.reason, nulls[5]);
    values[6] = text_or_null(a.status ? a.status : "proposed", nulls[6]);
    values[7] = Float8GetDatum(a.metric_before);
    nulls[7] = std::isnan(a.metric_before) ? 'n' : ' ';
    values[8] = DirectFunctionCall1(jsonb_in, CStringGetDatum(a.detail_json ? a.detail_json : "{}"));
    int rc = SPI_execute_with_args("SELECT rubberduck.record_action($1, $2, $3, $4, $5, $6, $7, $8, $9)", 9,
                                   types, values, nulls, false, 1);
    if (rc != SPI_OK_SELECT || SPI_processed != 1) elog(ERROR, "rubberduck_agents: could not record action");
    bool isnull;
    Datum id = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    return isnull ? 0 : DatumGetInt64(id);
}

void update_action(int64_t id, const char *status, double metric_after, const char *detail_json) {
    if (id <= 0 || RecoveryInProgress()) return;
    Oid types[4] = {INT8OID, TEXTOID, FLOAT8OID, JSONBOID};
    Datum values[4] = {Int64GetDatum(id), CStringGetTextDatum(status), Float8GetDatum(metric_after),
                       DirectFunctionCall1(jsonb_in, CStringGetDatum(detail_json ? detail_json : "{}"))};
    char nulls[5] = "    ";
    nulls[2] = std::isnan(metric_after) ? 'n' : ' ';
    SPI_execute_with_args("SELECT rubberduck.update_action($1, $2, $3, $4)", 4, types, values, nulls, false,
                          1);
}

}  // namespace rubberduck::pg
