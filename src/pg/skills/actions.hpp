// The audit API skills use for every autonomous action (rubberduck.actions): record what is proposed or done
// with its reason and the metric before, then update it with the outcome and the metric after. PG regime:
// call inside the agent's cycle (SPI connected). On a hot standby nothing can be written: record_action
// returns 0 and logs.
#pragma once

#include <cstdint>

namespace rubberduck::pg {

struct ActionRecord {
    const char *agent;
    const char *skill;
    const char *action;  // e.g. create_index, drop_index, rollback_migration
    const char *target;  // e.g. the relation or index
    const char *sql;     // the statement run (or proposed)
    const char *reason;
    const char *status;       // proposed | applied | verified | reverted | failed
    double metric_before;     // NaN = unknown
    const char *detail_json;  // JSON object, may be nullptr
};

int64_t record_action(const ActionRecord &action);
void update_action(int64_t id, const char *status, double metric_after, const char *detail_json);

}  // namespace rubberduck::pg
