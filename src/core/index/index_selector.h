// Greedy index selection (AutoAdmin / Extend style) against an abstract what-if cost oracle, run in rounds.
//
// The core never plans a query. The selector says which (query, configuration) pairs it needs costed; the
// adapter plans each query with exactly those hypothetical indexes (plus the real ones) and answers with the
// plan's total cost; repeat until done():
//
//     IndexSelector sel(queries, candidates, options, cancel);
//     while (!sel.done()) {
//         for (const CostRequest &r : sel.next_requests()) sel.provide_cost(r, plan_cost(r.queryid,
//         r.configuration));
//     }
//     SelectionResult res = sel.result();
//
// Cost model: a query's share of the workload is weight × cost(config) / cost(no new index), so weights may
// be calls × mean time (ms) while costs are planner units. Each index adds its write penalty (same unit as
// weights, e.g. ms of index maintenance over the same window). Step: add the candidate with the largest net
// benefit given the current set, or a much smaller one on the same relation within size_tolerance of that
// benefit (it must save
// min_index_improvement of the workload's cost with the current set — not of the baseline, so that the
// smaller wins left after the big ones still count — and fit
// max_indexes and the storage budget); then re-evaluate every chosen index against the others and drop the
// least useful one while it no longer pays for itself (a later index can make an earlier one useless). Stop
// when nothing pays; decline everything when the whole set improves the workload by less than
// min_improvement. A configuration only contains candidates on relations the query reads, and every answer is
// cached, so the same question is never asked twice.
#pragma once
#include "core/common/no_postgres.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/index/candidate_generator.h"
#include "core/index/index_model.h"

namespace rubberduck::core::index {

struct SelectorQuery {
    int64_t queryid = 0;
    double weight = 0;  // calls × mean time (or calls × cost) over the observation window
    std::vector<uint32_t>
        relation_oids;  // relations the query reads: candidates on others are irrelevant to it
};

struct SelectorCandidate {
    int id = 0;  // unique; the ids appear in CostRequest::configuration
    uint32_t relation_oid = 0;
    int64_t size_bytes = 0;
    double write_penalty = 0;  // same unit as SelectorQuery::weight
    // Size of an existing index this one widens (its keys a prefix of ours), 0 when none. At twice that size
    // or more, the candidate must at least halve the cost of the queries on its relation: a second, wider
    // copy of an index for a marginal gain is not advice (the same rule as for chosen indexes, see
    // size_tolerance).
    int64_t extends_existing_bytes = 0;
};

struct SelectorOptions {
    size_t max_indexes = 10;
    int64_t storage_budget_bytes = std::numeric_limits<int64_t>::max();
    double min_improvement = 0.05;         // fraction of the baseline workload cost the whole set must save
    double min_index_improvement = 0.005;  // fraction of the current workload cost each index must save (net)
    // Storage awareness: at each step the smallest candidate on the best one's relation whose net benefit is
    // within this fraction of the best one's, and whose size is at most half of it, is taken instead (a
    // partial index, the index without INCLUDE: the larger variant only wins when it buys clearly more).
    // Likewise a candidate that mostly re-serves a chosen index's queries, buys less than this fraction of
    // what that index buys and takes at least twice its space is not added on top of it.
    double size_tolerance = 0.05;
    size_t max_cost_requests = 20000;  // bound on what-if plans; selection stops early (truncated) beyond it
};

struct CostRequest {
    int64_t queryid = 0;
    std::vector<int> configuration;  // sorted candidate ids; empty = the baseline (existing indexes only)

    bool operator<(const CostRequest &o) const {
        return queryid != o.queryid ? queryid < o.queryid : configuration < o.configuration;
    }
    bool operator==(const CostRequest &o) const {
        return queryid == o.queryid && configuration == o.configuration;
    }
};

struct QueryCost {
    int64_t queryid = 0;
    double weight = 0;
    double cost_before = 0;   // plan cost with no new index
    double cost_after = 0;    // plan cost with the whole chosen set
    double cost_without = 0;  // in ChosenIndex::queries: the chosen set minus that index
};

struct ChosenIndex {
    int candidate_id = 0;
    int64_t size_bytes = 0;
    double write_penalty = 0;
    double improvement_pct = 0;  // net marginal saving given the other chosen indexes, % of baseline workload
    std::vector<QueryCost> queries;  // queries whose cost this index lowers
};

struct SelectionResult {
    std::vector<ChosenIndex> chosen;
    std::vector<QueryCost> queries;   // every costed query: baseline vs final (after == before when declined)
    double workload_cost_before = 0;  // Σ weights of the costed queries
    double workload_cost_after = 0;   // Σ weight × after/before + write penalties of the chosen set
    double improvement_pct = 0;       // 100 × (before - after) / before
    int64_t total_size_bytes = 0;
    double write_penalty = 0;
    std::vector<int> dropped;  // chosen at some step, then removed because later indexes made them useless
    bool declined = false;     // the best set saved less than min_improvement: nothing recommended
    bool cancelled = false;    // the cancel predicate fired: `chosen` is the set reached so far
    bool truncated = false;    // max_cost_requests reached: selection stopped early
    size_t rounds = 0;
    size_t cost_requests = 0;
    std::vector<int64_t> uncostable_queries;  // baseline could not be costed: left out of the workload
};

class IndexSelector {
  public:
    using CancelCheck = std::function<bool()>;
    using Oracle = std::function<double(int64_t queryid, const std::vector<int> &configuration)>;

    // Throws std::invalid_argument for duplicate ids, negative weights/sizes/penalties or options out of
    // range.
    IndexSelector(std::vector<SelectorQuery> queries, std::vector<SelectorCandidate> candidates,
                  SelectorOptions options = {}, CancelCheck cancel = {});

    // The pairs still needed; empty once done(). Asking again before answering returns the same pairs.
    std::vector<CostRequest> next_requests();
    // cost: the plan's total cost (finite, >= 0). Unknown query or candidate id → std::invalid_argument.
    void provide_cost(const CostRequest &request, double cost);
    // The oracle could not plan this: a configuration then counts as no improvement; an uncostable baseline
    // removes the query from the workload.
    void provide_uncostable(const CostRequest &request);
    bool done() const { return phase_ == Phase::kDone; }
    // Valid once done().
    const SelectionResult &result() const;

    // Runs the whole loop with a synchronous oracle (tests, benches). A NaN or negative answer = uncostable.
    SelectionResult select_with(const Oracle &oracle);

  private:
    enum class Phase { kBaseline, kGreedy, kPrune, kFinal, kDone };

    std::vector<int> config_for(size_t q, const std::vector<int> &set) const;
    bool known(size_t q, const std::vector<int> &set) const;
    double normalized(size_t q, const std::vector<int> &set) const;  // weight × cost/base
    void need(size_t q, const std::vector<int> &set, std::vector<CostRequest> &out) const;
    std::vector<int> without(const std::vector<int> &set, int id) const;
    std::vector<int> with(const std::vector<int> &set, int id) const;
    double marginal(int id, const std::vector<int> &set) const;  // net saving of `id` given set (id ∈ set)
    double benefit(int id, const std::vector<int> &set) const;   // net saving of adding id to set
    int64_t used_bytes() const;
    double current_cost() const;  // Σ normalized(q, chosen_) over the active queries
    bool wasteful_upgrade(int id) const;
    const SelectorCandidate &cand(int id) const;
    void advance();
    void finish();
    void validate_request(const CostRequest &r) const;

    std::vector<SelectorQuery> queries_;
    std::vector<SelectorCandidate> candidates_;
    std::map<int, size_t> candidate_index_;
    std::map<int64_t, size_t> query_index_;
    std::vector<std::set<int>> relevant_;       // per query: candidate ids on its relations
    std::vector<std::vector<size_t>> affects_;  // per candidate (by position): queries it is relevant to
    SelectorOptions options_;
    CancelCheck cancel_;

    Phase phase_ = Phase::kBaseline;
    std::map<CostRequest, double> cache_;  // NaN = uncostable
    std::set<CostRequest> issued_;
    std::vector<CostRequest> pending_;
    std::vector<bool> active_;  // query has a usable baseline
    std::vector<double> base_;
    double w0_ = 0;
    std::vector<int> chosen_;
    std::set<int> dropped_;
    SelectionResult result_;
};

// Write penalty of one index: maintenance cost per index entry × index-touching writes over the window
// (inserts + non-HOT updates + deletes). brin ×0.05, gin ×3 (several entries per row); a partial index is
// only touched for the rows it keeps (at least 10% counted: its predicate is evaluated on every write).
double write_penalty(const RelationStats &rel, const IndexDef &def, double predicate_selectivity,
                     double maintenance_cost_per_write, double window_seconds);

// Selector inputs from a workload and its generated candidates (weights taken from QueryProfile::weight,
// which must be measured over `window_seconds`).
struct SelectorInput {
    std::vector<SelectorQuery> queries;
    std::vector<SelectorCandidate> candidates;
};
SelectorInput make_selector_input(const Workload &workload, const std::vector<Candidate> &candidates,
                                  double maintenance_cost_per_write, double window_seconds);

}  // namespace rubberduck::core::index
