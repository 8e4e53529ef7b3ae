// The crash-loop guard's journal (core/runtime/crash_guard.h) on disk: pg_stat/rubberduck_agents.journal.
#pragma once

#include "core/runtime/crash_guard.h"

namespace rubberduck::pg {

// Called by an agent as the very first thing it does; also prepares the line its SIGQUIT handler writes.
void journal_agent_start(const char *agent_name);
// Called from the agent's exit callback (normal exits, FATAL, ERROR): not a crash.
void journal_agent_exit();
// Installs the agent's SIGQUIT handler: the postmaster quits every child after some other process crashed or
// for an immediate shutdown; that is no fault of the agent's, so it is journalled as an exit
// (async-signal-safe write).
void install_quit_handler();

// Launcher: is the guard tripped now? Fills reason. Compacts the journal when compact is true.
bool crash_guard_tripped(char *reason, size_t reason_len, bool compact);
void reset_crash_journal();

}  // namespace rubberduck::pg
