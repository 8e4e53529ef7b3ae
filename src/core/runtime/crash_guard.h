// Crash-loop guard. A worker that dies abnormally makes the postmaster restart the whole cluster with no
// back-off, so a deterministic crash at agent start would lock every client out forever. Agents append
// "start" to a journal before doing anything and "exit" when they leave normally; a start with no exit whose
// process is gone is an abnormal death. Too many of them inside a window keeps the agents off until an
// administrator resets the guard.
#pragma once
#include "core/common/no_postgres.h"

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace rubberduck::core::runtime {

struct JournalEntry {
    enum class Kind { Start, Exit } kind;
    std::string agent;
    int64_t pid;
    int64_t at_ms;  // Unix epoch milliseconds
};

std::string format_journal_entry(const JournalEntry &entry);
// Unparseable lines (e.g. a torn last line) are skipped, never fatal.
std::vector<JournalEntry> parse_journal(std::string_view text);

struct CrashGuardVerdict {
    bool tripped = false;
    int abnormal_deaths = 0;
    std::string reason;  // for the log and rubberduck.agents.last_error
};

// live_pids: processes known to be alive now (their open "start" is not a death).
CrashGuardVerdict evaluate_crash_guard(const std::vector<JournalEntry> &entries,
                                       const std::set<int64_t> &live_pids, int64_t now_ms, int64_t window_ms,
                                       int max_abnormal_deaths);

// Entries still inside the window, so the journal stays small when rewritten.
std::vector<JournalEntry> compact_journal(const std::vector<JournalEntry> &entries, int64_t now_ms,
                                          int64_t window_ms);

}  // namespace rubberduck::core::runtime
