#include "pg/shmem/runtime_registry.hpp"

#include "pg/persist/state_file.hpp"
#include "pg/shmem/shmem_registry.hpp"

extern "C" {
#include "storage/proc.h"
}

namespace rubberduck::pg {
namespace {

constexpr const char *kTranche = "rubberduck_runtime";
RuntimeShared *shared = nullptr;

void request() {
    RequestAddinShmemSpace(MAXALIGN(sizeof(RuntimeShared)));
    RequestNamedLWLockTranche(kTranche, 1);
}

void startup() {
    bool found = false;
    shared =
        static_cast<RuntimeShared *>(ShmemInitStruct("rubberduck runtime", sizeof(RuntimeShared), &found));
    if (found) return;
    std::memset(shared, 0, sizeof(RuntimeShared));
    shared->lock = &(GetNamedLWLockTranche(kTranche))->lock;
    shared->launcher_procno = -1;
    for (auto &a : shared->agents) {
        a.procno = -1;
        a.state = AgentState::NotRunning;
    }
}

// Lasting part: cumulative counters, so the views keep their history across restarts.
constexpr uint32_t kSectionVersion = 1;

void save(core::ByteWriter &out) {
    int64_t cycles[core::runtime::kAgentCount], agent_errors[core::runtime::kAgentCount];
    int32_t restarts[core::runtime::kAgentCount];
    int64_t runs[core::runtime::kSkillCount], skill_errors[core::runtime::kSkillCount];
    if (IsUnderPostmaster) LWLockAcquire(shared->lock, LW_SHARED);
    for (int i = 0; i < core::runtime::kAgentCount; ++i) {
        cycles[i] = shared->agents[i].cycles;
        agent_errors[i] = shared->agents[i].errors;
        restarts[i] = shared->agents[i].restarts;
    }
    for (int i = 0; i < core::runtime::kSkillCount; ++i) {
        runs[i] = shared->skills[i].runs;
        skill_errors[i] = shared->skills[i].errors;
    }
    if (IsUnderPostmaster) LWLockRelease(shared->lock);
    out.put<uint32_t>(core::runtime::kAgentCount);
    for (int i = 0; i < core::runtime::kAgentCount; ++i) {
        out.put(cycles[i]);
        out.put(agent_errors[i]);
        out.put(restarts[i]);
    }
    out.put<uint32_t>(core::runtime::kSkillCount);
    for (int i = 0; i < core::runtime::kSkillCount; ++i) {
        out.put(runs[i]);
        out.put(skill_errors[i]);
    }
}

void load(uint32_t version, core::ByteReader &in) {
    if (version != kSectionVersion) throw std::invalid_argument("unsupported runtime section version");
    if (in.get<uint32_t>() != core::runtime::kAgentCount) throw std::invalid_argument("agent count changed");
    for (auto &a : shared->agents) {
        a.cycles = in.get<int64_t>();
        a.errors = in.get<int64_t>();
        a.restarts = in.get<int32_t>();
    }
    if (in.get<uint32_t>() != core::runtime::kSkillCount) throw std::invalid_argument("skill count changed");
    for (auto &s : shared->skills) {
        s.runs = in.get<int64_t>();
        s.errors = in.get<int64_t>();
    }
}

}  // namespace

const char *agent_state_name(AgentState state) {
    switch (state) {
        case AgentState::NotRunning:
            return "not_running";
        case AgentState::Starting:
            return "restarting";
        case AgentState::Running:
            return "running";
        case AgentState::Idle:
            return "idle";
        case AgentState::Disabled:
            return "disabled";
        case AgentState::Restarting:
            return "restarting";
    }
    return "not_running";
}

void register_runtime_registry() {
    register_shmem_client({"runtime", request, startup});
    register_shmem_state_section({"runtime", kSectionVersion, save, load});
}

RuntimeShared *runtime_shared() {
    return shared;
}

void set_text(char *dst, size_t cap, const char *src) {
    if (!src) src = "";
    strlcpy(dst, src, cap);
}

void set_agent_state(core::runtime::AgentId agent, AgentState state, const char *note) {
    if (!shared) return;
    LWLockAcquire(shared->lock, LW_EXCLUSIVE);
    auto &slot = shared->agents[static_cast<int>(agent)];
    slot.state = state;
    if (note) set_text(slot.note, sizeof slot.note, note);
    LWLockRelease(shared->lock);
}

bool wake_process(int32_t pid, int32_t procno) {
    if (pid <= 0 || procno < 0 || procno >= static_cast<int32_t>(ProcGlobal->allProcCount)) return false;
    PGPROC *proc = &ProcGlobal->allProcs[procno];
    if (proc->pid != pid) return false;
    SetLatch(&proc->procLatch);
    return true;
}

}  // namespace rubberduck::pg
