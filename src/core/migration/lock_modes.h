// PostgreSQL's eight table-level lock modes (docs "Explicit Locking", lock.h) and which one each statement or
// ALTER TABLE subcommand takes in PostgreSQL 15 (tablecmds.c AlterTableGetLockLevel and the command code).
#pragma once
#include "core/common/no_postgres.h"

#include <optional>
#include <string>
#include <vector>

namespace rubberduck::core::migration {

// Numbered as in lockdefs.h; a larger number is "stronger" in PostgreSQL's own ordering.
enum class LockMode : int {
    AccessShare = 1,
    RowShare = 2,
    RowExclusive = 3,
    ShareUpdateExclusive = 4,
    Share = 5,
    ShareRowExclusive = 6,
    Exclusive = 7,
    AccessExclusive = 8,
};

// As PostgreSQL spells it in the docs and LOCK TABLE: "ACCESS EXCLUSIVE", "SHARE UPDATE EXCLUSIVE"...
const char *lock_mode_name(LockMode mode);
// pg_locks.mode spelling: "AccessExclusiveLock".
const char *lock_mode_pg_locks_name(LockMode mode);
// Parses either spelling (case-insensitive); throws std::invalid_argument on anything else.
LockMode parse_lock_mode(const std::string &text);

// The conflict table of the docs (Table 13.2): does holding `a` block a request for `b`? Symmetric.
bool conflicts(LockMode a, LockMode b);
// Blocks plain SELECT (AccessShare): only ACCESS EXCLUSIVE.
bool blocks_reads(LockMode mode);
// Blocks INSERT/UPDATE/DELETE (RowExclusive): SHARE and stronger.
bool blocks_writes(LockMode mode);
// Blocks other DDL, VACUUM, CREATE INDEX (SHARE UPDATE EXCLUSIVE conflicts with itself).
bool blocks_ddl(LockMode mode);
// A one-line description of what `mode` blocks, for messages.
std::string blocking_summary(LockMode mode);

// PostgreSQL's ordering (higher number wins); nullopt is "no lock".
LockMode strongest(LockMode a, LockMode b);
std::optional<LockMode> strongest(std::optional<LockMode> a, std::optional<LockMode> b);

}  // namespace rubberduck::core::migration

namespace rubberduck::core::migration {

struct AlterTableCmd;
struct StatementDescription;
struct RelationName;

// The lock PostgreSQL 15 takes on the altered table for one ALTER TABLE subcommand (AlterTableGetLockLevel).
LockMode alter_table_cmd_lock(const AlterTableCmd &cmd);

struct RelationLock {
    const RelationName *relation;  // points into the statement
    LockMode mode;
};
// Every table-level lock a statement requests, on the relations as the statement names them. For DROP INDEX
// and REINDEX INDEX the name is the index's: the lock is taken on the table owning it. BEGIN/COMMIT/SET/ALTER
// TYPE take none. An ALTER TABLE takes the strongest of its subcommands' locks once, up front.
std::vector<RelationLock> statement_locks(const StatementDescription &stmt);

}  // namespace rubberduck::core::migration
