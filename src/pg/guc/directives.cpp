#include "pg/guc/directives.hpp"

#include <array>
#include <string>
#include <utility>

#include "pg/boundary/cpp_guard.hpp"

namespace rubberduck::pg {

Directives directives;

namespace rt = core::runtime;

namespace {

// Names must outlive the GUC machinery: built once, deliberately leaked (R14).
const char *persistent_name(const std::string &name) {
    return (new std::string(name))->c_str();
}

// Runs a core parser in a check hook: never ereport (R36), report through GUC_check_errmsg instead.
template <typename Fn>
bool check_with(Fn &&parse) {
    GuardFailure failure;
    run_catching(parse, failure);
    if (!failure.failed) return true;
    GUC_check_errmsg("%s", failure.message);
    return false;
}

bool check_mode(char **newval, void **, GucSource) {
    return check_with([&] { rt::parse_mode(*newval ? *newval : "", false); });
}
void assign_mode(const char *newval, void *) {
    GuardFailure ignored;
    run_catching([&] { directives.mode = *rt::parse_mode(newval ? newval : "", false); }, ignored);
}

bool check_optional_mode(char **newval, void **, GucSource) {
    return check_with([&] { rt::parse_mode(*newval ? *newval : "", true); });
}

bool check_skills(char **newval, void **, GucSource) {
    return check_with([&] { rt::parse_skill_list(*newval ? *newval : ""); });
}
void assign_skills(const char *newval, void *) {
    GuardFailure ignored;
    run_catching([&] { directives.skills_mask = rt::parse_skill_list(newval ? newval : ""); }, ignored);
}

bool check_fault(char **newval, void **, GucSource) {
    return check_with([&] { rt::parse_fault(*newval ? *newval : ""); });
}

const struct config_enum_entry track_options[] = {
    {"none", static_cast<int>(TrackLevel::None), false},
    {"top", static_cast<int>(TrackLevel::Top), false},
    {"all", static_cast<int>(TrackLevel::All), false},
    {nullptr, 0, false},
};

// Per-agent and per-skill mode overrides share one assign hook each; the GUC's own name tells which one
// changed.
template <int Index>
void assign_agent_mode(const char *newval, void *) {
    GuardFailure ignored;
    run_catching([&] { directives.agent_mode[Index] = rt::parse_mode(newval ? newval : "", true); }, ignored);
}
template <int Index>
void assign_skill_mode(const char *newval, void *) {
    GuardFailure ignored;
    run_catching([&] { directives.skill_mode[Index] = rt::parse_mode(newval ? newval : "", true); }, ignored);
}

template <int... I>
constexpr std::array<GucStringAssignHook, sizeof...(I)> agent_mode_hooks(std::integer_sequence<int, I...>) {
    return {assign_agent_mode<I>...};
}
template <int... I>
constexpr std::array<GucStringAssignHook, sizeof...(I)> skill_mode_hooks(std::integer_sequence<int, I...>) {
    return {assign_skill_mode<I>...};
}

}  // namespace

void define_directives() {
    // PGC_POSTMASTER directives can only be defined while preloading (later it is FATAL); without preloading
    // they size nothing anyway.
    if (process_shared_preload_libraries_in_progress) {
        DefineCustomStringVariable(
            "rubberduck.database", "Database the agents connect to.",
            "Set at server start; CREATE EXTENSION rubberduck_agents in this database.", &directives.database,
            "postgres", PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
        DefineCustomIntVariable("rubberduck.max_queries",
                                "Maximum number of statements tracked in shared memory.",
                                "Sizes shared memory: takes effect at server start.", &directives.max_queries,
                                5000, 100, 1000000, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
    }
    DefineCustomBoolVariable("rubberduck.enabled", "Master switch: when off, no agent runs a cycle.", nullptr,
                             &directives.enabled, true, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("rubberduck.mode", "Default autonomy: observe, advise or autonomous.", nullptr,
                               &directives.mode_text, "advise", PGC_SIGHUP, 0, check_mode, assign_mode,
                               nullptr);
    DefineCustomStringVariable(
        "rubberduck.skills", "Comma-separated list of enabled skills ('all' for every skill).",
        "Removing a skill stops it at the agent's next cycle, without a restart.", &directives.skills_text,
        "all", PGC_SIGHUP, GUC_LIST_INPUT, check_skills, assign_skills, nullptr);
    DefineCustomIntVariable("rubberduck.naptime", "Time between agent cycles.", nullptr,
                            &directives.naptime_ms, 10000, 100, 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS, nullptr,
                            nullptr, nullptr);
    DefineCustomEnumVariable("rubberduck.track",
                             "Which statements the hooks collect: top, all (nested too) or none.", nullptr,
                             &directives.track, static_cast<int>(TrackLevel::Top), track_options, PGC_SUSET,
                             0, nullptr, nullptr, nullptr);
    DefineCustomRealVariable("rubberduck.sample_rate",
                             "Fraction of executions instrumented for row counts and predicate selectivity.",
                             nullptr, &directives.sample_rate, 0.1, 0.0, 1.0, PGC_SUSET, 0, nullptr, nullptr,
                             nullptr);
    DefineCustomIntVariable("rubberduck.state_save_interval", "How often learned state is written to disk.",
                            "It is always written at a clean shutdown too.",
                            &directives.state_save_interval_s, 300, 10, 86400, PGC_SIGHUP, GUC_UNIT_S,
                            nullptr, nullptr, nullptr);
    DefineCustomIntVariable("rubberduck.crash_guard_max_deaths",
                            "Abnormal agent deaths within the crash-guard window that keep the agents off.",
                            nullptr, &directives.crash_guard_max_deaths, 3, 1, 1000, PGC_SIGHUP, 0, nullptr,
                            nullptr, nullptr);
    DefineCustomIntVariable(
        "rubberduck.crash_guard_window", "Window over which abnormal agent deaths are counted.", nullptr,
        &directives.crash_guard_window_s, 300, 10, 86400, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
    DefineCustomStringVariable(
        "rubberduck.debug_inject_fault",
        "Testing only: '<agent>:error|exception|exit' makes that agent's next cycle fail.",
        "Fires once per value; set it back to '' afterwards.", &directives.debug_inject_fault, "", PGC_SUSET,
        GUC_SUPERUSER_ONLY | GUC_NOT_IN_SAMPLE, check_fault, nullptr, nullptr);

    static constexpr auto agent_hooks = agent_mode_hooks(std::make_integer_sequence<int, rt::kAgentCount>{});
    for (const auto &agent : rt::kAgents) {
        int i = static_cast<int>(agent.id);
        std::string base = "rubberduck." + std::string(agent.name);
        DefineCustomStringVariable(persistent_name(base + "_mode"),
                                   persistent_name("Autonomy of the " + std::string(agent.name) +
                                                   " agent; empty inherits rubberduck.mode."),
                                   nullptr, &directives.agent_mode_text[i], "", PGC_SIGHUP, 0,
                                   check_optional_mode, agent_hooks[i], nullptr);
        DefineCustomIntVariable(persistent_name(base + "_interval"),
                                persistent_name("Time between cycles of the " + std::string(agent.name) +
                                                " agent; 0 uses rubberduck.naptime."),
                                nullptr, &directives.agent_interval_ms[i], 0, 0, 24 * 3600 * 1000, PGC_SIGHUP,
                                GUC_UNIT_MS, nullptr, nullptr, nullptr);
    }
    static constexpr auto skill_hooks = skill_mode_hooks(std::make_integer_sequence<int, rt::kSkillCount>{});
    for (const auto &skill : rt::kSkills) {
        std::string name = "rubberduck." + std::string(skill.name) + "_mode";
        DefineCustomStringVariable(persistent_name(name),
                                   persistent_name("Autonomy of the " + std::string(skill.name) +
                                                   " skill; empty inherits its agent's mode."),
                                   nullptr, &directives.skill_mode_text[skill.index], "", PGC_SIGHUP, 0,
                                   check_optional_mode, skill_hooks[skill.index], nullptr);
    }
}

void mark_directives_reserved() {
    MarkGUCPrefixReserved("rubberduck");
}

rt::Mode agent_mode(rt::AgentId agent) {
    return rt::effective_mode(directives.mode, directives.agent_mode[static_cast<int>(agent)], std::nullopt);
}

rt::Mode skill_mode(int skill_index) {
    const auto &skill = rt::kSkills[skill_index];
    return rt::effective_mode(directives.mode, directives.agent_mode[static_cast<int>(skill.agent)],
                              directives.skill_mode[skill_index]);
}

bool skill_enabled(int skill_index) {
    return (directives.skills_mask >> skill_index) & 1u;
}

int agent_interval_ms(rt::AgentId agent) {
    int own = directives.agent_interval_ms[static_cast<int>(agent)];
    return own > 0 ? own : directives.naptime_ms;
}

}  // namespace rubberduck::pg
