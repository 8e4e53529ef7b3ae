#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/index/index_size_estimator.h"

using namespace rubberduck::core::index;

namespace {

// The table measured on PostgreSQL 15.20 (1,000,000 rows; see the figures in index_size_estimator.h).
RelationStats measured_table() {
    RelationStats r;
    r.oid = 16384;
    r.schema = "public";
    r.name = "t";
    r.reltuples = 1000000;
    r.relpages = 14286;
    r.columns = {
        {"i4", 1, "integer", 4, 0, -1, 1, false, {}},
        {"i8", 2, "bigint", 8, 0, -1, 1, false, {}},
        {"txt19", 3, "character varying(19)", 20, 0, -1, 0, false, {}},
        {"status5", 4, "integer", 4, 0, 5, 0.19, false, {}},
        {"status", 5, "text", 5, 0, 2, 0.98, false, {{"'done'", 0.99}, {"'queued'", 0.01}}},
        {"ts", 6, "timestamp with time zone", 8, 0, -1, 1, false, {}},
        {"rnd", 7, "integer", 4, 0, 1001, 0, false, {}},
        {"name", 8, "text", 21, 0, -1, 0, false, {}},
        {"amount", 9, "numeric(12,2)", 7, 0, 5000, 0, false, {}},
    };
    return r;
}

IndexDef on(std::vector<std::string> cols, IndexMethod m = IndexMethod::kBtree) {
    IndexDef d;
    d.schema = "public";
    d.table = "t";
    d.method = m;
    for (auto &c : cols) d.keys.push_back({c, "", "", false});
    return d;
}

double mb(int64_t bytes) {
    return bytes / 1e6;
}

}  // namespace

TEST(IndexSizeEstimator, BtreeInt4MillionRowsMatchesPostgres) {
    auto e = estimate_index_size(on({"i4"}), measured_table());
    EXPECT_EQ(e.pages, 2745);  // pg_relation_size = 22487040
    EXPECT_EQ(e.bytes, 22487040);
    EXPECT_EQ(e.leaf_pages, 2733);
    EXPECT_EQ(e.height, 2);
    EXPECT_DOUBLE_EQ(e.index_tuples, 1e6);
    EXPECT_FALSE(e.approximate);
}

TEST(IndexSizeEstimator, BtreeBigintSameAsInt4BecauseOfMaxalign) {
    auto e4 = estimate_index_size(on({"i4"}), measured_table());
    auto e8 = estimate_index_size(on({"i8"}), measured_table());
    EXPECT_EQ(e8.pages, e4.pages);
    EXPECT_NEAR(mb(e8.bytes), 22.5, 0.1);
}

TEST(IndexSizeEstimator, BtreeTextWidth20) {
    auto e = estimate_index_size(on({"txt19"}), measured_table());
    EXPECT_EQ(e.pages, 4961);  // measured 40640512 bytes
    EXPECT_GT(mb(e.bytes), 30);
    EXPECT_LT(mb(e.bytes), 42);
}

TEST(IndexSizeEstimator, BtreeDeduplicationOfLowCardinalityKeys) {
    auto low = estimate_index_size(on({"status5"}), measured_table());
    EXPECT_EQ(low.pages, 850);  // measured 850
    auto mid = estimate_index_size(on({"rnd"}), measured_table());
    EXPECT_NEAR(static_cast<double>(mid.pages), 889, 889 * 0.05);  // measured 889
    // No dedup for a UNIQUE index or for numeric keys: same layout as an all-distinct column.
    auto uniq = on({"status5"});
    uniq.unique = true;
    EXPECT_EQ(estimate_index_size(uniq, measured_table()).pages, 2745);
    auto num = estimate_index_size(on({"amount"}), measured_table());
    EXPECT_GT(num.pages, 2745);  // 7-byte numeric is unaligned varlena: 8+7 → 16 + 4, but never deduplicated
}

TEST(IndexSizeEstimator, BtreeIncludeAndCompositeKeys) {
    auto inc = on({"i4"});
    inc.include = {"i8"};
    auto ei = estimate_index_size(inc, measured_table());
    EXPECT_NEAR(static_cast<double>(ei.pages), 3848, 3848 * 0.01);  // measured 3848
    auto comp = estimate_index_size(on({"i4", "i8"}), measured_table());
    EXPECT_NEAR(static_cast<double>(comp.pages), 3848, 3848 * 0.01);  // measured 3848
    EXPECT_GT(ei.bytes, estimate_index_size(on({"i4"}), measured_table()).bytes);
}

TEST(IndexSizeEstimator, PartialIndexScalesBySelectivity) {
    auto part = on({"i4"});
    part.predicate = "status = 'queued'";
    auto e = estimate_index_size(part, measured_table(), 0.01);
    EXPECT_EQ(e.pages, 30);  // measured 30 (10,000 rows)
    EXPECT_EQ(e.height, 1);
    EXPECT_DOUBLE_EQ(e.index_tuples, 10000);
}

TEST(IndexSizeEstimator, TinyAndEmptyTables) {
    auto r = measured_table();
    r.reltuples = 0;
    auto empty = estimate_index_size(on({"i4"}), r);
    EXPECT_EQ(empty.pages, 1);
    r.reltuples = 100;
    auto tiny = estimate_index_size(on({"i4"}), r);
    EXPECT_EQ(tiny.pages, 2);  // metapage + a root that is a leaf
    EXPECT_EQ(tiny.height, 0);
}

TEST(IndexSizeEstimator, NullsShrinkHashButAreStoredByBtree) {
    auto r = measured_table();
    r.columns[0].null_frac = 0.5;
    auto bt = estimate_index_size(on({"i4"}), r);
    EXPECT_GE(bt.pages, 2700);  // btree stores NULL entries too (16 bytes each)
    auto h_full = estimate_index_size(on({"i4"}, IndexMethod::kHash), measured_table());
    auto h_half = estimate_index_size(on({"i4"}, IndexMethod::kHash), r);
    EXPECT_LT(h_half.pages, h_full.pages);
}

TEST(IndexSizeEstimator, HashMatchesSplitpointAllocation) {
    auto e = estimate_index_size(on({"i4"}, IndexMethod::kHash), measured_table());
    EXPECT_EQ(e.pages, 3586);  // 3584 buckets + meta + bitmap (measured 4098: the estimate is rough)
    EXPECT_GT(mb(e.bytes), 25);
    EXPECT_LT(mb(e.bytes), 40);
    auto r = measured_table();
    r.reltuples = 600000;
    EXPECT_EQ(estimate_index_size(on({"i4"}, IndexMethod::kHash), r).pages, 2050);  // measured 2050
}

TEST(IndexSizeEstimator, BrinIsTiny) {
    auto e = estimate_index_size(on({"ts"}, IndexMethod::kBrin), measured_table());
    EXPECT_EQ(e.pages, 3);  // measured 3
    auto r = measured_table();
    r.relpages = 10'000'000;  // 78125 ranges: several revmap and regular pages
    auto big = estimate_index_size(on({"ts"}, IndexMethod::kBrin), r);
    EXPECT_GT(big.pages, 60);
    EXPECT_LT(big.pages, 400);
}

TEST(IndexSizeEstimator, GinTrigramRoughlyMatches) {
    auto d = on({"name"}, IndexMethod::kGin);
    d.keys[0].opclass = "gin_trgm_ops";
    auto e = estimate_index_size(d, measured_table());
    EXPECT_NEAR(mb(e.bytes), 61.9, 61.9 * 0.15);  // measured 61890560 bytes
}

TEST(IndexSizeEstimator, MissingColumnStatsFallBackAndFlag) {
    auto d = on({"nope"});
    auto e = estimate_index_size(d, measured_table());
    EXPECT_TRUE(e.approximate);
    EXPECT_EQ(e.pages, 2745);  // 8-byte fallback width
}

TEST(IndexSizeEstimator, RejectsBadInput) {
    auto r = measured_table();
    EXPECT_THROW(estimate_index_size(on({"i4"}), r, 0.0), std::invalid_argument);
    EXPECT_THROW(estimate_index_size(on({"i4"}), r, 1.5), std::invalid_argument);
    r.reltuples = -1;
    EXPECT_THROW(estimate_index_size(on({"i4"}), r), std::invalid_argument);
    EXPECT_THROW(estimate_index_size(on({}), measured_table()), std::invalid_argument);
    SizeEstimatorOptions bad;
    bad.btree_leaf_fillfactor = 5;
    EXPECT_THROW(estimate_index_size(on({"i4"}), measured_table(), 1.0, bad), std::invalid_argument);
}

TEST(IndexSizeEstimator, LowerFillfactorMeansMorePages) {
    SizeEstimatorOptions o;
    o.btree_leaf_fillfactor = 70;
    EXPECT_GT(estimate_index_size(on({"i4"}), measured_table(), 1.0, o).pages, 3000);
}

TEST(IndexSizeEstimator, DistinctValuesConvention) {
    ColumnStats c;
    c.n_distinct = -0.5;
    EXPECT_DOUBLE_EQ(distinct_values(c, 1000), 500);
    c.n_distinct = 7;
    EXPECT_DOUBLE_EQ(distinct_values(c, 1000), 7);
    c.n_distinct = 0;
    EXPECT_DOUBLE_EQ(distinct_values(c, 1000), 1000);
}

// ---- trigram GIN model ----

namespace {

// Deterministic 32-character lower-case hex strings (like md5(g::text)).
std::vector<std::string> hex_values(int n, uint32_t seed) {
    std::vector<std::string> out;
    uint32_t x = seed;
    for (int i = 0; i < n; ++i) {
        std::string s;
        for (int c = 0; c < 32; ++c) {
            x = x * 1664525u + 1013904223u;
            s += "0123456789abcdef"[(x >> 24) & 15];
        }
        out.push_back(s);
    }
    return out;
}

// A table like bench/index_advisor/size_check.sh's sz (55 rows per heap page) with a `note` text column whose
// pg_statistic sample is 101 histogram bounds.
RelationStats trgm_table(double rows, const std::vector<std::string> &values, IndexDef *def,
                         SizeEstimatorOptions *o, double width = 33) {
    RelationStats r;
    r.name = "t";
    r.reltuples = rows;
    r.relpages = std::ceil(rows / 55);
    r.columns = {{"note", 1, "text", width, 0, -1, 0, false, {}}};
    *def = on({"note"}, IndexMethod::kGin);
    def->keys[0].opclass = "gin_trgm_ops";
    SizeEstimatorOptions::ColumnSample s;
    s.column = "note";
    for (const auto &v : values) s.values.push_back({v, 1.0 / values.size(), false});
    o->column_samples = {s};
    return r;
}

}  // namespace

TEST(IndexSizeEstimator, TrigramsFollowPgTrgmRules) {
    auto t = trigrams_of("Ab-c ab");
    std::vector<std::string> want{"  a", "  c", " ab", " c ", "ab "};
    EXPECT_EQ(t, want);
    EXPECT_TRUE(trigrams_of("--- !!").empty());
    EXPECT_EQ(trigrams_of(std::string(32, 'f')).size(), 4u);  // "  f", " ff", "fff", "ff "
}

TEST(IndexSizeEstimator, GinTrigramHexMatchesPostgresAt200kRows) {
    IndexDef d;
    SizeEstimatorOptions o;
    auto r = trgm_table(200000, hex_values(101, 7), &d, &o);
    auto e = estimate_index_size(d, r, 1.0, o);
    EXPECT_FALSE(e.approximate);
    // Measured on PostgreSQL 15 (maintenance_work_mem 256MB): 3651 pages, 2971 of them one-page posting
    // trees.
    EXPECT_NEAR(static_cast<double>(e.pages), 3651, 3651 * 0.2);
}

TEST(IndexSizeEstimator, GinTrigramInlineThenPostingTreeRegimes) {
    IndexDef d;
    SizeEstimatorOptions o;
    auto hex = hex_values(101, 11);
    // 20 000 rows: ~150 rows per trigram, every posting list fits inline in its entry tuple (~2 bytes per
    // TID).
    auto small = estimate_index_size(d, trgm_table(20000, hex, &d, &o), 1.0, o);
    EXPECT_LT(small.pages, 20000.0 * 33 * 3 / 8192);
    // 400 000 rows: ~3000 rows per trigram, each of the ~4600 keys needs its own posting tree page(s).
    auto big = estimate_index_size(d, trgm_table(400000, hex, &d, &o), 1.0, o);
    EXPECT_GT(big.pages, 4000);
    // The posting-tree regime costs more per TID than the inline one.
    EXPECT_GT(static_cast<double>(big.pages) / 400000, static_cast<double>(small.pages) / 20000);
}

TEST(IndexSizeEstimator, GinTrigramMonotonicInRows) {
    IndexDef d;
    SizeEstimatorOptions o;
    auto hex = hex_values(101, 3);
    int64_t last = 0;
    for (double rows = 1000; rows <= 5e6; rows *= 1.3) {
        auto e = estimate_index_size(d, trgm_table(rows, hex, &d, &o), 1.0, o);
        EXPECT_GE(e.pages, last) << rows;
        last = e.pages;
    }
}

TEST(IndexSizeEstimator, GinTrigramSmallAlphabetCapsKeys) {
    // Codes over {a, b}: at most 2³ + 2·2² + 2·2 = 20 trigrams, so a few huge posting trees — far below
    // the per-character rough rule.
    std::vector<std::string> codes;
    auto hex = hex_values(101, 5);
    for (auto &h : hex) {
        std::string s;
        for (char c : h.substr(0, 10)) s += (c < '8' ? 'a' : 'b');
        codes.push_back(s);
    }
    IndexDef d;
    SizeEstimatorOptions o;
    auto r = trgm_table(1000000, codes, &d, &o, 11);
    auto e = estimate_index_size(d, r, 1.0, o);
    EXPECT_FALSE(e.approximate);
    // 1M rows × ≤ 11 trigrams at ~1 byte per TID (dense posting trees) → ~1300 pages; the rough rule: ~4100.
    EXPECT_GT(e.pages, 1000);
    EXPECT_LT(e.pages, 3000);
}

TEST(IndexSizeEstimator, GinTrigramBadSampleFallsBack) {
    IndexDef d;
    SizeEstimatorOptions o;
    auto r = trgm_table(100000, {"", "--", "!!"}, &d, &o);
    auto e = estimate_index_size(d, r, 1.0, o);
    EXPECT_TRUE(e.approximate);  // no trigrams in the sample: the rough rule
    EXPECT_GT(e.pages, 1);
    o.column_samples[0].values = {{"abc", -1, false}, {"abd", 0, false}};  // unusable weights
    EXPECT_TRUE(estimate_index_size(d, r, 1.0, o).approximate);
    r.reltuples = 0;
    r.relpages = 0;
    o = {};
    trgm_table(0, hex_values(5, 1), &d, &o);
    EXPECT_LE(estimate_index_size(d, r, 1.0, o).pages, 3);
}

TEST(IndexSizeEstimator, GinTrigramHexMatchesPostgresAtOneMillionRows) {
    IndexDef d;
    SizeEstimatorOptions o;
    auto r = trgm_table(1000000, hex_values(101, 7), &d, &o);
    r.relpages = 18182;
    auto e = estimate_index_size(d, r, 1.0, o);
    // Measured: 108.67 MB (13910 pages): ~4100 interior trigrams × (2 leaves + 1 root) of 7300 TIDs each.
    EXPECT_NEAR(static_cast<double>(e.pages), 13910, 13910 * 0.2);
}

// The advisor estimates candidates of many relations with one options object: a sample keyed by relation oid
// applies to that relation's column only; an unkeyed one (relation_oid 0) to any.
TEST(IndexSizeEstimator, GinTrigramSampleKeyedByRelation) {
    IndexDef d;
    SizeEstimatorOptions o;
    RelationStats r = trgm_table(200000, hex_values(101, 7), &d, &o);
    r.oid = 42;
    const auto unkeyed = estimate_index_size(d, r, 1.0, o);
    EXPECT_FALSE(unkeyed.approximate);
    o.column_samples[0].relation_oid = 42;
    EXPECT_EQ(estimate_index_size(d, r, 1.0, o).pages, unkeyed.pages);
    // Another relation's sample for a column of the same name is not used: the rough rule applies, which is
    // far below the layout model at this size.
    o.column_samples[0].relation_oid = 43;
    EXPECT_LT(estimate_index_size(d, r, 1.0, o).pages, unkeyed.pages * 0.7);
}
