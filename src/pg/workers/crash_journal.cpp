#include "pg/workers/crash_journal.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <set>
#include <string>

#include "pg/boundary/cpp_guard.hpp"
#include "pg/guc/directives.hpp"

namespace rubberduck::pg {
namespace {

constexpr const char *kJournalPath = PGSTAT_STAT_PERMANENT_DIRECTORY "/rubberduck_agents.journal";
char exit_line[160];  // prepared at start so the signal handler only calls open/write/close
size_t exit_line_len = 0;

int64_t now_ms() {
    return static_cast<int64_t>(time(nullptr)) * 1000;
}

void append_raw(const char *line, size_t len) {
    int fd = open(kJournalPath, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0) return;
    ssize_t ignored = write(fd, line, len);
    (void)ignored;
    close(fd);
}

extern "C" void rubberduck_agent_quit_handler(SIGNAL_ARGS) {
    if (exit_line_len > 0) append_raw(exit_line, exit_line_len);
    _exit(2);
}

}  // namespace

void journal_agent_start(const char *agent_name) {
    int64_t at = now_ms();
    char line[160];
    int n =
        snprintf(line, sizeof line, "start %s %d %lld\n", agent_name, MyProcPid, static_cast<long long>(at));
    if (n > 0) append_raw(line, static_cast<size_t>(n));
    n = snprintf(exit_line, sizeof exit_line, "exit %s %d %lld\n", agent_name, MyProcPid,
                 static_cast<long long>(at));
    exit_line_len = n > 0 ? static_cast<size_t>(n) : 0;
}

void journal_agent_exit() {
    if (exit_line_len > 0) append_raw(exit_line, exit_line_len);
    exit_line_len = 0;
}

void install_quit_handler() {
    pqsignal(SIGQUIT, rubberduck_agent_quit_handler);
}

bool crash_guard_tripped(char *reason, size_t reason_len, bool compact) {
    GuardFailure failure;
    bool tripped = false;
    std::string why;
    run_catching(
        [&] {
            std::string text;
            if (FILE *f = std::fopen(kJournalPath, "r")) {
                char buf[4096];
                size_t n;
                while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
                std::fclose(f);
            }
            auto entries = core::runtime::parse_journal(text);
            std::set<int64_t> live;
            for (const auto &e : entries)
                if (e.kind == core::runtime::JournalEntry::Kind::Start &&
                    kill(static_cast<pid_t>(e.pid), 0) == 0)
                    live.insert(e.pid);
            int64_t window = static_cast<int64_t>(directives.crash_guard_window_s) * 1000;
            auto verdict = core::runtime::evaluate_crash_guard(entries, live, now_ms(), window,
                                                               directives.crash_guard_max_deaths);
            tripped = verdict.tripped;
            why = verdict.reason;
            if (compact && !tripped) {
                std::string kept;
                for (const auto &e : core::runtime::compact_journal(entries, now_ms(), window))
                    kept += core::runtime::format_journal_entry(e);
                std::string tmp = std::string(kJournalPath) + ".tmp";
                if (FILE *f = std::fopen(tmp.c_str(), "w")) {
                    std::fwrite(kept.data(), 1, kept.size(), f);
                    std::fclose(f);
                    std::rename(tmp.c_str(), kJournalPath);
                }
            }
        },
        failure);
    if (failure.failed) {
        ereport(WARNING,
                (errmsg("rubberduck_agents: could not read the crash journal: %s", failure.message)));
        return false;
    }
    if (tripped) strlcpy(reason, why.c_str(), reason_len);
    return tripped;
}

void reset_crash_journal() {
    if (unlink(kJournalPath) != 0 && errno != ENOENT)
        ereport(WARNING, (errmsg("rubberduck_agents: could not remove \"%s\": %m", kJournalPath)));
}

}  // namespace rubberduck::pg
