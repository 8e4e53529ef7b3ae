#include "core/runtime/directive_parser.h"

#include <stdexcept>

namespace rubberduck::core::runtime {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string skill_names() {
    std::string all;
    for (const auto &s : kSkills) {
        if (!all.empty()) all += ", ";
        all += s.name;
    }
    return all;
}

}  // namespace

std::optional<Mode> parse_mode(std::string_view text, bool allow_inherit) {
    text = trim(text);
    if (text == "observe") return Mode::Observe;
    if (text == "advise") return Mode::Advise;
    if (text == "autonomous") return Mode::Autonomous;
    if (text.empty() && allow_inherit) return std::nullopt;
    throw std::invalid_argument(
        "invalid mode \"" + std::string(text) + "\": use observe, advise or autonomous" +
        (allow_inherit ? std::string(" (or an empty string to inherit)") : std::string()));
}

std::string_view mode_name(Mode mode) {
    switch (mode) {
        case Mode::Observe:
            return "observe";
        case Mode::Advise:
            return "advise";
        case Mode::Autonomous:
            return "autonomous";
    }
    return "advise";
}

Mode effective_mode(Mode global, std::optional<Mode> agent, std::optional<Mode> skill) {
    if (skill) return *skill;
    if (agent) return *agent;
    return global;
}

uint32_t parse_skill_list(std::string_view text) {
    uint32_t mask = 0;
    text = trim(text);
    if (text.empty() || text == "none") return 0;
    while (!text.empty()) {
        size_t comma = text.find(',');
        std::string_view item = trim(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
        if (item.empty())
            throw std::invalid_argument("empty skill name in list: separate skills with single commas");
        if (item == "all" || item == "*") {
            mask |= kAllSkillsMask;
            continue;
        }
        auto index = find_skill(item);
        if (!index)
            throw std::invalid_argument("unknown skill \"" + std::string(item) + "\": known skills are " +
                                        skill_names());
        mask |= 1u << *index;
    }
    return mask;
}

std::optional<FaultInjection> parse_fault(std::string_view text) {
    text = trim(text);
    if (text.empty()) return std::nullopt;
    size_t colon = text.find(':');
    if (colon == std::string_view::npos)
        throw std::invalid_argument("fault injection must look like \"<agent>:error|exception|exit\"");
    auto agent = find_agent(trim(text.substr(0, colon)));
    if (!agent)
        throw std::invalid_argument("unknown agent \"" + std::string(trim(text.substr(0, colon))) +
                                    "\": use query_optimizer, data_persistence, migration or health_sensor");
    auto kind = trim(text.substr(colon + 1));
    if (kind == "error") return FaultInjection{*agent, FaultKind::Error};
    if (kind == "exception") return FaultInjection{*agent, FaultKind::Exception};
    if (kind == "exit") return FaultInjection{*agent, FaultKind::Exit};
    throw std::invalid_argument("unknown fault \"" + std::string(kind) + "\": use error, exception or exit");
}

}  // namespace rubberduck::core::runtime
