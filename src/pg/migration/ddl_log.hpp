// The migration guard's record of every DDL statement it analysed: a fixed shared-memory ring written by the
// ProcessUtility hook (in any backend, any database) and drained by the migration agent into the table
// rubberduck.ddl_log. A hook must not write to tables (the user's transaction may abort, and the statement
// may be one that refuses to run in a transaction block); the ring survives the user's ROLLBACK, which is
// what a post-migration watch needs ("this DDL ran, then failed").
//
// Locking protocol: one LWLock (tranche "rubberduck_ddl_log"). Exclusive to append (a memcpy of one entry)
// and to advance the drained cursor; shared to copy entries out. Nothing else happens under the lock.
// The ring overwrites its oldest entry when full; the drain reports how many were lost.
#pragma once

#include <cstdint>

#include "pg/postgres.hpp"

namespace rubberduck::pg::migration {

constexpr int kDdlRingSize = 256;
constexpr int kDdlStatementLen = 1024;
constexpr int kDdlRulesLen = 256;
constexpr int kDdlNameLen = 2 * NAMEDATALEN + 2;

enum class DdlOutcome : uint8_t { Ok = 0, Failed = 1, Blocked = 2, Allowed = 3 };
const char *ddl_outcome_name(DdlOutcome o);

struct DdlEntry {
    uint64_t seq;  // 1-based; 0 = empty
    TimestampTz at;
    TimestampTz finished_at;
    Oid database;
    Oid userid;
    int32_t pid;
    uint8_t guard_mode;  // MigrationGuardMode
    DdlOutcome outcome;
    int8_t max_severity;  // core Severity, -1 = no finding
    int8_t lock_mode;     // core LockMode, 0 = none
    bool in_transaction;
    int32_t lock_timeout_applied_ms;  // 0 = not applied
    double est_duration_ms;
    double duration_ms;
    char command_tag[32];
    char relation[kDdlNameLen];
    char rules[kDdlRulesLen];  // comma-separated rule ids (ok excluded)
    char statement[kDdlStatementLen];
};

void register_ddl_log();  // from register_extension_parts (preloaded only)
bool ddl_log_ready();

// PG regime; cheap (one exclusive LWLock section around a memcpy). Returns the entry's seq (0 when not
// preloaded).
uint64_t ddl_log_append(DdlEntry &entry);

// PG regime, inside a transaction with SPI connected (an agent cycle): inserts entries not yet drained into
// rubberduck.ddl_log. Returns the number inserted; *lost = entries overwritten before they were drained.
int drain_ddl_log(uint64_t *lost);

// Copies the ring (oldest first) into a palloc'd array; *count entries.
DdlEntry *ddl_log_snapshot(int *count);

}  // namespace rubberduck::pg::migration
