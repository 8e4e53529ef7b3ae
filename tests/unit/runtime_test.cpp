#include <gtest/gtest.h>

#include "core/runtime/crash_guard.h"
#include "core/runtime/cycle_policy.h"
#include "core/runtime/directive_parser.h"

using namespace rubberduck::core::runtime;

TEST(DirectiveParser, SkillListAcceptsNamesAllAndNone) {
    EXPECT_EQ(parse_skill_list(""), 0u);
    EXPECT_EQ(parse_skill_list("none"), 0u);
    EXPECT_EQ(parse_skill_list("all"), kAllSkillsMask);
    EXPECT_EQ(parse_skill_list("*"), kAllSkillsMask);
    EXPECT_EQ(parse_skill_list("indexing"), 1u << 1);
    EXPECT_EQ(parse_skill_list(" query_optimization , capacity_planning "), (1u << 0) | (1u << 8));
}

TEST(DirectiveParser, SkillListRejectsUnknownAndEmptyItems) {
    EXPECT_THROW(parse_skill_list("indexing,bogus"), std::invalid_argument);
    EXPECT_THROW(parse_skill_list("indexing,,caching"), std::invalid_argument);
    try {
        parse_skill_list("indexin");
        FAIL();
    } catch (const std::invalid_argument &e) {
        EXPECT_NE(std::string(e.what()).find("known skills are"), std::string::npos);
    }
}

TEST(DirectiveParser, ModesAndPrecedence) {
    EXPECT_EQ(parse_mode("observe", false), Mode::Observe);
    EXPECT_EQ(parse_mode("autonomous", false), Mode::Autonomous);
    EXPECT_FALSE(parse_mode("", true).has_value());
    EXPECT_THROW(parse_mode("", false), std::invalid_argument);
    EXPECT_THROW(parse_mode("yolo", true), std::invalid_argument);
    EXPECT_EQ(effective_mode(Mode::Advise, std::nullopt, std::nullopt), Mode::Advise);
    EXPECT_EQ(effective_mode(Mode::Advise, Mode::Observe, std::nullopt), Mode::Observe);
    EXPECT_EQ(effective_mode(Mode::Advise, Mode::Observe, Mode::Autonomous), Mode::Autonomous);
}

TEST(DirectiveParser, FaultInjection) {
    EXPECT_FALSE(parse_fault("").has_value());
    auto f = parse_fault("migration:exception");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->agent, AgentId::Migration);
    EXPECT_EQ(f->kind, FaultKind::Exception);
    EXPECT_THROW(parse_fault("migration"), std::invalid_argument);
    EXPECT_THROW(parse_fault("nobody:error"), std::invalid_argument);
    EXPECT_THROW(parse_fault("health_sensor:explode"), std::invalid_argument);
}

TEST(CrashGuard, JournalRoundTripAndTornLines) {
    std::string text = format_journal_entry({JournalEntry::Kind::Start, "migration", 42, 1000}) +
                       format_journal_entry({JournalEntry::Kind::Exit, "migration", 42, 2000}) +
                       "start query_opt";
    auto entries = parse_journal(text);
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].agent, "migration");
    EXPECT_EQ(entries[1].kind, JournalEntry::Kind::Exit);
}

TEST(CrashGuard, TripsOnRepeatedAbnormalDeathsOnly) {
    std::vector<JournalEntry> entries;
    for (int i = 0; i < 3; ++i)
        entries.push_back({JournalEntry::Kind::Start, "health_sensor", 100 + i, 10'000 + i});
    entries.push_back({JournalEntry::Kind::Start, "migration", 200, 10'000});
    entries.push_back({JournalEntry::Kind::Exit, "migration", 200, 10'500});
    auto v = evaluate_crash_guard(entries, {}, 20'000, 60'000, 3);
    EXPECT_TRUE(v.tripped);
    EXPECT_EQ(v.abnormal_deaths, 3);
    EXPECT_NE(v.reason.find("health_sensor x3"), std::string::npos);
    // A live process is not a death; old deaths fall out of the window.
    EXPECT_FALSE(evaluate_crash_guard(entries, {102}, 20'000, 60'000, 3).tripped);
    EXPECT_FALSE(evaluate_crash_guard(entries, {}, 200'000, 60'000, 3).tripped);
    EXPECT_EQ(compact_journal(entries, 200'000, 60'000).size(), 0u);
}

TEST(CyclePolicy, BacksOffExponentiallyAndCaps) {
    EXPECT_EQ(next_wait_ms(10'000, 0), 10'000);
    EXPECT_EQ(next_wait_ms(200, 1), 2'000);
    EXPECT_EQ(next_wait_ms(200, 2), 4'000);
    EXPECT_EQ(next_wait_ms(10'000, 30), kMaxBackoffMs);
    EXPECT_EQ(next_wait_ms(600'000, 3), 600'000);
}
