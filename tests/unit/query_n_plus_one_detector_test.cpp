#include "core/query/n_plus_one_detector.h"

#include <gtest/gtest.h>

#include <vector>

using namespace rubberduck::core::query;

namespace {
constexpr int64_t kMs = 1000;

ExecutionObservation obs(int32_t backend, uint64_t xact, uint64_t qid, int64_t ts, uint64_t rows,
                         int32_t level = 0, CommandKind cmd = CommandKind::Select) {
    ExecutionObservation o;
    o.backend_id = backend;
    o.transaction_id = xact;
    o.queryid = qid;
    o.timestamp_us = ts;
    o.rows = rows;
    o.nesting_level = level;
    o.command = cmd;
    return o;
}
}  // namespace

TEST(NPlusOne, CatchesPlpgsqlLoopInOneTransaction) {
    NPlusOneDetector d;
    // Driving query at level 0, then 50 lookups at level 1 inside the same transaction, slow-ish pace (2 s
    // gaps would break a time window, but the transaction holds the run together).
    d.observe(obs(7, 900, 111, 0, 50));
    for (int i = 0; i < 50; ++i) d.observe(obs(7, 900, 222, i * 2000 * kMs, 1, 1));
    EXPECT_TRUE(d.collect(50 * 2000 * kMs).empty());  // still open (not idle yet)
    const auto f = d.collect(200 * 2000 * kMs);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].queryid, 222u);
    EXPECT_EQ(f[0].count, 50u);
    EXPECT_EQ(f[0].max_rows, 1u);
    EXPECT_EQ(f[0].backend_id, 7);
    EXPECT_EQ(f[0].source, NPlusOneSource::PlpgsqlLoop);
    EXPECT_EQ(f[0].max_nesting_level, 1);
    EXPECT_EQ(f[0].window_start_us, 0);
    EXPECT_EQ(f[0].window_end_us, 49 * 2000 * kMs);
    EXPECT_NE(f[0].suggestion.find("= ANY($1)"), std::string::npos);
    EXPECT_NE(f[0].suggestion.find("PL/pgSQL"), std::string::npos);
    EXPECT_STREQ(to_string(f[0].source), "plpgsql_loop");
    EXPECT_EQ(d.tracked_runs(), 0u);
}

TEST(NPlusOne, CatchesClientLoopOfAutocommitStatements) {
    NPlusOneDetector d;
    for (int i = 0; i < 20; ++i) d.observe(obs(3, 1000 + i, 333, i * 5 * kMs, i % 2));  // new xact each time
    const auto f = d.flush();
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].count, 20u);
    EXPECT_EQ(f[0].source, NPlusOneSource::ClientLoopAutocommit);
    EXPECT_EQ(f[0].max_rows, 1u);
    EXPECT_NE(f[0].suggestion.find("separate statements"), std::string::npos);
}

TEST(NPlusOne, CatchesClientLoopInsideExplicitTransaction) {
    NPlusOneDetector d;
    for (int i = 0; i < 12; ++i) d.observe(obs(3, 77, 444, i * 3000 * kMs, 0));  // 3 s apart, same xact
    const auto f = d.flush();
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].source, NPlusOneSource::ClientLoopInTransaction);
    EXPECT_EQ(f[0].max_rows, 0u);
}

TEST(NPlusOne, PopularAcrossBackendsIsNotFlagged) {
    NPlusOneDetector d;
    // 500 backends each run the statement twice, all within the same 100 ms.
    for (int b = 0; b < 500; ++b) {
        d.observe(obs(b, 10000 + b, 555, b * 100, 1));
        d.observe(obs(b, 20000 + b, 555, b * 100 + 50, 1));
    }
    EXPECT_TRUE(d.flush().empty());
}

TEST(NPlusOne, ManyRowsPerCallIsNotFlagged) {
    NPlusOneDetector d;
    for (int i = 0; i < 100; ++i) d.observe(obs(1, 5, 666, i * kMs, 200));
    EXPECT_TRUE(d.flush().empty());
    EXPECT_EQ(d.tracked_runs(), 0u);
}

TEST(NPlusOne, SlowRepeatsOutsideATransactionAreNotFlagged) {
    NPlusOneDetector d;
    // A dashboard polling every 5 s from one connection: same queryid, one row, but far apart.
    for (int i = 0; i < 30; ++i) d.observe(obs(2, 100 + i, 777, i * 5000 * kMs, 1));
    EXPECT_TRUE(d.flush().empty());
}

TEST(NPlusOne, BelowThresholdIsNotFlaggedAndThresholdIsConfigurable) {
    NPlusOneDetector d;
    for (int i = 0; i < 9; ++i) d.observe(obs(1, 9, 888, i * kMs, 1));
    EXPECT_TRUE(d.flush().empty());
    NPlusOneConfig c;
    c.min_executions = 5;
    NPlusOneDetector d5(c);
    for (int i = 0; i < 5; ++i) d5.observe(obs(1, 9, 888, i * kMs, 1));
    EXPECT_EQ(d5.flush().size(), 1u);
}

TEST(NPlusOne, GapSplitsRunsAndOccurrencesAggregate) {
    NPlusOneDetector d;
    std::vector<ExecutionObservation> batch;
    for (int i = 0; i < 15; ++i) batch.push_back(obs(4, 0, 999, i * kMs, 1));  // loop 1
    for (int i = 0; i < 25; ++i)
        batch.push_back(obs(4, 0, 999, 10'000 * kMs + i * kMs, 2));  // loop 2, 10 s later
    for (int i = 0; i < 11; ++i)
        batch.push_back(obs(5, 0, 999, 20'000 * kMs + i * kMs, 1));  // another backend
    d.observe(batch);
    const auto f = d.collect(60'000 * kMs);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].occurrences, 3u);
    EXPECT_EQ(f[0].total_calls, 51u);
    EXPECT_EQ(f[0].count, 25u);  // the largest run
    EXPECT_EQ(f[0].max_rows, 2u);
    EXPECT_EQ(f[0].backend_id, 4);
    EXPECT_EQ(f[0].window_start_us, 10'000 * kMs);
    EXPECT_TRUE(d.collect(60'000 * kMs).empty());  // pending was drained
}

TEST(NPlusOne, DmlLoopGetsWriteSuggestion) {
    NPlusOneDetector d;
    for (int i = 0; i < 10; ++i) d.observe(obs(1, 42, 1234, i * kMs, 1, 0, CommandKind::Insert));
    const auto f = d.flush();
    ASSERT_EQ(f.size(), 1u);
    EXPECT_NE(f[0].suggestion.find("unnest"), std::string::npos);
    EXPECT_EQ(f[0].command, CommandKind::Insert);
}

TEST(NPlusOne, StateIsBoundedAndEvictionStillReports) {
    NPlusOneConfig c;
    c.max_tracked = 4;
    NPlusOneDetector d(c);
    for (int i = 0; i < 10; ++i) d.observe(obs(1, 1, 50, i * kMs, 1));  // qualifying run, will be evicted
    for (int q = 0; q < 100; ++q) d.observe(obs(2, 2, 1000 + q, 20 * kMs + q, 1));
    EXPECT_LE(d.tracked_runs(), 4u);
    EXPECT_GT(d.evicted_runs(), 0u);
    const auto f = d.flush();
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].queryid, 50u);
}

TEST(NPlusOne, IgnoresUntrackedQueriesAndRejectsBadConfig) {
    NPlusOneDetector d;
    for (int i = 0; i < 50; ++i) d.observe(obs(1, 1, 0, i, 1));
    EXPECT_EQ(d.tracked_runs(), 0u);
    EXPECT_THROW(d.observe(nullptr, 3), std::invalid_argument);
    NPlusOneConfig c;
    c.min_executions = 1;
    EXPECT_THROW(NPlusOneDetector{c}, std::invalid_argument);
    c = {};
    c.max_gap_us = 0;
    EXPECT_THROW(NPlusOneDetector{c}, std::invalid_argument);
    c = {};
    c.idle_close_us = c.max_gap_us - 1;
    EXPECT_THROW(NPlusOneDetector{c}, std::invalid_argument);
    c = {};
    c.max_tracked = 0;
    EXPECT_THROW(NPlusOneDetector{c}, std::invalid_argument);
}
