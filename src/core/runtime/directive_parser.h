// Parsing and validation of directive (GUC) values. Check hooks call these through the C->C++ guard; the
// message of std::invalid_argument is shown to the user as the reason the value was rejected.
#pragma once
#include "core/common/no_postgres.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/runtime/agent_catalog.h"

namespace rubberduck::core::runtime {

enum class Mode { Observe = 0, Advise = 1, Autonomous = 2 };

// "observe" | "advise" | "autonomous"; an empty string means "inherit" when allow_inherit.
std::optional<Mode> parse_mode(std::string_view text, bool allow_inherit);
std::string_view mode_name(Mode mode);
// The most specific setting wins: skill over agent over global.
Mode effective_mode(Mode global, std::optional<Mode> agent, std::optional<Mode> skill);

// Comma-separated skill names; "all" or "*" means every skill; "" or "none" means no skill. Bit i = skill
// index i.
uint32_t parse_skill_list(std::string_view text);
constexpr uint32_t kAllSkillsMask = (1u << kSkillCount) - 1;

enum class FaultKind { Error, Exception, Exit };
struct FaultInjection {
    AgentId agent;
    FaultKind kind;
};
// "<agent>:error|exception|exit"; "" means none.
std::optional<FaultInjection> parse_fault(std::string_view text);

}  // namespace rubberduck::core::runtime
