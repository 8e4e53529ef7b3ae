#include "core/query/plan_fingerprint.h"

#include <gtest/gtest.h>

#include <set>

using rubberduck::core::query::PlanFingerprint;

namespace {
constexpr uint32_t kSeqScan = 20, kIndexScan = 21, kNestLoop = 35, kHashJoin = 37, kHash = 50;

// NestLoop(SeqScan orders, IndexScan customers using customers_pkey)
constexpr uint64_t nest_loop_plan() {
    PlanFingerprint f = PlanFingerprint::start();
    f.add_node(kNestLoop).begin_children();
    f.add_node(kSeqScan, 16384).add_node(kIndexScan, 16390, 16395);
    f.end_children();
    return f.value();
}
}  // namespace

TEST(PlanFingerprint, IsConstexprAndDeterministic) {
    constexpr uint64_t a = nest_loop_plan();
    static_assert(a != 0);
    EXPECT_EQ(a, nest_loop_plan());
    EXPECT_NE(PlanFingerprint::start().value(), 0u);
}

TEST(PlanFingerprint, DifferentPlansDiffer) {
    const uint64_t base = nest_loop_plan();
    PlanFingerprint other_index = PlanFingerprint::start();
    other_index.add_node(kNestLoop).begin_children();
    other_index.add_node(kSeqScan, 16384).add_node(kIndexScan, 16390, 16396);  // a different index
    other_index.end_children();
    EXPECT_NE(base, other_index.value());

    PlanFingerprint hash_join = PlanFingerprint::start();
    hash_join.add_node(kHashJoin).begin_children();
    hash_join.add_node(kSeqScan, 16384)
        .add_node(kHash)
        .begin_children()
        .add_node(kSeqScan, 16390)
        .end_children();
    hash_join.end_children();
    EXPECT_NE(base, hash_join.value());

    // Same nodes, different tree shape.
    PlanFingerprint a = PlanFingerprint::start(), b = PlanFingerprint::start();
    a.add_node(kNestLoop).begin_children().add_node(kSeqScan, 1).end_children().add_node(kSeqScan, 2);
    b.add_node(kNestLoop).begin_children().add_node(kSeqScan, 1).add_node(kSeqScan, 2).end_children();
    EXPECT_NE(a.value(), b.value());

    // Order matters.
    PlanFingerprint x = PlanFingerprint::start(), y = PlanFingerprint::start();
    x.add_node(kSeqScan, 1).add_node(kSeqScan, 2);
    y.add_node(kSeqScan, 2).add_node(kSeqScan, 1);
    EXPECT_NE(x.value(), y.value());
}

TEST(PlanFingerprint, NoCollisionsOnManySmallPlans) {
    std::set<uint64_t> seen;
    for (uint32_t tag = 1; tag < 60; ++tag)
        for (uint32_t rel = 16384; rel < 16484; ++rel) {
            PlanFingerprint f = PlanFingerprint::start();
            f.add_node(tag, rel, rel + 1);
            seen.insert(f.value());
        }
    EXPECT_EQ(seen.size(), 59u * 100u);
}
