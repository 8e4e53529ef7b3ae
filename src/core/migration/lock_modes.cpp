#include "core/migration/lock_modes.h"

#include "core/migration/statement_model.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace rubberduck::core::migration {

namespace {

struct LockInfo {
    LockMode mode;
    const char *name;
    const char *pg_locks_name;
    unsigned conflict_mask;  // bit (n) set = conflicts with mode n
};

constexpr unsigned bit(LockMode m) {
    return 1u << static_cast<int>(m);
}

// Table 13.2 "Conflicting Lock Modes" of the PostgreSQL 15 documentation.
const LockInfo kLocks[] = {
    {LockMode::AccessShare, "ACCESS SHARE", "AccessShareLock", bit(LockMode::AccessExclusive)},
    {LockMode::RowShare, "ROW SHARE", "RowShareLock",
     bit(LockMode::Exclusive) | bit(LockMode::AccessExclusive)},
    {LockMode::RowExclusive, "ROW EXCLUSIVE", "RowExclusiveLock",
     bit(LockMode::Share) | bit(LockMode::ShareRowExclusive) | bit(LockMode::Exclusive) |
         bit(LockMode::AccessExclusive)},
    {LockMode::ShareUpdateExclusive, "SHARE UPDATE EXCLUSIVE", "ShareUpdateExclusiveLock",
     bit(LockMode::ShareUpdateExclusive) | bit(LockMode::Share) | bit(LockMode::ShareRowExclusive) |
         bit(LockMode::Exclusive) | bit(LockMode::AccessExclusive)},
    {LockMode::Share, "SHARE", "ShareLock",
     bit(LockMode::RowExclusive) | bit(LockMode::ShareUpdateExclusive) | bit(LockMode::ShareRowExclusive) |
         bit(LockMode::Exclusive) | bit(LockMode::AccessExclusive)},
    {LockMode::ShareRowExclusive, "SHARE ROW EXCLUSIVE", "ShareRowExclusiveLock",
     bit(LockMode::RowExclusive) | bit(LockMode::ShareUpdateExclusive) | bit(LockMode::Share) |
         bit(LockMode::ShareRowExclusive) | bit(LockMode::Exclusive) | bit(LockMode::AccessExclusive)},
    {LockMode::Exclusive, "EXCLUSIVE", "ExclusiveLock",
     bit(LockMode::RowShare) | bit(LockMode::RowExclusive) | bit(LockMode::ShareUpdateExclusive) |
         bit(LockMode::Share) | bit(LockMode::ShareRowExclusive) | bit(LockMode::Exclusive) |
         bit(LockMode::AccessExclusive)},
    {LockMode::AccessExclusive, "ACCESS EXCLUSIVE", "AccessExclusiveLock",
     bit(LockMode::AccessShare) | bit(LockMode::RowShare) | bit(LockMode::RowExclusive) |
         bit(LockMode::ShareUpdateExclusive) | bit(LockMode::Share) | bit(LockMode::ShareRowExclusive) |
         bit(LockMode::Exclusive) | bit(LockMode::AccessExclusive)},
};

const LockInfo &info(LockMode mode) {
    int i = static_cast<int>(mode);
    if (i < 1 || i > 8) throw std::invalid_argument("lock mode out of range 1..8");
    return kLocks[i - 1];
}

std::string normalise(const std::string &text) {
    std::string out;
    for (char c : text)
        if (!std::isspace(static_cast<unsigned char>(c)) && c != '_')
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

const char *lock_mode_name(LockMode mode) {
    return info(mode).name;
}
const char *lock_mode_pg_locks_name(LockMode mode) {
    return info(mode).pg_locks_name;
}

LockMode parse_lock_mode(const std::string &text) {
    std::string n = normalise(text);
    for (const auto &l : kLocks) {
        std::string pg = normalise(l.pg_locks_name);
        if (n == normalise(l.name) || n == pg || n + "lock" == pg) return l.mode;
    }
    throw std::invalid_argument("unknown lock mode '" + text +
                                "': use a PostgreSQL lock mode such as 'ACCESS EXCLUSIVE' or 'ShareLock'");
}

bool conflicts(LockMode a, LockMode b) {
    return (info(a).conflict_mask & bit(b)) != 0;
}
bool blocks_reads(LockMode mode) {
    return conflicts(mode, LockMode::AccessShare);
}
bool blocks_writes(LockMode mode) {
    return conflicts(mode, LockMode::RowExclusive);
}
bool blocks_ddl(LockMode mode) {
    return conflicts(mode, LockMode::ShareUpdateExclusive);
}

std::string blocking_summary(LockMode mode) {
    if (blocks_reads(mode)) return "blocks reads and writes";
    if (blocks_writes(mode)) return "blocks writes (INSERT/UPDATE/DELETE), allows reads";
    if (blocks_ddl(mode)) return "allows reads and writes, blocks other DDL and VACUUM";
    if (conflicts(mode, LockMode::RowShare)) return "blocks only EXCLUSIVE and ACCESS EXCLUSIVE locks";
    return "blocks only ACCESS EXCLUSIVE locks (DDL that rewrites or drops)";
}

LockMode strongest(LockMode a, LockMode b) {
    return static_cast<int>(a) >= static_cast<int>(b) ? a : b;
}

std::optional<LockMode> strongest(std::optional<LockMode> a, std::optional<LockMode> b) {
    if (!a) return b;
    if (!b) return a;
    return strongest(*a, *b);
}

}  // namespace rubberduck::core::migration

// ---- which lock each statement takes (PostgreSQL 15)
// -------------------------------------------------------

namespace rubberduck::core::migration {

LockMode alter_table_cmd_lock(const AlterTableCmd &cmd) {
    using K = AlterTableCmdKind;
    switch (cmd.kind) {
        case K::ValidateConstraint:  // only blocks other DDL and VACUUM: the scan runs under it
        case K::SetStatistics:
        case K::SetColumnOptions:
        case K::ClusterOn:
        case K::AttachPartition:  // on the parent since PG12 (the partition itself gets ACCESS EXCLUSIVE)
            return cmd.lock.value_or(LockMode::ShareUpdateExclusive);
        case K::SetRelOptions:  // fillfactor, autovacuum_* are SHARE UPDATE EXCLUSIVE; others need `lock`
            return cmd.lock.value_or(LockMode::ShareUpdateExclusive);
        case K::EnableDisableTrigger:  // affects writes only
            return cmd.lock.value_or(LockMode::ShareRowExclusive);
        case K::AddConstraint:
            // FOREIGN KEY: SHARE ROW EXCLUSIVE (on both tables); every other kind, USING INDEX included:
            // ACCESS EXCLUSIVE.
            if (cmd.constraint.kind == ConstraintKind::ForeignKey)
                return cmd.lock.value_or(LockMode::ShareRowExclusive);
            return cmd.lock.value_or(LockMode::AccessExclusive);
        case K::DetachPartition:
            return cmd.lock.value_or(cmd.concurrently ? LockMode::ShareUpdateExclusive
                                                      : LockMode::AccessExclusive);
        case K::AddColumn:
        case K::AlterColumnType:
        case K::SetNotNull:
        case K::DropNotNull:
        case K::DropColumn:
        case K::DropConstraint:
        case K::RenameColumn:
        case K::RenameConstraint:
        case K::SetDefault:
        case K::DropDefault:
        case K::SetStorage:
        case K::SetTablespace:
        case K::SetLogged:
        case K::AddIdentity:
        case K::ChangeOwner:
        case K::Other:
            break;
    }
    return cmd.lock.value_or(LockMode::AccessExclusive);
}

std::vector<RelationLock> statement_locks(const StatementDescription &stmt) {
    using S = StatementKind;
    std::vector<RelationLock> out;
    auto all = [&](LockMode mode) {
        for (const auto &r : stmt.relations) out.push_back({&r, mode});
    };
    switch (stmt.kind) {
        case S::CreateIndex:
            out.push_back(
                {&stmt.relation, stmt.index.concurrently ? LockMode::ShareUpdateExclusive : LockMode::Share});
            break;
        case S::DropIndex:
            all(stmt.concurrently ? LockMode::ShareUpdateExclusive : LockMode::AccessExclusive);
            break;
        case S::Reindex:
            // The table gets SHARE (the rebuilt index ACCESS EXCLUSIVE); CONCURRENTLY: SHARE UPDATE
            // EXCLUSIVE.
            out.push_back(
                {&stmt.relation, stmt.concurrently ? LockMode::ShareUpdateExclusive : LockMode::Share});
            break;
        case S::AlterTable: {
            if (stmt.alter_cmds.empty()) break;
            LockMode m = LockMode::AccessShare;
            for (const auto &c : stmt.alter_cmds) m = strongest(m, alter_table_cmd_lock(c));
            out.push_back({&stmt.relation, m});
            for (const auto &c : stmt.alter_cmds) {
                if (c.kind == AlterTableCmdKind::AddConstraint &&
                    c.constraint.kind == ConstraintKind::ForeignKey)
                    out.push_back({&c.constraint.referenced, LockMode::ShareRowExclusive});
                if (c.kind == AlterTableCmdKind::AttachPartition)
                    out.push_back({&c.partition, LockMode::AccessExclusive});
                if (c.kind == AlterTableCmdKind::DetachPartition)
                    out.push_back({&c.partition, c.concurrently ? LockMode::ShareUpdateExclusive
                                                                : LockMode::AccessExclusive});
            }
            break;
        }
        case S::RenameTable:
            // PG12+: renaming an index takes SHARE UPDATE EXCLUSIVE; tables, views, sequences ACCESS
            // EXCLUSIVE.
            out.push_back({&stmt.relation,
                           stmt.rename_index ? LockMode::ShareUpdateExclusive : LockMode::AccessExclusive});
            break;
        case S::DropTable:
        case S::DropView:
        case S::Truncate:
            all(LockMode::AccessExclusive);
            break;
        case S::Vacuum:
            all(stmt.vacuum_full ? LockMode::AccessExclusive : LockMode::ShareUpdateExclusive);
            break;
        case S::Analyze:
            all(LockMode::ShareUpdateExclusive);
            break;
        case S::Cluster:
            if (!stmt.relation.empty()) out.push_back({&stmt.relation, LockMode::AccessExclusive});
            break;
        case S::CreateTable:
            // The new table is invisible to others; REFERENCES take SHARE ROW EXCLUSIVE on the referenced
            // table.
            for (const auto &c : stmt.table_constraints)
                if (c.kind == ConstraintKind::ForeignKey)
                    out.push_back({&c.referenced, LockMode::ShareRowExclusive});
            break;
        case S::CreateView:
            if (stmt.or_replace) out.push_back({&stmt.relation, LockMode::AccessExclusive});
            all(LockMode::AccessShare);
            break;
        case S::Insert:
        case S::Update:
        case S::Delete:
            out.push_back({&stmt.relation, LockMode::RowExclusive});
            all(LockMode::AccessShare);  // tables read by the statement (FROM / USING / sub-selects)
            break;
        case S::Select:
            all(stmt.dml.for_update ? LockMode::RowShare : LockMode::AccessShare);
            break;
        case S::Other:
            if (stmt.lock && !stmt.relation.empty()) out.push_back({&stmt.relation, *stmt.lock});
            break;
        case S::Begin:
        case S::Commit:
        case S::Rollback:
        case S::Set:
        case S::AlterTypeAddValue:
            break;
    }
    return out;
}

}  // namespace rubberduck::core::migration
