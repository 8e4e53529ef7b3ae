// Running SQL at top level from a background worker, the way pg_cron runs its jobs (ExecuteSqlString): parse,
// analyse, plan, and a portal run with isTopLevel = true inside a transaction the caller started but that is
// not a transaction block — so CREATE INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY, VACUUM ... are allowed
// (cpp-in-postgres.md R47). Used by the migration executor and the index builder.
#pragma once

#include "pg/postgres.hpp"

namespace rubberduck::pg {

// Refuses what must not run (ereport(ERROR)); sees the raw parse trees before anything runs.
using RawStatementCheck = void (*)(List *raw);

// Runs every statement of `sql`. Parse and plan trees live in a child context of `parent`, which
// survives the transactions CREATE INDEX CONCURRENTLY commits inside PortalRun (postgres.c keeps them in
// MessageContext for the same reason) and is deleted afterwards. May ereport(ERROR).
void exec_toplevel(const char *sql, MemoryContext parent, int cursor_options,
                   RawStatementCheck check = nullptr);

}  // namespace rubberduck::pg
