// SQL functions behind the runtime views: agents, skills, signals; and reset, publish_signal, wake_agent.
#include <string>
#include <vector>

#include "core/runtime/agent_catalog.h"
#include "core/runtime/directive_parser.h"
#include "pg/boundary/cpp_guard.hpp"
#include "pg/functions/reset_registry.hpp"
#include "pg/functions/srf.hpp"
#include "pg/guc/directives.hpp"
#include "pg/module.hpp"
#include "pg/shmem/runtime_registry.hpp"
#include "pg/shmem/signal_bus.hpp"
#include "pg/workers/crash_journal.hpp"

extern "C" {
#include "storage/proc.h"
#include "utils/jsonb.h"
}

using namespace rubberduck::pg;
namespace rt = rubberduck::core::runtime;

extern "C" {
PG_FUNCTION_INFO_V1(rubberduck_agents_status);
PG_FUNCTION_INFO_V1(rubberduck_skills_status);
PG_FUNCTION_INFO_V1(rubberduck_signals_list);
PG_FUNCTION_INFO_V1(rubberduck_publish_signal);
PG_FUNCTION_INFO_V1(rubberduck_reset);
PG_FUNCTION_INFO_V1(rubberduck_wake_agent);
}

namespace {

const char *agent_label(int agent) {
    if (agent == kSignalFromUser) return "user";
    if (agent < 0 || agent >= rt::kAgentCount) return nullptr;
    return rt::kAgents[agent].name.data();
}

int agent_index_arg(text *name) {
    char *s = text_to_cstring(name);
    auto id = rt::find_agent(s);
    if (!id)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown agent \"%s\"", s),
                 errhint("Agents are query_optimizer, data_persistence, migration and health_sensor.")));
    return static_cast<int>(*id);
}

}  // namespace

// agent, pid, state, mode, skills, cycles, last_cycle_at, last_cycle_ms, last_error, last_error_at, restarts,
// detail
extern "C" Datum rubberduck_agents_status(PG_FUNCTION_ARGS) {
    SrfRows srf = begin_srf(fcinfo);
    RuntimeShared *rs = runtime_shared();
    if (!preloaded || !rs) warn_not_preloaded();
    RuntimeShared snapshot;
    if (rs) {
        LWLockAcquire(rs->lock, LW_SHARED);
        std::memcpy(&snapshot, rs, sizeof snapshot);
        LWLockRelease(rs->lock);
    }
    for (const auto &agent : rt::kAgents) {
        int i = static_cast<int>(agent.id);
        Datum values[12];
        bool nulls[12] = {false};
        values[0] = text_datum(agent.name.data());
        const char *skills[rt::kSkillCount];
        int nskills = 0;
        for (const auto &skill : rt::kSkills)
            if (skill.agent == agent.id && skill_enabled(skill.index)) skills[nskills++] = skill.name.data();
        values[3] = text_datum(rt::mode_name(agent_mode(agent.id)).data());
        values[4] = text_array_datum(skills, nskills);
        if (!rs) {
            nulls[1] = true;
            values[2] = text_datum("not_running");
            values[5] = Int64GetDatum(0);
            nulls[6] = nulls[7] = nulls[8] = nulls[9] = true;
            values[10] = Int32GetDatum(0);
            values[11] = text_datum("rubberduck_agents is not in shared_preload_libraries");
        } else {
            const AgentSlot &slot = snapshot.agents[i];
            bool alive = slot.pid > 0;
            AgentState state = slot.state;
            if (!directives.enabled) state = AgentState::Disabled;
            values[1] = Int32GetDatum(slot.pid);
            nulls[1] = !alive;
            values[2] = text_datum(agent_state_name(state));
            values[5] = Int64GetDatum(slot.cycles);
            timestamp_or_null(slot.last_cycle_at, values[6], nulls[6]);
            values[7] = Float8GetDatum(slot.last_cycle_ms);
            nulls[7] = slot.last_cycle_at == 0;
            text_or_null(slot.last_error, values[8], nulls[8]);
            timestamp_or_null(slot.last_error_at, values[9], nulls[9]);
            values[10] = Int32GetDatum(slot.restarts);
            const char *detail = snapshot.crash_guard_tripped ? snapshot.crash_guard_reason : slot.note;
            text_or_null(detail, values[11], nulls[11]);
        }
        put_row(srf, values, nulls);
    }
    return (Datum)0;
}

// skill, agent, enabled, mode, runs, last_run_at, last_run_ms, errors, implemented, note, last_error,
// description
extern "C" Datum rubberduck_skills_status(PG_FUNCTION_ARGS) {
    SrfRows srf = begin_srf(fcinfo);
    RuntimeShared *rs = runtime_shared();
    if (!preloaded || !rs) warn_not_preloaded();
    SkillSlot slots[rt::kSkillCount];
    std::memset(slots, 0, sizeof slots);
    if (rs) {
        LWLockAcquire(rs->lock, LW_SHARED);
        std::memcpy(slots, rs->skills, sizeof slots);
        LWLockRelease(rs->lock);
    }
    for (const auto &skill : rt::kSkills) {
        const SkillSlot &s = slots[skill.index];
        Datum values[12];
        bool nulls[12] = {false};
        values[0] = text_datum(skill.name.data());
        values[1] = text_datum(rt::agent_name(skill.agent).data());
        values[2] = BoolGetDatum(skill_enabled(skill.index));
        values[3] = text_datum(rt::mode_name(skill_mode(skill.index)).data());
        values[4] = Int64GetDatum(s.runs);
        timestamp_or_null(s.last_run_at, values[5], nulls[5]);
        values[6] = Float8GetDatum(s.last_run_ms);
        nulls[6] = s.last_run_at == 0;
        values[7] = Int64GetDatum(s.errors);
        values[8] = BoolGetDatum(s.last_run_at == 0 ? false : s.implemented);
        nulls[8] = s.last_run_at == 0;
        const char *note = !skill_enabled(skill.index) ? "disabled by rubberduck.skills" : s.note;
        if (!rs) note = "agents not running: rubberduck_agents is not in shared_preload_libraries";
        text_or_null(note, values[9], nulls[9]);
        text_or_null(s.last_error, values[10], nulls[10]);
        values[11] = text_datum(skill.description.data());
        put_row(srf, values, nulls);
    }
    return (Datum)0;
}

// seq, at, from_agent, to_agent, kind, payload (text; the view casts to jsonb), delivered_to
extern "C" Datum rubberduck_signals_list(PG_FUNCTION_ARGS) {
    SrfRows srf = begin_srf(fcinfo);
    if (!runtime_shared()) return (Datum)0;
    std::vector<SignalEntry> entries = cpp_guard([] { return list_signals(); });
    uint64_t cursors[rt::kAgentCount];
    for (int a = 0; a < rt::kAgentCount; ++a) cursors[a] = signal_cursor(a);
    for (const auto &e : entries) {
        Datum values[7];
        bool nulls[7] = {false};
        values[0] = Int64GetDatum(static_cast<int64_t>(e.seq));
        values[1] = TimestampTzGetDatum(e.at);
        values[2] = text_datum(agent_label(e.from_agent));
        text_or_null(agent_label(e.to_agent), values[3], nulls[3]);
        values[4] = text_datum(e.kind);
        values[5] = text_datum(e.payload);
        const char *delivered[rt::kAgentCount];
        int n = 0;
        for (int a = 0; a < rt::kAgentCount; ++a) {
            bool addressed = (e.to_agent == kSignalBroadcast || e.to_agent == a) && e.from_agent != a;
            if (addressed && cursors[a] >= e.seq) delivered[n++] = rt::kAgents[a].name.data();
        }
        values[6] = text_array_datum(delivered, n);
        put_row(srf, values, nulls);
    }
    return (Datum)0;
}

// publish_signal(kind text, payload jsonb, to_agent text) -> bigint
extern "C" Datum rubberduck_publish_signal(PG_FUNCTION_ARGS) {
    require_admin("publish a signal");
    if (!runtime_shared()) {
        warn_not_preloaded();
        PG_RETURN_NULL();
    }
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("signal kind must not be null")));
    char *kind = text_to_cstring(PG_GETARG_TEXT_PP(0));
    if (kind[0] == '\0' || strlen(kind) >= kSignalKindLen)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("signal kind must be 1 to %d characters", kSignalKindLen - 1)));
    const char *payload = "{}";
    if (!PG_ARGISNULL(1)) {
        Jsonb *jb = PG_GETARG_JSONB_P(1);
        if (!JB_ROOT_IS_OBJECT(jb))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("signal payload must be a JSON object")));
        payload = JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
        if (strlen(payload) >= kSignalPayloadLen)
            ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                            errmsg("signal payload is %zu bytes; the limit is %d", strlen(payload),
                                   kSignalPayloadLen - 1)));
    }
    int to = PG_ARGISNULL(2) ? kSignalBroadcast : agent_index_arg(PG_GETARG_TEXT_PP(2));
    PG_RETURN_INT64(static_cast<int64_t>(publish_signal(kSignalFromUser, to, kind, payload)));
}

// reset(what text) -> void
extern "C" Datum rubberduck_reset(PG_FUNCTION_ARGS) {
    require_admin("reset rubberduck_agents state");
    const char *what = PG_ARGISNULL(0) ? "all" : text_to_cstring(PG_GETARG_TEXT_PP(0));
    run_reset(what);
    PG_RETURN_VOID();
}

// wake_agent(agent text, wait boolean, timeout_ms int) -> bigint: the agent's cycle count after waking it;
// with wait, returns once a cycle that started after the call has finished (deterministic trigger for tests).
extern "C" Datum rubberduck_wake_agent(PG_FUNCTION_ARGS) {
    require_admin("wake an agent");
    RuntimeShared *rs = runtime_shared();
    if (!rs)
        ereport(ERROR,
                (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("the agents are not running"),
                 errhint("Add rubberduck_agents to shared_preload_libraries and restart the server.")));
    int agent = agent_index_arg(PG_GETARG_TEXT_PP(0));
    bool wait = PG_ARGISNULL(1) ? true : PG_GETARG_BOOL(1);
    int timeout_ms = PG_ARGISNULL(2) ? 30000 : PG_GETARG_INT32(2);
    TimestampTz called_at = GetCurrentTimestamp();
    LWLockAcquire(rs->lock, LW_SHARED);
    int64_t cycles = rs->agents[agent].cycles;
    int32_t pid = rs->agents[agent].pid, procno = rs->agents[agent].procno;
    LWLockRelease(rs->lock);
    if (!wake_process(pid, procno))
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("agent %s is not running", rt::kAgents[agent].name.data()),
                        errhint("See SELECT * FROM rubberduck.agents for its state.")));
    if (!wait) PG_RETURN_INT64(cycles);
    // Done when a cycle that started after this call has finished (or failed).
    TimestampTz deadline = TimestampTzPlusMilliseconds(called_at, timeout_ms);
    for (;;) {
        LWLockAcquire(rs->lock, LW_SHARED);
        const AgentSlot &slot = rs->agents[agent];
        bool done = slot.last_cycle_at >= called_at || slot.last_error_at >= called_at;
        cycles = slot.cycles;
        LWLockRelease(rs->lock);
        if (done) PG_RETURN_INT64(cycles);
        if (GetCurrentTimestamp() >= deadline)
            ereport(ERROR,
                    (errcode(ERRCODE_QUERY_CANCELED), errmsg("agent %s did not finish a cycle within %d ms",
                                                             rt::kAgents[agent].name.data(), timeout_ms)));
        wake_process(pid, procno);
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10L, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
    }
}
