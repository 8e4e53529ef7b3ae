#include "core/runtime/crash_guard.h"

#include <map>
#include <sstream>

namespace rubberduck::core::runtime {

std::string format_journal_entry(const JournalEntry &entry) {
    std::ostringstream out;
    out << (entry.kind == JournalEntry::Kind::Start ? "start" : "exit") << ' ' << entry.agent << ' '
        << entry.pid << ' ' << entry.at_ms << '\n';
    return out.str();
}

std::vector<JournalEntry> parse_journal(std::string_view text) {
    std::vector<JournalEntry> entries;
    std::istringstream in{std::string(text)};
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string kind, agent, extra;
        int64_t pid = 0, at = 0;
        if (!(fields >> kind >> agent >> pid >> at) || (fields >> extra)) continue;
        if (kind != "start" && kind != "exit") continue;
        entries.push_back(
            {kind == "start" ? JournalEntry::Kind::Start : JournalEntry::Kind::Exit, agent, pid, at});
    }
    return entries;
}

CrashGuardVerdict evaluate_crash_guard(const std::vector<JournalEntry> &entries,
                                       const std::set<int64_t> &live_pids, int64_t now_ms, int64_t window_ms,
                                       int max_abnormal_deaths) {
    std::map<int64_t, const JournalEntry *> open_starts;  // pid -> start without exit
    for (const auto &e : entries) {
        if (e.kind == JournalEntry::Kind::Start)
            open_starts[e.pid] = &e;
        else
            open_starts.erase(e.pid);
    }
    CrashGuardVerdict verdict;
    std::map<std::string, int> per_agent;
    for (const auto &[pid, start] : open_starts) {
        if (live_pids.count(pid) || now_ms - start->at_ms > window_ms) continue;
        ++verdict.abnormal_deaths;
        ++per_agent[start->agent];
    }
    if (verdict.abnormal_deaths >= max_abnormal_deaths) {
        verdict.tripped = true;
        std::ostringstream why;
        why << "crash-loop guard: " << verdict.abnormal_deaths << " abnormal agent deaths in the last "
            << window_ms / 1000 << " s (";
        bool first = true;
        for (const auto &[agent, n] : per_agent) {
            why << (first ? "" : ", ") << agent << " x" << n;
            first = false;
        }
        why << "); agents stay off until SELECT rubberduck.reset('crash_guard')";
        verdict.reason = why.str();
    }
    return verdict;
}

std::vector<JournalEntry> compact_journal(const std::vector<JournalEntry> &entries, int64_t now_ms,
                                          int64_t window_ms) {
    std::vector<JournalEntry> kept;
    for (const auto &e : entries)
        if (now_ms - e.at_ms <= window_ms) kept.push_back(e);
    return kept;
}

}  // namespace rubberduck::core::runtime
