#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/index/candidate_generator.h"

using namespace rubberduck::core::index;

namespace {

constexpr uint32_t kUsers = 100, kJobs = 200, kOrders = 300;

ColumnStats col(const std::string &name, const std::string &type, double width, double nd, double corr = 0) {
    ColumnStats c;
    c.name = name;
    c.type_name = type;
    c.avg_width = width;
    c.n_distinct = nd;
    c.correlation = corr;
    return c;
}

PredicateObservation pred(uint32_t rel, int64_t q, const std::string &column, PredicateOp op, double sel = -1,
                          const std::string &expression = "") {
    PredicateObservation p;
    p.relation_oid = rel;
    p.queryid = q;
    p.columns = {column};
    p.op = op;
    p.avg_selectivity = sel;
    p.expression = expression;
    p.executions = 100;
    return p;
}

QueryProfile query(int64_t id, double weight, std::vector<QueryRelationUse> uses) {
    QueryProfile q;
    q.queryid = id;
    q.weight = weight;
    q.calls = 100;
    q.relations = std::move(uses);
    return q;
}

QueryRelationUse use(uint32_t rel, std::vector<std::string> selected) {
    QueryRelationUse u;
    u.relation_oid = rel;
    u.selected_columns = std::move(selected);
    return u;
}

// users: lower(email) lookups and infix name search; jobs: a queue poll; orders: an aggregate and a lookup.
Workload app_workload() {
    Workload w;
    RelationStats users;
    users.oid = kUsers;
    users.schema = "public";
    users.name = "users";
    users.reltuples = 1e6;
    users.relpages = 20000;
    users.columns = {col("id", "bigint", 8, -1, 1), col("email", "text", 25, -1),
                     col("name", "text", 15, -0.6),
                     col("created_at", "timestamp with time zone", 8, -1, 0.99)};
    users.indexes.push_back({});
    users.indexes.back().def.relation_oid = kUsers;
    users.indexes.back().def.name = "users_pkey";
    users.indexes.back().def.schema = "public";
    users.indexes.back().def.table = "users";
    users.indexes.back().def.keys = {{"id", "", "", false}};
    users.indexes.back().def.unique = true;
    users.indexes.back().primary = true;
    w.relations.push_back(users);

    RelationStats jobs;
    jobs.oid = kJobs;
    jobs.schema = "public";
    jobs.name = "jobs";
    jobs.reltuples = 2e6;
    jobs.relpages = 30000;
    jobs.updates_per_sec = 50;
    jobs.inserts_per_sec = 50;
    auto status = col("status", "text", 6, 4);
    status.most_common_vals = {
        {"'done'", 0.97}, {"'failed'", 0.02}, {"'queued'", 0.008}, {"'running'", 0.002}};
    jobs.columns = {col("id", "bigint", 8, -1, 1), status, col("priority", "integer", 4, 10),
                    col("created_at", "timestamp with time zone", 8, -1, 0.98),
                    col("payload", "jsonb", 300, -1)};
    w.relations.push_back(jobs);

    RelationStats orders;
    orders.oid = kOrders;
    orders.schema = "public";
    orders.name = "orders";
    orders.reltuples = 5e6;
    orders.relpages = 50000;
    orders.inserts_per_sec = 100;
    orders.columns = {col("id", "bigint", 8, -1, 1),
                      col("customer_id", "bigint", 8, 10000),
                      col("created_at", "timestamp with time zone", 8, -1, 0.99),
                      col("amount", "numeric", 7, 5000),
                      col("note", "text", 40, -0.5),
                      col("state", "text", 8, 3)};
    w.relations.push_back(orders);

    // q1: SELECT id, name FROM users WHERE lower(email) = $1
    w.queries.push_back(query(1, 500, {use(kUsers, {"id", "name", "email"})}));
    w.predicates.push_back(pred(kUsers, 1, "email", PredicateOp::kExpression, 1e-6, "lower(email)"));
    // q2: SELECT id FROM users WHERE name ILIKE '%foo%'
    w.queries.push_back(query(2, 300, {use(kUsers, {"id", "name"})}));
    w.predicates.push_back(pred(kUsers, 2, "name", PredicateOp::kLikeInfix, 0.001));
    // q3: SELECT id FROM jobs WHERE status = 'queued' ORDER BY priority, created_at LIMIT 10
    auto poll = use(kJobs, {"id", "status", "priority", "created_at"});
    poll.order_by = {{"priority", false}, {"created_at", false}};
    poll.has_limit = true;
    w.queries.push_back(query(3, 800, {poll}));
    auto qp = pred(kJobs, 3, "status", PredicateOp::kEq, 0.008);
    qp.constant_literal = "'queued'";
    w.predicates.push_back(qp);
    // q4: SELECT customer_id, sum(amount) FROM orders WHERE created_at >= $1 GROUP BY customer_id
    auto agg = use(kOrders, {"customer_id", "amount", "created_at"});
    agg.group_by = {"customer_id"};
    w.queries.push_back(query(4, 400, {agg}));
    w.predicates.push_back(pred(kOrders, 4, "created_at", PredicateOp::kGe, 0.05));
    // q5: SELECT * FROM orders WHERE customer_id = $1 AND created_at > $2
    w.queries.push_back(
        query(5, 200, {use(kOrders, {"id", "customer_id", "created_at", "amount", "note", "state"})}));
    w.predicates.push_back(pred(kOrders, 5, "created_at", PredicateOp::kGt, 0.2));
    w.predicates.push_back(pred(kOrders, 5, "customer_id", PredicateOp::kEq, 1e-4));
    return w;
}

const Candidate *find(const std::vector<Candidate> &cs, const std::string &ddl_tail) {
    for (const auto &c : cs) {
        std::string ddl = create_index_ddl(c.def);
        auto on = ddl.find(" ON ");
        if (on != std::string::npos && ddl.substr(on + 4) == ddl_tail) return &c;
    }
    return nullptr;
}

std::string dump(const std::vector<Candidate> &cs) {
    std::string s;
    for (const auto &c : cs) s += create_index_ddl(c.def) + "  [" + c.reason + "]\n";
    return s;
}

}  // namespace

TEST(CandidateGenerator, ExpressionIndexForFunctionPredicate) {
    auto cs = generate_candidates(app_workload());
    const Candidate *c = find(cs, "public.users USING btree ((lower(email)))");
    ASSERT_NE(c, nullptr) << dump(cs);
    EXPECT_EQ(c->queryids, std::vector<int64_t>{1});
    EXPECT_EQ(c->def.relation_oid, kUsers);
    EXPECT_GT(c->est_size_bytes, 0);
    // A point lookup (one row in a million) gets no covering variant: an index-only scan would save one
    // heap fetch for a wider index.
    EXPECT_EQ(find(cs, "public.users USING btree ((lower(email))) INCLUDE (id, name, email)"), nullptr)
        << dump(cs);
    // When the expression matches many rows, the covering variant for the index-only scan (id, name and
    // email are all the query reads) is offered.
    Workload w = app_workload();
    w.predicates[0].avg_selectivity = 1e-3;
    auto many = generate_candidates(w);
    EXPECT_NE(find(many, "public.users USING btree ((lower(email))) INCLUDE (id, name, email)"), nullptr)
        << dump(many);
}

TEST(CandidateGenerator, TrigramIndexForInfixSearch) {
    auto cs = generate_candidates(app_workload());
    const Candidate *c = find(cs, "public.users USING gin (name gin_trgm_ops)");
    ASSERT_NE(c, nullptr) << dump(cs);
    EXPECT_EQ(c->def.method, IndexMethod::kGin);
    CandidateOptions no_trgm;
    no_trgm.trigram_available = false;
    auto without = generate_candidates(app_workload(), no_trgm);
    EXPECT_EQ(find(without, "public.users USING gin (name gin_trgm_ops)"), nullptr);
    // A btree on name cannot serve '%foo%' and is not proposed either.
    EXPECT_EQ(find(without, "public.users USING btree (name)"), nullptr);
}

TEST(CandidateGenerator, PartialIndexForQueuePoll) {
    auto cs = generate_candidates(app_workload());
    const Candidate *part =
        find(cs, "public.jobs USING btree (priority, created_at) WHERE status = 'queued'");
    ASSERT_NE(part, nullptr) << dump(cs);
    EXPECT_DOUBLE_EQ(part->predicate_selectivity, 0.008);
    const Candidate *full = find(cs, "public.jobs USING btree (status, priority, created_at)");
    ASSERT_NE(full, nullptr) << dump(cs);
    EXPECT_LT(part->est_size_bytes * 20, full->est_size_bytes);  // 0.8 % of the rows
    // No covering variant: the poll's LIMIT bounds its heap fetches, an index-only scan saves next to
    // nothing.
    EXPECT_EQ(find(cs, "public.jobs USING btree (priority, created_at) INCLUDE (id) WHERE status = 'queued'"),
              nullptr)
        << dump(cs);
    // Without the LIMIT (every queued job, 16 000 rows), it is offered (id is the only column missing).
    Workload w = app_workload();
    w.queries[2].relations[0].has_limit = false;
    EXPECT_NE(find(generate_candidates(w),
                   "public.jobs USING btree (priority, created_at) INCLUDE (id) WHERE status = 'queued'"),
              nullptr)
        << dump(generate_candidates(w));
}

TEST(CandidateGenerator, NoPartialIndexForCommonValue) {
    auto w = app_workload();
    for (auto &p : w.predicates) {
        if (p.queryid == 3) p.constant_literal = "'done'";  // 97 % of the rows
    }
    auto cs = generate_candidates(w);
    for (const auto &c : cs) EXPECT_TRUE(c.def.predicate.empty()) << create_index_ddl(c.def);
    EXPECT_NE(find(cs, "public.jobs USING btree (status, priority, created_at)"), nullptr);
}

TEST(CandidateGenerator, CoveringIndexesForAggregate) {
    auto cs = generate_candidates(app_workload());
    EXPECT_NE(find(cs, "public.orders USING btree (created_at) INCLUDE (customer_id, amount)"), nullptr)
        << dump(cs);
    EXPECT_NE(find(cs, "public.orders USING btree (customer_id, created_at) INCLUDE (amount)"), nullptr)
        << dump(cs);
}

TEST(CandidateGenerator, EqualityBeforeRangeAndNoCoveringForWideSelects) {
    auto cs = generate_candidates(app_workload());
    const Candidate *c = find(cs, "public.orders USING btree (customer_id, created_at)");
    ASSERT_NE(c, nullptr) << dump(cs);
    EXPECT_NE(std::find(c->queryids.begin(), c->queryids.end(), 5), c->queryids.end());
    EXPECT_EQ(find(cs, "public.orders USING btree (created_at, customer_id)"), nullptr);
    // q5 reads six columns: four are missing from the key, more than... exactly max_include_columns allows 4.
    CandidateOptions narrow;
    narrow.max_include_columns = 2;
    auto cs2 = generate_candidates(app_workload(), narrow);
    for (const auto &x : cs2) EXPECT_LE(x.def.include.size(), 2u) << create_index_ddl(x.def);
}

TEST(CandidateGenerator, EqualityColumnsOrderedBySelectivity) {
    Workload w = app_workload();
    w.queries = {query(9, 100, {use(kOrders, {"id"})})};
    w.predicates = {pred(kOrders, 9, "state", PredicateOp::kEq, 0.3),
                    pred(kOrders, 9, "customer_id", PredicateOp::kEq, 1e-4)};
    auto cs = generate_candidates(w);
    EXPECT_NE(find(cs, "public.orders USING btree (customer_id, state)"), nullptr) << dump(cs);
    EXPECT_EQ(find(cs, "public.orders USING btree (state, customer_id)"), nullptr) << dump(cs);
    // Single-column candidates too.
    EXPECT_NE(find(cs, "public.orders USING btree (customer_id)"), nullptr);
}

TEST(CandidateGenerator, BrinOnlyForLargeCorrelatedAppendOnlyTables) {
    auto cs = generate_candidates(app_workload());
    EXPECT_NE(find(cs, "public.orders USING brin (created_at)"), nullptr) << dump(cs);
    auto churny = app_workload();
    churny.relations[2].updates_per_sec = 80;
    EXPECT_EQ(find(generate_candidates(churny), "public.orders USING brin (created_at)"), nullptr);
    auto small = app_workload();
    small.relations[2].relpages = 500;
    EXPECT_EQ(find(generate_candidates(small), "public.orders USING brin (created_at)"), nullptr);
    auto shuffled = app_workload();
    shuffled.relations[2].columns[2].correlation = 0.3;
    EXPECT_EQ(find(generate_candidates(shuffled), "public.orders USING brin (created_at)"), nullptr);
}

TEST(CandidateGenerator, JoinColumns) {
    Workload w = app_workload();
    auto u = use(kOrders, {"customer_id", "amount"});
    u.join_columns = {"customer_id"};
    w.queries = {query(7, 100, {u, use(kUsers, {"id"})})};
    w.predicates = {pred(kOrders, 7, "state", PredicateOp::kEq, 0.3)};
    auto cs = generate_candidates(w);
    EXPECT_NE(find(cs, "public.orders USING btree (state, customer_id)"), nullptr) << dump(cs);
    EXPECT_NE(find(cs, "public.orders USING btree (state, customer_id) INCLUDE (amount)"), nullptr)
        << dump(cs);
}

TEST(CandidateGenerator, LikePrefixUsesPatternOpclassUnlessCollationIsC) {
    Workload w = app_workload();
    w.queries = {query(8, 100, {use(kOrders, {"id"})})};
    w.predicates = {pred(kOrders, 8, "note", PredicateOp::kLikePrefix, 0.01)};
    auto cs = generate_candidates(w);
    EXPECT_NE(find(cs, "public.orders USING btree (note text_pattern_ops)"), nullptr) << dump(cs);
    w.relations[2].columns[4].c_collation = true;
    EXPECT_NE(find(generate_candidates(w), "public.orders USING btree (note)"), nullptr);
    // LIKE on a non-text column is ignored.
    w.predicates = {pred(kOrders, 8, "amount", PredicateOp::kLikePrefix, 0.01)};
    EXPECT_TRUE(generate_candidates(w).empty());
}

TEST(CandidateGenerator, DescendingOrderAndBackwardScans) {
    Workload w = app_workload();
    auto u = use(kOrders, {"id", "customer_id", "created_at"});
    u.order_by = {{"created_at", true}};
    u.has_limit = true;
    w.queries = {query(6, 100, {u})};
    w.predicates = {pred(kOrders, 6, "customer_id", PredicateOp::kEq, 1e-4)};
    auto cs = generate_candidates(w);
    // All-descending ORDER BY: an ascending index scanned backwards.
    EXPECT_NE(find(cs, "public.orders USING btree (customer_id, created_at)"), nullptr) << dump(cs);
    w.queries[0].relations[0].order_by = {{"created_at", true}, {"id", false}};
    cs = generate_candidates(w);
    EXPECT_NE(find(cs, "public.orders USING btree (customer_id, created_at DESC, id)"), nullptr) << dump(cs);
}

TEST(CandidateGenerator, MergedCandidatesServeSeveralQueries) {
    Workload w = app_workload();
    w.queries = {query(10, 100, {use(kOrders, {"id"})}), query(11, 100, {use(kOrders, {"id"})})};
    w.predicates = {pred(kOrders, 10, "customer_id", PredicateOp::kEq, 1e-4),
                    pred(kOrders, 10, "created_at", PredicateOp::kGt, 0.1),
                    pred(kOrders, 11, "customer_id", PredicateOp::kEq, 1e-4),
                    pred(kOrders, 11, "state", PredicateOp::kIn, 0.3)};
    auto cs = generate_candidates(w);
    const Candidate *shared = find(cs, "public.orders USING btree (customer_id)");
    ASSERT_NE(shared, nullptr) << dump(cs);
    EXPECT_EQ(shared->queryids, (std::vector<int64_t>{10, 11}));
    EXPECT_DOUBLE_EQ(shared->weight, 200);
    bool merged = std::any_of(cs.begin(), cs.end(), [](const Candidate &c) {
        return c.reason == "merged for several queries" && c.queryids == std::vector<int64_t>{10, 11};
    });
    EXPECT_TRUE(merged) << dump(cs);
}

TEST(CandidateGenerator, SkipsWhatExistingIndexesServe) {
    Workload w = app_workload();
    ExistingIndex e;
    e.def.relation_oid = kOrders;
    e.def.schema = "public";
    e.def.table = "orders";
    e.def.name = "orders_cust_created";
    e.def.keys = {{"customer_id", "", "", false}, {"created_at", "", "", false}, {"amount", "", "", false}};
    w.relations[2].indexes.push_back(e);
    auto cs = generate_candidates(w);
    EXPECT_EQ(find(cs, "public.orders USING btree (customer_id, created_at)"), nullptr) << dump(cs);
    EXPECT_EQ(find(cs, "public.orders USING btree (customer_id)"), nullptr) << dump(cs);
    // Its third key column covers the INCLUDE of the aggregate's grouping candidate.
    EXPECT_EQ(find(cs, "public.orders USING btree (customer_id, created_at) INCLUDE (amount)"), nullptr);
    // Not a prefix: still proposed.
    EXPECT_NE(find(cs, "public.orders USING btree (created_at) INCLUDE (customer_id, amount)"), nullptr);
    // An invalid index serves nothing.
    w.relations[2].indexes.back().valid = false;
    EXPECT_NE(find(generate_candidates(w), "public.orders USING btree (customer_id, created_at)"), nullptr);
}

TEST(CandidateGenerator, PrefixRuleDetails) {
    ExistingIndex e;
    e.def.relation_oid = 1;
    e.def.keys = {{"a", "", "", false}, {"b", "", "", true}};
    e.def.include = {"c"};
    IndexDef cand;
    cand.relation_oid = 1;
    cand.keys = {{"a", "", "", false}};
    EXPECT_TRUE(existing_index_serves(e, cand));
    cand.include = {"c", "b"};
    EXPECT_TRUE(existing_index_serves(e, cand));
    cand.include = {"d"};
    EXPECT_FALSE(existing_index_serves(e, cand));
    cand.include.clear();
    cand.keys = {{"a", "", "", true}, {"b", "", "", false}};  // fully reversed: backward scan
    EXPECT_TRUE(existing_index_serves(e, cand));
    cand.keys = {{"a", "", "", false}, {"b", "", "", false}};  // mixed: not served
    EXPECT_FALSE(existing_index_serves(e, cand));
    cand.keys = {{"b", "", "", true}};
    EXPECT_FALSE(existing_index_serves(e, cand));
    cand.keys = {{"a", "", "", false}};
    cand.predicate = "s = 'q'";
    EXPECT_TRUE(existing_index_serves(e, cand));  // a full index serves a partial candidate
    e.def.predicate = "s = 'x'";
    EXPECT_FALSE(existing_index_serves(e, cand));
    e.def.predicate = "s  = 'q'";
    EXPECT_TRUE(existing_index_serves(e, cand));
    cand.relation_oid = 2;
    EXPECT_FALSE(existing_index_serves(e, cand));
    cand.relation_oid = 1;
    cand.keys = {{"a", "", "text_pattern_ops", false}};
    EXPECT_FALSE(existing_index_serves(e, cand));
    cand.keys = {{"a", "", "", false}};
    cand.method = IndexMethod::kGin;
    EXPECT_FALSE(existing_index_serves(e, cand));
}

TEST(CandidateGenerator, BoundedRankedAndValid) {
    CandidateOptions o;
    o.max_candidates = 3;
    auto cs = generate_candidates(app_workload(), o);
    ASSERT_EQ(cs.size(), 3u);
    for (size_t i = 0; i < cs.size(); ++i) {
        EXPECT_EQ(cs[i].id, static_cast<int>(i));
        if (i) {
            EXPECT_GE(cs[i - 1].weight, cs[i].weight);
        }
    }
    EXPECT_NE(std::find(cs[0].queryids.begin(), cs[0].queryids.end(), 3),
              cs[0].queryids.end());  // heaviest query
    auto all = generate_candidates(app_workload());
    EXPECT_LE(all.size(), CandidateOptions{}.max_candidates);
    std::set<std::string> names;
    for (const auto &c : all) EXPECT_TRUE(names.insert(c.def.name).second) << "duplicate name " << c.def.name;
    for (const auto &c : all) {
        EXPECT_NO_THROW(create_index_ddl(c.def));
        EXPECT_FALSE(c.def.name.empty());
        EXPECT_LE(c.def.name.size(), 63u);
        EXPECT_GT(c.est_size_bytes, 0);
        EXPECT_LE(c.def.keys.size(), 4u);
    }
}

TEST(CandidateGenerator, IgnoresUnknownRelationsAndRejectsBadInput) {
    Workload w = app_workload();
    w.queries.push_back(query(99, 10, {use(4242, {"x"})}));
    w.predicates.push_back(pred(4242, 99, "x", PredicateOp::kEq));
    EXPECT_NO_THROW(generate_candidates(w));

    Workload bad = app_workload();
    bad.predicates.push_back(pred(kOrders, 5, "", PredicateOp::kEq));
    bad.predicates.back().columns.clear();
    EXPECT_THROW(generate_candidates(bad), std::invalid_argument);
    Workload neg = app_workload();
    neg.queries[0].weight = -1;
    EXPECT_THROW(generate_candidates(neg), std::invalid_argument);
    CandidateOptions o;
    o.max_key_columns = 0;
    EXPECT_THROW(generate_candidates(app_workload(), o), std::invalid_argument);
    EXPECT_TRUE(generate_candidates(Workload{}).empty());
}

TEST(CandidateGenerator, PerQueryBoundKeepsTrigramAndBrin) {
    Workload w = app_workload();
    auto u = use(kUsers, {"id", "name", "email", "created_at"});
    u.order_by = {{"created_at", false}};
    u.group_by = {"email"};
    w.queries = {query(12, 100, {u})};
    w.predicates = {pred(kUsers, 12, "name", PredicateOp::kLikeInfix, 0.01),
                    pred(kUsers, 12, "id", PredicateOp::kEq, 1e-6)};
    CandidateOptions o;
    o.max_per_query = 2;
    auto cs = generate_candidates(w, o);
    EXPECT_LE(cs.size(), 2u);
    EXPECT_NE(find(cs, "public.users USING gin (name gin_trgm_ops)"), nullptr) << dump(cs);
}

// Within max_candidates every query keeps its first candidates, so a light query is not crowded out by the
// many variants of heavy ones.
TEST(CandidateGenerator, BoundKeepsTheFirstCandidatesOfEveryQuery) {
    Workload w = app_workload();
    // q6: a light lookup on users.name: its only candidates weigh far less than everything else.
    w.queries.push_back(query(6, 1, {use(kUsers, {"id", "name"})}));
    w.predicates.push_back(pred(kUsers, 6, "name", PredicateOp::kEq, 1e-5));
    CandidateOptions o;
    o.max_candidates = 6;
    o.min_per_query = 1;
    auto cs = generate_candidates(w, o);
    ASSERT_EQ(cs.size(), 6u) << dump(cs);
    EXPECT_NE(find(cs, "public.users USING btree (name)"), nullptr) << dump(cs);
    // Each of the six queries has at least one candidate.
    for (int64_t qid = 1; qid <= 6; ++qid) {
        bool has = std::any_of(cs.begin(), cs.end(), [&](const Candidate &c) {
            return std::find(c.queryids.begin(), c.queryids.end(), qid) != c.queryids.end();
        });
        EXPECT_TRUE(has) << "query " << qid << "\n" << dump(cs);
    }
    // Still ranked by weight, ids in order.
    for (size_t i = 0; i < cs.size(); ++i) {
        EXPECT_EQ(cs[i].id, static_cast<int>(i));
        if (i) {
            EXPECT_GE(cs[i - 1].weight, cs[i].weight);
        }
    }
    // Without the guarantee, the light query loses its candidate to the heavy queries' variants.
    o.min_per_query = 0;
    EXPECT_EQ(find(generate_candidates(w, o), "public.users USING btree (name)"), nullptr);
}

// The queue poll's ORDER BY keys, in statement order, key a partial index on the rare status.
TEST(CandidateGenerator, PartialOrderedIndexKeepsOrderByOrder) {
    Workload w = app_workload();
    auto cs = generate_candidates(w);
    EXPECT_NE(find(cs, "public.jobs USING btree (priority, created_at) WHERE status = 'queued'"), nullptr)
        << dump(cs);
    EXPECT_EQ(find(cs, "public.jobs USING btree (created_at, priority) WHERE status = 'queued'"), nullptr)
        << dump(cs);
}

// Candidates that widen an existing btree carry its size (the selector's rule for wider copies).
TEST(CandidateGenerator, MarksCandidatesThatWidenAnExistingIndex) {
    Workload w = app_workload();
    ExistingIndex e;
    e.def.relation_oid = kOrders;
    e.def.schema = "public";
    e.def.table = "orders";
    e.def.name = "orders_customer";
    e.def.keys = {{"customer_id", "", "", false}};
    e.size_bytes = 12345;
    w.relations[2].indexes.push_back(e);
    auto cs = generate_candidates(w);
    const Candidate *wider = find(cs, "public.orders USING btree (customer_id, created_at)");
    ASSERT_NE(wider, nullptr) << dump(cs);
    EXPECT_EQ(wider->extends_existing_bytes, 12345);
    const Candidate *other = find(cs, "public.orders USING btree (created_at)");
    ASSERT_NE(other, nullptr) << dump(cs);
    EXPECT_EQ(other->extends_existing_bytes, 0);
}
