#include <gtest/gtest.h>

#include "core/index/index_autonomy.h"

using namespace rubberduck::core::index;

namespace {

VerifyQuery q(int64_t id, bool affected, double bc, double bmean, double ac, double amean,
              bool write = false) {
    VerifyQuery v;
    v.queryid = id;
    v.affected = affected;
    v.write = write;
    v.before_calls = bc;
    v.before_total_ms = bc * bmean;
    v.after_calls = ac;
    v.after_total_ms = ac * amean;
    return v;
}

}  // namespace

TEST(IndexVerify, KeepsAnIndexThatMakesTheAffectedStatementsFaster) {
    VerifyOptions o;
    auto r = verify_index({q(1, true, 500, 4.0, 600, 0.1), q(2, false, 100, 1.0, 120, 1.05)}, o, 0);
    EXPECT_EQ(r.verdict, VerifyVerdict::kKeep);
    EXPECT_NEAR(r.before_ms, 4.0, 1e-9);
    EXPECT_NEAR(r.after_ms, 0.1, 1e-9);
    EXPECT_NEAR(r.improvement, 0.975, 1e-9);
    EXPECT_EQ(r.judged_queries, 2);
    EXPECT_NE(r.reason.find("faster"), std::string::npos);
}

TEST(IndexVerify, RevertsWhenTheGainIsBelowTheMinimum) {
    VerifyOptions o;
    o.min_improvement = 0.10;
    auto r = verify_index({q(1, true, 500, 1.0, 500, 0.95)}, o, 0);
    EXPECT_EQ(r.verdict, VerifyVerdict::kRevert);
    EXPECT_NE(r.reason.find("below the 10% required improvement"), std::string::npos);
    // Slower is never kept either.
    EXPECT_EQ(verify_index({q(1, true, 500, 1.0, 500, 1.2)}, o, 0).verdict, VerifyVerdict::kRevert);
}

TEST(IndexVerify, WeightsByTheVerifyWindowsMixNotTheBeforeMix) {
    // Statement 1 is slow and unchanged, statement 2 fast and unchanged; only the mix moved toward the
    // fast one. Weighting both sides by the after-window calls shows no improvement: revert.
    VerifyOptions o;
    auto r = verify_index({q(1, true, 900, 10.0, 100, 10.0), q(2, true, 100, 1.0, 900, 1.0)}, o, 0);
    EXPECT_NEAR(r.improvement, 0.0, 1e-9);
    EXPECT_EQ(r.verdict, VerifyVerdict::kRevert);
}

TEST(IndexVerify, RevertsWhenAnotherStatementRegresses) {
    VerifyOptions o;
    o.regression_threshold = 0.5;
    auto r = verify_index({q(1, true, 500, 4.0, 500, 0.5), q(7, false, 50, 2.0, 50, 3.5, true)}, o, 0);
    EXPECT_EQ(r.verdict, VerifyVerdict::kRevert);
    EXPECT_EQ(r.worst_queryid, 7);
    EXPECT_NEAR(r.worst_ratio, 1.75, 1e-9);
    EXPECT_NE(r.reason.find("(a write)"), std::string::npos);
    // Within the threshold: kept.
    auto k = verify_index({q(1, true, 500, 4.0, 500, 0.5), q(7, false, 50, 2.0, 50, 2.8, true)}, o, 0);
    EXPECT_EQ(k.verdict, VerifyVerdict::kKeep);
}

TEST(IndexVerify, IgnoresNoiseBelowTheFloorAndStatementsWithFewCalls) {
    VerifyOptions o;
    // 0.01 -> 0.03 ms is x3 but only 0.02 ms: under the 0.05 ms floor.
    auto r = verify_index({q(1, true, 500, 4.0, 500, 0.5), q(2, false, 500, 0.01, 500, 0.03)}, o, 0);
    EXPECT_EQ(r.verdict, VerifyVerdict::kKeep);
    // 5 calls after: not judged.
    auto s = verify_index({q(1, true, 500, 4.0, 500, 0.5), q(3, false, 500, 1.0, 5, 9.0)}, o, 0);
    EXPECT_EQ(s.verdict, VerifyVerdict::kKeep);
    EXPECT_EQ(s.judged_queries, 1);
}

TEST(IndexVerify, WaitsForCallsThenGivesUp) {
    VerifyOptions o;
    o.min_calls = 20;
    o.max_extensions = 2;
    std::vector<VerifyQuery> few = {q(1, true, 500, 4.0, 5, 0.5)};
    auto w = verify_index(few, o, 0);
    EXPECT_EQ(w.verdict, VerifyVerdict::kWait);
    EXPECT_NE(w.reason.find("only 5 affected calls"), std::string::npos);
    EXPECT_EQ(verify_index(few, o, 1).verdict, VerifyVerdict::kWait);
    auto g = verify_index(few, o, 2);
    EXPECT_EQ(g.verdict, VerifyVerdict::kRevert);
    EXPECT_NE(g.reason.find("cannot be shown"), std::string::npos);
    // No affected statement at all (e.g. the advice's queries are gone).
    EXPECT_EQ(verify_index({q(9, false, 100, 1, 100, 1)}, o, 0).verdict, VerifyVerdict::kWait);
    // Affected calls after, but none before (nothing to compare with).
    auto nb = verify_index({q(1, true, 0, 0, 100, 1)}, o, 0);
    EXPECT_EQ(nb.verdict, VerifyVerdict::kWait);
    EXPECT_NE(nb.reason.find("both windows"), std::string::npos);
}

TEST(IndexVerify, RegressionWinsOverWaiting) {
    VerifyOptions o;
    auto r = verify_index({q(1, true, 500, 4.0, 2, 0.5), q(2, false, 100, 1.0, 100, 5.0)}, o, 0);
    EXPECT_EQ(r.verdict, VerifyVerdict::kRevert);
    EXPECT_EQ(r.worst_queryid, 2);
}

TEST(IndexVerify, AffectedMeanBefore) {
    EXPECT_NEAR(affected_mean_before_ms(
                    {q(1, true, 100, 2.0, 0, 0), q(2, true, 300, 4.0, 0, 0), q(3, false, 1000, 100, 0, 0)}),
                3.5, 1e-9);
    EXPECT_EQ(affected_mean_before_ms({q(3, false, 1000, 100, 0, 0)}), -1);
}

TEST(ApplyPolicy, HighestImprovementFirstOneChangeAtATime) {
    ApplyState s;
    std::vector<AdviceCandidate> adv = {{1, 10.0, 1000}, {2, 40.0, 1000}, {3, 40.0, 500}};
    auto d = choose_next_build(adv, s);
    EXPECT_EQ(d.advice_id, 2);  // ties: lowest id
    s.change_in_progress = true;
    d = choose_next_build(adv, s);
    EXPECT_EQ(d.advice_id, 0);
    EXPECT_NE(d.reason.find("being built or verified"), std::string::npos);
}

TEST(ApplyPolicy, RespectsWindowCountAndBudget) {
    std::vector<AdviceCandidate> adv = {{1, 10.0, 100}, {2, 40.0, 5000}};
    ApplyState s;
    s.in_maintenance_window = false;
    EXPECT_EQ(choose_next_build(adv, s).advice_id, 0);
    s.in_maintenance_window = true;
    s.max_indexes = 2;
    s.kept_indexes = 2;
    auto d = choose_next_build(adv, s);
    EXPECT_EQ(d.advice_id, 0);
    EXPECT_NE(d.reason.find("max_indexes"), std::string::npos);
    s.kept_indexes = 1;
    s.kept_bytes = 1000;
    s.storage_budget_bytes = 2000;  // #2 would need 6000: skipped, #1 fits
    EXPECT_EQ(choose_next_build(adv, s).advice_id, 1);
    s.storage_budget_bytes = 1050;
    d = choose_next_build(adv, s);
    EXPECT_EQ(d.advice_id, 0);
    EXPECT_NE(d.reason.find("storage_budget"), std::string::npos);
    EXPECT_EQ(choose_next_build({}, ApplyState{}).advice_id, 0);
    EXPECT_EQ(choose_next_build({{5, 0.0, 1}}, ApplyState{}).advice_id, 0);  // no estimated gain
}
