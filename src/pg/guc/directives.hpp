// Directives: every rubberduck.* GUC (DESIGN.md §4). Values are per process (R37): agents re-read them after
// each reload, so a change takes effect at the next cycle without a restart.
#pragma once

#include <cstdint>
#include <optional>

#include "core/runtime/agent_catalog.h"
#include "core/runtime/directive_parser.h"

namespace rubberduck::pg {

enum class TrackLevel { None = 0, Top = 1, All = 2 };

struct Directives {
    bool enabled = true;
    char *database = nullptr;  // PGC_POSTMASTER
    char *mode_text = nullptr;
    char *skills_text = nullptr;
    int naptime_ms = 10000;
    int track = static_cast<int>(TrackLevel::Top);
    double sample_rate = 0.1;
    int max_queries = 5000;  // PGC_POSTMASTER: sizes shared memory
    int state_save_interval_s = 300;
    int crash_guard_max_deaths = 3;
    int crash_guard_window_s = 300;
    char *debug_inject_fault = nullptr;
    char *agent_mode_text[core::runtime::kAgentCount] = {};
    int agent_interval_ms[core::runtime::kAgentCount] = {};
    char *skill_mode_text[core::runtime::kSkillCount] = {};

    // Parsed by assign hooks (values already validated by check hooks).
    core::runtime::Mode mode = core::runtime::Mode::Advise;
    uint32_t skills_mask = core::runtime::kAllSkillsMask;
    std::optional<core::runtime::Mode> agent_mode[core::runtime::kAgentCount];
    std::optional<core::runtime::Mode> skill_mode[core::runtime::kSkillCount];
};

extern Directives directives;

void define_directives();
void mark_directives_reserved();  // after every rubberduck.* GUC is defined (R35)

// Effective autonomy of a skill: skill over agent over global.
core::runtime::Mode skill_mode(int skill_index);
core::runtime::Mode agent_mode(core::runtime::AgentId agent);
bool skill_enabled(int skill_index);
int agent_interval_ms(core::runtime::AgentId agent);

}  // namespace rubberduck::pg
