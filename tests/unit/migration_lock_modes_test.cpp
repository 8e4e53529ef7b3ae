#include <gtest/gtest.h>

#include <stdexcept>

#include "core/migration/lock_modes.h"
#include "core/migration/statement_model.h"

using namespace rubberduck::core::migration;

namespace {

const LockMode kAll[] = {LockMode::AccessShare,  LockMode::RowShare,
                         LockMode::RowExclusive, LockMode::ShareUpdateExclusive,
                         LockMode::Share,        LockMode::ShareRowExclusive,
                         LockMode::Exclusive,    LockMode::AccessExclusive};

AlterTableCmd cmd(AlterTableCmdKind kind) {
    AlterTableCmd c;
    c.kind = kind;
    return c;
}

}  // namespace

TEST(MigrationLockModes, NamesAsPostgresSpellsThem) {
    EXPECT_STREQ(lock_mode_name(LockMode::AccessExclusive), "ACCESS EXCLUSIVE");
    EXPECT_STREQ(lock_mode_name(LockMode::ShareUpdateExclusive), "SHARE UPDATE EXCLUSIVE");
    EXPECT_STREQ(lock_mode_name(LockMode::ShareRowExclusive), "SHARE ROW EXCLUSIVE");
    EXPECT_STREQ(lock_mode_name(LockMode::AccessShare), "ACCESS SHARE");
    EXPECT_STREQ(lock_mode_pg_locks_name(LockMode::Share), "ShareLock");
    EXPECT_STREQ(lock_mode_pg_locks_name(LockMode::RowExclusive), "RowExclusiveLock");
}

TEST(MigrationLockModes, ParseBothSpellingsAndRejectGarbage) {
    for (LockMode m : kAll) {
        EXPECT_EQ(parse_lock_mode(lock_mode_name(m)), m);
        EXPECT_EQ(parse_lock_mode(lock_mode_pg_locks_name(m)), m);
    }
    EXPECT_EQ(parse_lock_mode("share update exclusive"), LockMode::ShareUpdateExclusive);
    EXPECT_EQ(parse_lock_mode("ShareRowExclusive"), LockMode::ShareRowExclusive);
    EXPECT_THROW(parse_lock_mode("SUPER EXCLUSIVE"), std::invalid_argument);
    EXPECT_THROW(parse_lock_mode(""), std::invalid_argument);
}

TEST(MigrationLockModes, ConflictTableMatchesTheDocs) {
    for (LockMode a : kAll)
        for (LockMode b : kAll)
            EXPECT_EQ(conflicts(a, b), conflicts(b, a)) << lock_mode_name(a) << lock_mode_name(b);
    // Spot checks of Table 13.2.
    EXPECT_FALSE(conflicts(LockMode::Share, LockMode::Share));
    EXPECT_TRUE(conflicts(LockMode::ShareUpdateExclusive, LockMode::ShareUpdateExclusive));
    EXPECT_TRUE(conflicts(LockMode::Share, LockMode::RowExclusive));
    EXPECT_FALSE(conflicts(LockMode::ShareUpdateExclusive, LockMode::RowExclusive));
    EXPECT_FALSE(conflicts(LockMode::RowExclusive, LockMode::RowExclusive));
    EXPECT_TRUE(conflicts(LockMode::Exclusive, LockMode::RowShare));
    EXPECT_FALSE(conflicts(LockMode::Exclusive, LockMode::AccessShare));
    for (LockMode m : kAll) EXPECT_TRUE(conflicts(LockMode::AccessExclusive, m));
    int ae_conflicts = 0, as_conflicts = 0;
    for (LockMode m : kAll) {
        ae_conflicts += conflicts(LockMode::AccessExclusive, m);
        as_conflicts += conflicts(LockMode::AccessShare, m);
    }
    EXPECT_EQ(ae_conflicts, 8);
    EXPECT_EQ(as_conflicts, 1);
}

TEST(MigrationLockModes, WhatEachModeBlocks) {
    EXPECT_TRUE(blocks_reads(LockMode::AccessExclusive));
    EXPECT_FALSE(blocks_reads(LockMode::Exclusive));
    EXPECT_TRUE(blocks_writes(LockMode::Share));
    EXPECT_TRUE(blocks_writes(LockMode::ShareRowExclusive));
    EXPECT_FALSE(blocks_writes(LockMode::ShareUpdateExclusive));
    EXPECT_FALSE(blocks_writes(LockMode::RowExclusive));
    EXPECT_TRUE(blocks_ddl(LockMode::ShareUpdateExclusive));
    EXPECT_FALSE(blocks_ddl(LockMode::RowExclusive));
    EXPECT_EQ(blocking_summary(LockMode::AccessExclusive), "blocks reads and writes");
    EXPECT_NE(blocking_summary(LockMode::Share).find("allows reads"), std::string::npos);
}

TEST(MigrationLockModes, StrongestOf) {
    EXPECT_EQ(strongest(LockMode::Share, LockMode::ShareUpdateExclusive), LockMode::Share);
    EXPECT_EQ(strongest(LockMode::AccessShare, LockMode::AccessExclusive), LockMode::AccessExclusive);
    EXPECT_EQ(strongest(std::nullopt, std::optional<LockMode>(LockMode::RowShare)), LockMode::RowShare);
    EXPECT_EQ(strongest(std::optional<LockMode>(LockMode::Share), std::nullopt), LockMode::Share);
    EXPECT_FALSE(strongest(std::optional<LockMode>(), std::optional<LockMode>()).has_value());
}

TEST(MigrationLockModes, AlterTableSubcommandLocksFollowPg15) {
    using K = AlterTableCmdKind;
    EXPECT_EQ(alter_table_cmd_lock(cmd(K::ValidateConstraint)), LockMode::ShareUpdateExclusive);
    EXPECT_EQ(alter_table_cmd_lock(cmd(K::AddColumn)), LockMode::AccessExclusive);
    EXPECT_EQ(alter_table_cmd_lock(cmd(K::SetNotNull)), LockMode::AccessExclusive);
    EXPECT_EQ(alter_table_cmd_lock(cmd(K::SetDefault)), LockMode::AccessExclusive);
    EXPECT_EQ(alter_table_cmd_lock(cmd(K::SetStatistics)), LockMode::ShareUpdateExclusive);
    EXPECT_EQ(alter_table_cmd_lock(cmd(K::EnableDisableTrigger)), LockMode::ShareRowExclusive);
    EXPECT_EQ(alter_table_cmd_lock(cmd(K::Other)), LockMode::AccessExclusive);
    AlterTableCmd fk = cmd(K::AddConstraint);
    fk.constraint.kind = ConstraintKind::ForeignKey;
    EXPECT_EQ(alter_table_cmd_lock(fk), LockMode::ShareRowExclusive);
    AlterTableCmd check = cmd(K::AddConstraint);
    check.constraint.kind = ConstraintKind::Check;
    EXPECT_EQ(alter_table_cmd_lock(check), LockMode::AccessExclusive);
    AlterTableCmd using_index = cmd(K::AddConstraint);
    using_index.constraint.kind = ConstraintKind::Unique;
    using_index.constraint.using_index = "idx";
    EXPECT_EQ(alter_table_cmd_lock(using_index), LockMode::AccessExclusive);
    AlterTableCmd detach = cmd(K::DetachPartition);
    detach.concurrently = true;
    EXPECT_EQ(alter_table_cmd_lock(detach), LockMode::ShareUpdateExclusive);
    AlterTableCmd overridden = cmd(K::Other);
    overridden.lock = LockMode::ShareUpdateExclusive;
    EXPECT_EQ(alter_table_cmd_lock(overridden), LockMode::ShareUpdateExclusive);
}

TEST(MigrationLockModes, StatementLocks) {
    StatementDescription ci;
    ci.kind = StatementKind::CreateIndex;
    ci.relation = {"", "t"};
    auto locks = statement_locks(ci);
    ASSERT_EQ(locks.size(), 1u);
    EXPECT_EQ(locks[0].mode, LockMode::Share);
    ci.index.concurrently = true;
    EXPECT_EQ(statement_locks(ci)[0].mode, LockMode::ShareUpdateExclusive);

    // ADD FOREIGN KEY: SHARE ROW EXCLUSIVE on both tables; the statement takes its strongest subcommand lock.
    StatementDescription at;
    at.kind = StatementKind::AlterTable;
    at.relation = {"", "child"};
    AlterTableCmd fk = cmd(AlterTableCmdKind::AddConstraint);
    fk.constraint.kind = ConstraintKind::ForeignKey;
    fk.constraint.referenced = {"", "parent"};
    at.alter_cmds = {fk};
    locks = statement_locks(at);
    ASSERT_EQ(locks.size(), 2u);
    EXPECT_EQ(locks[0].relation->name, "child");
    EXPECT_EQ(locks[0].mode, LockMode::ShareRowExclusive);
    EXPECT_EQ(locks[1].relation->name, "parent");
    EXPECT_EQ(locks[1].mode, LockMode::ShareRowExclusive);
    at.alter_cmds.push_back(cmd(AlterTableCmdKind::AddColumn));
    EXPECT_EQ(statement_locks(at)[0].mode, LockMode::AccessExclusive);

    StatementDescription v;
    v.kind = StatementKind::Vacuum;
    v.relations = {{"", "a"}, {"", "b"}};
    locks = statement_locks(v);
    ASSERT_EQ(locks.size(), 2u);
    EXPECT_EQ(locks[1].mode, LockMode::ShareUpdateExclusive);
    v.vacuum_full = true;
    EXPECT_EQ(statement_locks(v)[0].mode, LockMode::AccessExclusive);

    StatementDescription sel;
    sel.kind = StatementKind::Select;
    sel.relations = {{"", "t"}};
    EXPECT_EQ(statement_locks(sel)[0].mode, LockMode::AccessShare);
    sel.dml.for_update = true;
    EXPECT_EQ(statement_locks(sel)[0].mode, LockMode::RowShare);

    StatementDescription upd;
    upd.kind = StatementKind::Update;
    upd.relation = {"", "t"};
    EXPECT_EQ(statement_locks(upd)[0].mode, LockMode::RowExclusive);

    StatementDescription begin;
    begin.kind = StatementKind::Begin;
    EXPECT_TRUE(statement_locks(begin).empty());
    StatementDescription rename_index;
    rename_index.kind = StatementKind::RenameTable;
    rename_index.relation = {"", "i"};
    rename_index.rename_index = true;
    EXPECT_EQ(statement_locks(rename_index)[0].mode, LockMode::ShareUpdateExclusive);
    rename_index.rename_index = false;
    EXPECT_EQ(statement_locks(rename_index)[0].mode, LockMode::AccessExclusive);
}
