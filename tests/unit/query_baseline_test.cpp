#include "core/query/query_baseline.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

using namespace rubberduck::core::query;

namespace {
QueryBaseline trained() {
    QueryBaseline b;
    for (int i = 0; i < 20; ++i) {
        b.update(1, {100, 10.0 + (i % 2), 4.0}, i * 1000);
        b.update(2, {50, 200.0, 100.0}, i * 1000 + 1);
    }
    return b;
}
}  // namespace

TEST(QueryBaseline, LearnsMeanAndVarianceAndIgnoresTinyWindows) {
    QueryBaseline b = trained();
    const BaselineEntry *e = b.find(1);
    ASSERT_NE(e, nullptr);
    EXPECT_NEAR(e->latency.mean, 10.5, 0.6);
    EXPECT_GT(e->latency.variance, 3.0);
    EXPECT_EQ(e->calls, 2000u);
    EXPECT_FALSE(b.update(3, {2, 5.0, 0.0}, 0));  // below min_window_calls
    EXPECT_EQ(b.find(3), nullptr);
    EXPECT_THROW(b.update(3, {10, -5.0, 0.0}, 0), std::invalid_argument);
}

TEST(QueryBaseline, CompareFlagsSlowerThanUsualOnly) {
    QueryBaseline b = trained();
    auto c = b.compare(1, {100, 25.0, 16.0});
    EXPECT_TRUE(c.known);
    EXPECT_TRUE(c.slower_than_usual);
    EXPECT_GT(c.z, 10.0);
    EXPECT_NEAR(c.ratio, 25.0 / b.find(1)->latency.mean, 1e-12);
    c = b.compare(1, {100, 10.6, 4.0});
    EXPECT_FALSE(c.slower_than_usual);
    c = b.compare(1, {100, 3.0, 1.0});  // faster
    EXPECT_FALSE(c.slower_than_usual);
    EXPECT_LT(c.z, 0.0);
    EXPECT_FALSE(b.compare(42, {100, 99.0, 1.0}).known);
    QueryBaseline fresh;
    fresh.update(7, {10, 1.0, 0.1}, 0);
    EXPECT_FALSE(fresh.compare(7, {10, 100.0, 0.1}).known);  // still warming up
}

TEST(QueryBaseline, RoundTripsThroughBytes) {
    const QueryBaseline b = trained();
    const auto bytes = b.encode();
    EXPECT_EQ(bytes.size(), 12u + 2 * QueryBaseline::kEntryBytes + 8u);
    const QueryBaseline r = QueryBaseline::decode(bytes);
    ASSERT_EQ(r.size(), 2u);
    for (uint64_t id : {1u, 2u}) {
        const BaselineEntry *x = b.find(id), *y = r.find(id);
        ASSERT_NE(y, nullptr);
        EXPECT_EQ(x->latency.mean, y->latency.mean);
        EXPECT_EQ(x->latency.variance, y->latency.variance);
        EXPECT_EQ(x->latency.updates, y->latency.updates);
        EXPECT_EQ(x->calls, y->calls);
        EXPECT_EQ(x->last_update_us, y->last_update_us);
    }
    EXPECT_EQ(r.encode(), bytes);  // deterministic
    EXPECT_EQ(QueryBaseline::decode(QueryBaseline().encode()).size(), 0u);
}

TEST(QueryBaseline, EveryTruncationAndEveryBitFlipIsRejected) {
    const auto bytes = trained().encode();
    for (std::size_t len = 0; len < bytes.size(); ++len) {
        std::vector<uint8_t> t(bytes.begin(), bytes.begin() + static_cast<long>(len));
        EXPECT_THROW(QueryBaseline::decode(t), std::invalid_argument) << "length " << len;
    }
    for (std::size_t i = 0; i < bytes.size(); ++i)
        for (int bit = 0; bit < 8; ++bit) {
            auto c = bytes;
            c[i] ^= static_cast<uint8_t>(1u << bit);
            EXPECT_THROW(QueryBaseline::decode(c), std::invalid_argument) << "byte " << i << " bit " << bit;
        }
    auto extra = bytes;
    extra.push_back(0);
    EXPECT_THROW(QueryBaseline::decode(extra), std::invalid_argument);
    EXPECT_THROW(QueryBaseline::decode(nullptr, 10), std::invalid_argument);
}

TEST(QueryBaseline, RandomGarbageNeverCrashes) {
    std::mt19937 rng(123);
    for (int i = 0; i < 2000; ++i) {
        std::vector<uint8_t> g(rng() % 200);
        for (auto &x : g) x = static_cast<uint8_t>(rng());
        if (g.size() >= 4 && i % 2) std::memcpy(g.data(), "RDQB", 4);
        EXPECT_THROW(QueryBaseline::decode(g), std::invalid_argument);
    }
}

TEST(QueryBaseline, FutureVersionAndBoundedSize) {
    auto bytes = trained().encode();
    bytes[4] = 2;  // version 2 (checksum would also fail; version is checked first and says so)
    try {
        QueryBaseline::decode(bytes);
        FAIL() << "expected invalid_argument";
    } catch (const std::invalid_argument &e) {
        EXPECT_NE(std::string(e.what()).find("unsupported version 2"), std::string::npos);
    }
    BaselineConfig c;
    c.max_entries = 2;
    QueryBaseline b(c);
    b.update(1, {10, 1.0, 0.0}, 100);
    b.update(2, {10, 1.0, 0.0}, 200);
    b.update(3, {10, 1.0, 0.0}, 300);  // evicts query 1, the least recently updated
    EXPECT_EQ(b.size(), 2u);
    EXPECT_EQ(b.find(1), nullptr);
    EXPECT_GT(b.memory_bytes(), 0u);
    c.max_entries = 1;
    const QueryBaseline small = QueryBaseline::decode(b.encode(), c);  // keeps the most recent
    ASSERT_EQ(small.size(), 1u);
    EXPECT_NE(small.find(3), nullptr);
    EXPECT_TRUE(b.erase(3));
    EXPECT_FALSE(b.erase(3));
    BaselineConfig bad;
    bad.alpha = 0;
    EXPECT_THROW(QueryBaseline{bad}, std::invalid_argument);
}
