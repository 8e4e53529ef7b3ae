#include "core/index/index_selector.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace rubberduck::core::index {

IndexSelector::IndexSelector(std::vector<SelectorQuery> queries, std::vector<SelectorCandidate> candidates,
                             SelectorOptions options, CancelCheck cancel)
    : queries_(std::move(queries)),
      candidates_(std::move(candidates)),
      options_(options),
      cancel_(std::move(cancel)) {
    if (!(options_.min_improvement >= 0 && options_.min_improvement < 1) ||
        !(options_.min_index_improvement >= 0 && options_.min_index_improvement < 1)) {
        throw std::invalid_argument("min_improvement and min_index_improvement must be fractions in [0, 1)");
    }
    if (!(options_.size_tolerance >= 0 && options_.size_tolerance < 1)) {
        throw std::invalid_argument("size_tolerance must be a fraction in [0, 1)");
    }
    if (options_.storage_budget_bytes < 0) {
        throw std::invalid_argument("storage_budget_bytes must be >= 0 (0 allows no index)");
    }
    for (size_t i = 0; i < candidates_.size(); ++i) {
        const auto &c = candidates_[i];
        if (!candidate_index_.emplace(c.id, i).second) {
            throw std::invalid_argument("duplicate candidate id " + std::to_string(c.id));
        }
        if (c.size_bytes < 0 || !(c.write_penalty >= 0) || !std::isfinite(c.write_penalty)) {
            throw std::invalid_argument("candidate " + std::to_string(c.id) +
                                        " has a negative size or write penalty");
        }
    }
    relevant_.resize(queries_.size());
    affects_.resize(candidates_.size());
    for (size_t q = 0; q < queries_.size(); ++q) {
        const auto &qu = queries_[q];
        if (!query_index_.emplace(qu.queryid, q).second) {
            throw std::invalid_argument("duplicate query id " + std::to_string(qu.queryid));
        }
        if (!(qu.weight >= 0) || !std::isfinite(qu.weight)) {
            throw std::invalid_argument("query " + std::to_string(qu.queryid) +
                                        " has a negative or infinite weight");
        }
        for (size_t i = 0; i < candidates_.size(); ++i) {
            const auto &rels = qu.relation_oids;
            if (std::find(rels.begin(), rels.end(), candidates_[i].relation_oid) != rels.end()) {
                relevant_[q].insert(candidates_[i].id);
                affects_[i].push_back(q);
            }
        }
    }
    active_.assign(queries_.size(), false);
    base_.assign(queries_.size(), 0.0);
}

const SelectorCandidate &IndexSelector::cand(int id) const {
    return candidates_[candidate_index_.at(id)];
}

std::vector<int> IndexSelector::config_for(size_t q, const std::vector<int> &set) const {
    std::vector<int> out;
    for (int id : set) {
        if (relevant_[q].count(id)) out.push_back(id);
    }
    std::sort(out.begin(), out.end());
    return out;
}

bool IndexSelector::known(size_t q, const std::vector<int> &set) const {
    return cache_.count(CostRequest{queries_[q].queryid, config_for(q, set)}) > 0;
}

double IndexSelector::normalized(size_t q, const std::vector<int> &set) const {
    auto it = cache_.find(CostRequest{queries_[q].queryid, config_for(q, set)});
    // Unknown or uncostable configurations count as "no improvement".
    if (it == cache_.end() || std::isnan(it->second) || base_[q] <= 0) return queries_[q].weight;
    return queries_[q].weight * it->second / base_[q];
}

void IndexSelector::need(size_t q, const std::vector<int> &set, std::vector<CostRequest> &out) const {
    CostRequest r{queries_[q].queryid, config_for(q, set)};
    if (cache_.count(r)) return;
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(std::move(r));
}

std::vector<int> IndexSelector::without(const std::vector<int> &set, int id) const {
    std::vector<int> out;
    for (int x : set) {
        if (x != id) out.push_back(x);
    }
    return out;
}

std::vector<int> IndexSelector::with(const std::vector<int> &set, int id) const {
    std::vector<int> out = set;
    out.push_back(id);
    return out;
}

double IndexSelector::benefit(int id, const std::vector<int> &set) const {
    double gain = 0;
    auto plus = with(set, id);
    for (size_t q : affects_[candidate_index_.at(id)]) {
        if (active_[q]) gain += normalized(q, set) - normalized(q, plus);
    }
    return gain - cand(id).write_penalty;
}

double IndexSelector::marginal(int id, const std::vector<int> &set) const {
    double gain = 0;
    auto minus = without(set, id);
    for (size_t q : affects_[candidate_index_.at(id)]) {
        if (active_[q]) gain += normalized(q, minus) - normalized(q, set);
    }
    return gain - cand(id).write_penalty;
}

int64_t IndexSelector::used_bytes() const {
    int64_t total = 0;
    for (int id : chosen_) total += cand(id).size_bytes;
    return total;
}

void IndexSelector::validate_request(const CostRequest &r) const {
    if (!query_index_.count(r.queryid)) {
        throw std::invalid_argument("cost for unknown query id " + std::to_string(r.queryid));
    }
    for (size_t i = 0; i < r.configuration.size(); ++i) {
        if (!candidate_index_.count(r.configuration[i])) {
            throw std::invalid_argument("cost for unknown candidate id " +
                                        std::to_string(r.configuration[i]));
        }
        if (i && r.configuration[i - 1] >= r.configuration[i]) {
            throw std::invalid_argument("configuration must be sorted and without duplicates, as requested");
        }
    }
}

void IndexSelector::provide_cost(const CostRequest &request, double cost) {
    validate_request(request);
    if (!std::isfinite(cost) || cost < 0) {
        throw std::invalid_argument(
            "plan cost must be finite and >= 0; use provide_uncostable() when planning failed");
    }
    cache_[request] = cost;
}

void IndexSelector::provide_uncostable(const CostRequest &request) {
    validate_request(request);
    cache_[request] = std::nan("");
}

std::vector<CostRequest> IndexSelector::next_requests() {
    if (phase_ == Phase::kDone) return {};
    if (cancel_ && cancel_()) {
        result_.cancelled = true;
        finish();
        phase_ = Phase::kDone;
        pending_.clear();
        return {};
    }
    pending_.erase(std::remove_if(pending_.begin(), pending_.end(),
                                  [&](const CostRequest &r) { return cache_.count(r) > 0; }),
                   pending_.end());
    if (pending_.empty()) advance();
    return pending_;
}

// `id` mostly re-serves the queries a chosen index on the same relation already serves, buys less than
// size_tolerance of what that index buys, and takes at least twice its space (the full or covering variant of
// a chosen partial or plain index): not worth it, however small the rest of the workload has become.
bool IndexSelector::wasteful_upgrade(int id) const {
    const SelectorCandidate &x = cand(id);
    const auto plus = with(chosen_, id);
    if (x.extends_existing_bytes > 0 && x.size_bytes >= 2 * x.extends_existing_bytes) {
        double now = 0, after = 0;
        for (size_t q : affects_[candidate_index_.at(id)]) {
            if (!active_[q]) continue;
            now += normalized(q, chosen_);
            after += normalized(q, plus);
        }
        if (after > 0.5 * now) return true;
    }
    for (int y : chosen_) {
        const SelectorCandidate &cy = cand(y);
        if (cy.relation_oid != x.relation_oid || x.size_bytes < 2 * cy.size_bytes) continue;
        const auto minus = without(chosen_, y);
        double y_gain = 0, x_gain = 0, x_gain_on_y = 0;
        for (size_t q : affects_[candidate_index_.at(y)]) {
            if (!active_[q]) continue;
            const double gy = normalized(q, minus) - normalized(q, chosen_);
            const double gx = normalized(q, chosen_) - normalized(q, plus);
            y_gain += std::max(0.0, gy);
            x_gain += std::max(0.0, gx);
            if (gy > 0) x_gain_on_y += std::max(0.0, gx);
        }
        if (y_gain > 0 && x_gain_on_y * 2 >= x_gain && x_gain < options_.size_tolerance * y_gain) return true;
    }
    return false;
}

double IndexSelector::current_cost() const {
    double total = 0;
    for (size_t q = 0; q < queries_.size(); ++q) {
        if (active_[q]) total += normalized(q, chosen_);
    }
    return total;
}

void IndexSelector::advance() {
    while (phase_ != Phase::kDone) {
        // Each index must save min_index_improvement of the workload as it is with the indexes chosen so far
        // (not of the baseline: once the big wins are in, what is left is what the next index competes for).
        // Needs the chosen set's cost of every query (requested below, cached across rounds).
        const double threshold = options_.min_index_improvement * current_cost();
        std::vector<CostRequest> missing;
        if (phase_ == Phase::kBaseline) {
            for (size_t q = 0; q < queries_.size(); ++q) need(q, {}, missing);
            if (missing.empty()) {
                for (size_t q = 0; q < queries_.size(); ++q) {
                    double c = cache_.at(CostRequest{queries_[q].queryid, {}});
                    if (std::isnan(c)) result_.uncostable_queries.push_back(queries_[q].queryid);
                    active_[q] = !std::isnan(c) && c > 0 && queries_[q].weight > 0;
                    base_[q] = std::isnan(c) ? 0 : c;
                    if (active_[q]) w0_ += queries_[q].weight;
                }
                phase_ = Phase::kGreedy;
                continue;
            }
        } else if (phase_ == Phase::kGreedy) {
            if (chosen_.size() >= options_.max_indexes) {
                phase_ = Phase::kFinal;
                continue;
            }
            for (size_t q = 0; q < queries_.size(); ++q) {
                if (active_[q]) need(q, chosen_, missing);
            }
            std::vector<int> eligible;
            const int64_t used = used_bytes();
            for (size_t i = 0; i < candidates_.size(); ++i) {
                const auto &c = candidates_[i];
                if (std::find(chosen_.begin(), chosen_.end(), c.id) != chosen_.end() || dropped_.count(c.id))
                    continue;
                if (c.size_bytes > options_.storage_budget_bytes - used) continue;
                bool useful =
                    std::any_of(affects_[i].begin(), affects_[i].end(), [&](size_t q) { return active_[q]; });
                if (!useful) continue;
                eligible.push_back(c.id);
                for (size_t q : affects_[i]) {
                    if (!active_[q]) continue;
                    need(q, chosen_, missing);
                    need(q, with(chosen_, c.id), missing);
                }
            }
            if (missing.empty()) {
                int best = -1;
                double best_benefit = 0;
                for (int id : eligible) {
                    double b = benefit(id, chosen_);
                    if (wasteful_upgrade(id)) continue;
                    bool better = best < 0 || b > best_benefit ||
                                  (b == best_benefit && cand(id).size_bytes < cand(best).size_bytes);
                    if (better) {
                        best = id;
                        best_benefit = b;
                    }
                }
                if (best < 0 || best_benefit <= threshold) {
                    phase_ = Phase::kFinal;
                    continue;
                }
                // Storage-aware: an alternative on the same relation that buys nearly as much for at most
                // half the space (a partial index, or the index without its INCLUDE columns) wins. What it
                // leaves on the table stays a candidate for the next round, and pruning drops the small one
                // if a larger one is added later and makes it useless.
                const double floor = (1.0 - options_.size_tolerance) * best_benefit;
                int pick = best;
                for (int id : eligible) {
                    const SelectorCandidate &alt = cand(id);
                    if (alt.relation_oid == cand(best).relation_oid &&
                        alt.size_bytes < cand(pick).size_bytes &&
                        alt.size_bytes * 2 <= cand(best).size_bytes && benefit(id, chosen_) >= floor &&
                        benefit(id, chosen_) > threshold)
                        pick = id;
                }
                chosen_.push_back(pick);
                phase_ = Phase::kPrune;
                continue;
            }
        } else if (phase_ == Phase::kPrune) {
            if (chosen_.size() < 2) {
                phase_ = Phase::kGreedy;
                continue;
            }
            for (size_t q = 0; q < queries_.size(); ++q) {
                if (active_[q]) need(q, chosen_, missing);
            }
            for (int id : chosen_) {
                for (size_t q : affects_[candidate_index_.at(id)]) {
                    if (!active_[q]) continue;
                    need(q, without(chosen_, id), missing);
                }
            }
            if (missing.empty()) {
                int worst = -1;
                double worst_value = 0;
                for (int id : chosen_) {
                    double m = marginal(id, chosen_);
                    if (worst < 0 || m < worst_value) {
                        worst = id;
                        worst_value = m;
                    }
                }
                if (worst_value <= threshold) {
                    chosen_ = without(chosen_, worst);
                    dropped_.insert(worst);
                    result_.dropped.push_back(worst);
                    continue;  // re-evaluate the rest against the smaller set
                }
                phase_ = Phase::kGreedy;
                continue;
            }
        } else if (phase_ == Phase::kFinal) {
            for (size_t q = 0; q < queries_.size(); ++q) {
                if (active_[q]) need(q, chosen_, missing);
            }
            for (int id : chosen_) {
                for (size_t q : affects_[candidate_index_.at(id)]) {
                    if (active_[q]) need(q, without(chosen_, id), missing);
                }
            }
            if (missing.empty()) {
                finish();
                phase_ = Phase::kDone;
                pending_.clear();
                return;
            }
        }

        // Costs are missing: ask for them, unless that would exceed the what-if budget.
        size_t fresh = 0;
        for (const auto &r : missing) fresh += issued_.count(r) ? 0 : 1;
        bool exempt = phase_ == Phase::kBaseline || phase_ == Phase::kFinal;
        if (!exempt && issued_.size() + fresh > options_.max_cost_requests) {
            result_.truncated = true;
            phase_ = Phase::kFinal;
            continue;
        }
        for (const auto &r : missing) issued_.insert(r);
        if (fresh > 0) ++result_.rounds;
        pending_ = std::move(missing);
        return;
    }
}

void IndexSelector::finish() {
    SelectionResult &r = result_;
    r.cost_requests = issued_.size();
    r.workload_cost_before = w0_;
    auto cost_of = [&](size_t q, const std::vector<int> &set) {
        auto it = cache_.find(CostRequest{queries_[q].queryid, config_for(q, set)});
        return it == cache_.end() || std::isnan(it->second) ? base_[q] : it->second;
    };

    double after = 0;
    for (size_t q = 0; q < queries_.size(); ++q) {
        if (!active_[q]) continue;
        after += normalized(q, chosen_);
        r.queries.push_back({queries_[q].queryid, queries_[q].weight, base_[q], cost_of(q, chosen_), 0});
    }
    for (int id : chosen_) {
        const auto &c = cand(id);
        ChosenIndex ci;
        ci.candidate_id = id;
        ci.size_bytes = c.size_bytes;
        ci.write_penalty = c.write_penalty;
        ci.improvement_pct = w0_ > 0 ? 100.0 * marginal(id, chosen_) / w0_ : 0;
        auto minus = without(chosen_, id);
        for (size_t q : affects_[candidate_index_.at(id)]) {
            if (!active_[q]) continue;
            double with_all = cost_of(q, chosen_);
            double without_it = cost_of(q, minus);
            if (without_it > with_all) {
                ci.queries.push_back(
                    {queries_[q].queryid, queries_[q].weight, base_[q], with_all, without_it});
            }
        }
        r.chosen.push_back(std::move(ci));
        r.total_size_bytes += c.size_bytes;
        r.write_penalty += c.write_penalty;
    }
    after += r.write_penalty;
    r.workload_cost_after = after;
    r.improvement_pct = w0_ > 0 ? 100.0 * (w0_ - after) / w0_ : 0;

    if (!r.cancelled && !r.chosen.empty() && r.improvement_pct < 100.0 * options_.min_improvement) {
        r.declined = true;
        r.chosen.clear();
        r.total_size_bytes = 0;
        r.write_penalty = 0;
        r.workload_cost_after = w0_;
        r.improvement_pct = 0;
        for (auto &qc : r.queries) qc.cost_after = qc.cost_before;
    }
}

const SelectionResult &IndexSelector::result() const {
    if (phase_ != Phase::kDone) {
        throw std::logic_error(
            "IndexSelector::result() called before done(): keep answering next_requests()");
    }
    return result_;
}

SelectionResult IndexSelector::select_with(const Oracle &oracle) {
    while (!done()) {
        for (const auto &req : next_requests()) {
            double c = oracle(req.queryid, req.configuration);
            if (std::isnan(c) || c < 0) {
                provide_uncostable(req);
            } else {
                provide_cost(req, c);
            }
        }
    }
    return result_;
}

double write_penalty(const RelationStats &rel, const IndexDef &def, double predicate_selectivity,
                     double maintenance_cost_per_write, double window_seconds) {
    if (!(maintenance_cost_per_write >= 0) || !(window_seconds >= 0)) {
        throw std::invalid_argument("maintenance cost per write and window must be >= 0");
    }
    const double hot = std::clamp(rel.hot_update_fraction, 0.0, 1.0);
    const double writes = std::max(0.0, rel.inserts_per_sec) +
                          std::max(0.0, rel.updates_per_sec) * (1.0 - hot) +
                          std::max(0.0, rel.deletes_per_sec);
    double factor = 1.0;
    if (def.method == IndexMethod::kBrin) factor = 0.05;
    if (def.method == IndexMethod::kGin) factor = 3.0;
    if (!def.predicate.empty()) factor *= std::max(0.1, std::clamp(predicate_selectivity, 0.0, 1.0));
    return maintenance_cost_per_write * writes * window_seconds * factor;
}

SelectorInput make_selector_input(const Workload &workload, const std::vector<Candidate> &candidates,
                                  double maintenance_cost_per_write, double window_seconds) {
    SelectorInput in;
    for (const auto &q : workload.queries) {
        SelectorQuery sq;
        sq.queryid = q.queryid;
        sq.weight = q.weight;
        auto add = [&](uint32_t oid) {
            if (std::find(sq.relation_oids.begin(), sq.relation_oids.end(), oid) == sq.relation_oids.end()) {
                sq.relation_oids.push_back(oid);
            }
        };
        for (const auto &u : q.relations) add(u.relation_oid);
        for (const auto &p : workload.predicates) {
            if (p.queryid == q.queryid) add(p.relation_oid);
        }
        in.queries.push_back(std::move(sq));
    }
    for (const auto &c : candidates) {
        const RelationStats *rel = workload.find_relation(c.def.relation_oid);
        if (!rel) {
            throw std::invalid_argument("candidate " + std::to_string(c.id) + " is on relation " +
                                        std::to_string(c.def.relation_oid) +
                                        " that the workload has no stats for");
        }
        in.candidates.push_back(
            {c.id, c.def.relation_oid, c.est_size_bytes,
             write_penalty(*rel, c.def, c.predicate_selectivity, maintenance_cost_per_write, window_seconds),
             c.extends_existing_bytes});
    }
    return in;
}

}  // namespace rubberduck::core::index
