#include "core/index/candidate_generator.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <stdexcept>

namespace rubberduck::core::index {

namespace {

constexpr double kDefaultRangeSelectivity = 0.3;  // PostgreSQL's DEFAULT_INEQ_SEL-like guess
constexpr double kDefaultEqSelectivity = 0.005;   // DEFAULT_EQ_SEL

std::string lower(std::string s) {
    for (auto &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool is_text_type(const ColumnStats *c) {
    if (!c) return true;  // unknown: the adapter only reports LIKE on string columns
    std::string t = lower(c->type_name);
    return t == "text" || t.rfind("character varying", 0) == 0 || t.rfind("varchar", 0) == 0 ||
           t.rfind("character", 0) == 0 || t.rfind("char", 0) == 0 || t == "citext" || t == "name";
}

bool is_varchar(const ColumnStats *c) {
    if (!c) return false;
    std::string t = lower(c->type_name);
    return t.rfind("character varying", 0) == 0 || t.rfind("varchar", 0) == 0;
}

std::string key_id(const IndexKey &k) {
    return (k.is_expression() ? "(" + normalize_sql_text(k.expression) + ")" : k.column) + " " + k.opclass;
}

enum class TermKind { kEq, kRange, kInfix };

struct Term {
    IndexKey key;
    TermKind kind;
    double selectivity;
    std::string partial_literal;  // rare constant of an equality on a plain column
    double partial_frequency = -1;
};

double column_eq_selectivity(const ColumnStats *c, double reltuples) {
    if (!c) return kDefaultEqSelectivity;
    return 1.0 / std::max(1.0, distinct_values(*c, reltuples));
}

// Working set of candidates while generating: dedup by canonical key, union of query ids.
class CandidateSet {
  public:
    void add(IndexDef def, int64_t queryid, double weight, double selectivity, const std::string &reason) {
        std::string key = canonical_key(def);
        auto it = index_.find(key);
        if (it != index_.end()) {
            Candidate &c = items_[it->second];
            if (std::find(c.queryids.begin(), c.queryids.end(), queryid) == c.queryids.end()) {
                c.queryids.push_back(queryid);
                c.weight += weight;
            }
            return;
        }
        Candidate c;
        c.def = std::move(def);
        c.queryids = {queryid};
        c.weight = weight;
        c.predicate_selectivity = selectivity;
        c.reason = reason;
        index_.emplace(key, items_.size());
        items_.push_back(std::move(c));
    }
    void add_candidate(Candidate c) {
        std::string key = canonical_key(c.def);
        auto it = index_.find(key);
        if (it != index_.end()) {
            Candidate &old = items_[it->second];
            for (auto q : c.queryids) {
                if (std::find(old.queryids.begin(), old.queryids.end(), q) == old.queryids.end()) {
                    old.queryids.push_back(q);
                }
            }
            return;
        }
        index_.emplace(key, items_.size());
        items_.push_back(std::move(c));
    }
    std::vector<Candidate> &items() { return items_; }

  private:
    std::map<std::string, size_t> index_;
    std::vector<Candidate> items_;
};

struct Context {
    const Workload &w;
    const CandidateOptions &o;
};

void append_unique(std::vector<IndexKey> &keys, const IndexKey &k) {
    for (const auto &e : keys) {
        if (key_id(e) == key_id(k)) return;
    }
    keys.push_back(k);
}

IndexDef make_def(const RelationStats &rel, IndexMethod m, std::vector<IndexKey> keys, size_t max_keys) {
    IndexDef d;
    d.relation_oid = rel.oid;
    d.schema = rel.schema;
    d.table = rel.name;
    d.method = m;
    if (keys.size() > max_keys) keys.resize(max_keys);
    d.keys = std::move(keys);
    return d;
}

// An ORDER BY that is entirely descending is served by a backward scan of an ascending index.
std::vector<IndexKey> order_keys(const std::vector<OrderKey> &order) {
    bool all_desc =
        !order.empty() && std::all_of(order.begin(), order.end(), [](auto &o) { return o.descending; });
    std::vector<IndexKey> keys;
    for (const auto &o : order) keys.push_back({o.column, "", "", all_desc ? false : o.descending});
    return keys;
}

std::vector<Term> collect_terms(const Context &ctx, const RelationStats &rel,
                                const std::vector<const PredicateObservation *> &preds) {
    std::vector<Term> terms;
    for (const PredicateObservation *p : preds) {
        if (p->columns.empty() && p->expression.empty()) {
            throw std::invalid_argument("predicate observation for query " + std::to_string(p->queryid) +
                                        " has neither columns nor an expression");
        }
        if (p->avg_selectivity > 1) {
            throw std::invalid_argument(
                "predicate avg_selectivity must be a fraction in [0, 1] or -1 (unknown)");
        }
        const std::string column = p->columns.empty() ? std::string() : p->columns.front();
        const ColumnStats *cs = column.empty() ? nullptr : rel.find_column(column);
        Term t;
        t.key.column = column;
        t.key.expression = p->expression;
        if (is_equality_op(p->op)) {
            t.kind = TermKind::kEq;
            t.selectivity = p->avg_selectivity >= 0               ? p->avg_selectivity
                            : p->op == PredicateOp::kIsNull && cs ? std::max(cs->null_frac, 1e-6)
                                                                  : column_eq_selectivity(cs, rel.reltuples);
            if (p->op == PredicateOp::kEq && p->expression.empty() && !p->constant_literal.empty()) {
                double freq = p->constant_frequency;
                if (freq < 0 && cs) {
                    for (const auto &mcv : cs->most_common_vals) {
                        if (mcv.literal == p->constant_literal) freq = mcv.frequency;
                    }
                }
                // Skewed: the value is rare next to the column's other values (a status column's 'queued'),
                // not just one of many equally common ones (a kind or tenant column, whose queries usually
                // vary the constant: the exemplar is one execution, and a full index serves them all).
                const double average = cs ? 1.0 / std::max(1.0, distinct_values(*cs, rel.reltuples)) : 1.0;
                if (freq > 0 && freq <= ctx.o.partial_max_frequency &&
                    freq <= ctx.o.partial_max_skew * average) {
                    t.partial_literal = p->constant_literal;
                    t.partial_frequency = freq;
                }
            }
        } else if (is_range_op(p->op)) {
            t.kind = TermKind::kRange;
            t.selectivity = p->avg_selectivity >= 0 ? p->avg_selectivity : kDefaultRangeSelectivity;
            if (p->op == PredicateOp::kLikePrefix) {
                if (p->expression.empty() && !is_text_type(cs)) continue;
                // Non-C collations need a pattern opclass for LIKE 'abc%' to use a btree.
                if (!(cs && cs->c_collation))
                    t.key.opclass = is_varchar(cs) ? "varchar_pattern_ops" : "text_pattern_ops";
            }
        } else {  // LIKE infix / ILIKE
            if (!ctx.o.trigram_available) continue;
            if (p->expression.empty() && !is_text_type(cs)) continue;
            t.kind = TermKind::kInfix;
            t.selectivity = p->avg_selectivity >= 0 ? p->avg_selectivity : kDefaultRangeSelectivity;
            t.key.opclass = "gin_trgm_ops";
        }
        // One term per key: keep the most useful classification (equality beats range) and best selectivity.
        bool merged = false;
        for (auto &e : terms) {
            if (key_id(e.key) == key_id(t.key) && e.kind == t.kind) {
                e.selectivity = std::min(e.selectivity, t.selectivity);
                if (e.partial_literal.empty() && !t.partial_literal.empty()) {
                    e.partial_literal = t.partial_literal;
                    e.partial_frequency = t.partial_frequency;
                }
                merged = true;
            }
        }
        if (!merged) terms.push_back(t);
    }
    // Drop range terms on a column that also has an equality.
    std::vector<Term> out;
    for (const auto &t : terms) {
        bool shadowed =
            t.kind == TermKind::kRange && std::any_of(terms.begin(), terms.end(), [&](const Term &e) {
                return e.kind == TermKind::kEq && e.key.column == t.key.column &&
                       e.key.expression == t.key.expression;
            });
        if (!shadowed) out.push_back(t);
    }
    return out;
}

void generate_for(const Context &ctx, const QueryProfile &q, const RelationStats &rel,
                  const QueryRelationUse &use, const std::vector<const PredicateObservation *> &preds,
                  CandidateSet &out, std::vector<std::string> &query_order) {
    const size_t max_keys = ctx.o.max_key_columns;
    std::vector<Term> terms = collect_terms(ctx, rel, preds);

    std::vector<Term> eq, range, infix;
    for (const auto &t : terms) {
        (t.kind == TermKind::kEq ? eq : t.kind == TermKind::kRange ? range : infix).push_back(t);
    }
    std::stable_sort(eq.begin(), eq.end(),
                     [](const Term &a, const Term &b) { return a.selectivity < b.selectivity; });
    std::stable_sort(range.begin(), range.end(),
                     [](const Term &a, const Term &b) { return a.selectivity < b.selectivity; });

    // Rows the query's predicates keep (the equality columns and the most selective range).
    double matched_rows = std::max(0.0, rel.reltuples);
    for (const auto &t : eq) matched_rows *= std::clamp(t.selectivity, 0.0, 1.0);
    if (!range.empty()) matched_rows *= std::clamp(range.front().selectivity, 0.0, 1.0);

    // The rarest equality constant, if rare enough, becomes a partial-index predicate.
    const Term *skew = nullptr;
    for (const auto &t : eq) {
        if (!t.partial_literal.empty() && (!skew || t.partial_frequency < skew->partial_frequency)) skew = &t;
    }

    struct Variant {
        std::vector<IndexKey> keys;
        std::string reason;
    };
    CandidateSet local;
    auto emit = [&](IndexDef def, double sel, const std::string &reason) {
        if (def.keys.empty()) return;
        def.name = suggested_index_name(def);
        local.add(std::move(def), q.queryid, q.weight, sel, reason);
    };

    // Builds the btree variants for a given equality prefix; `partial` carries the skewed predicate.
    auto btree_variants = [&](const std::vector<IndexKey> &eq_keys, const std::string &predicate, double sel,
                              const std::string &tag) {
        std::vector<Variant> variants;
        {
            Variant v{eq_keys, "equality columns" + std::string(range.empty() ? "" : " then range column")};
            if (!range.empty()) append_unique(v.keys, range.front().key);
            // A partial index with nothing else to key on is keyed on its own predicate column.
            if (v.keys.empty() && skew && !predicate.empty()) v.keys.push_back(skew->key);
            variants.push_back(v);
        }
        if (!use.order_by.empty()) {
            Variant v{eq_keys, use.has_limit ? "equality columns then ORDER BY keys (LIMIT stops early)"
                                             : "equality columns then ORDER BY keys"};
            for (const auto &k : order_keys(use.order_by)) append_unique(v.keys, k);
            variants.push_back(v);
        }
        if (!use.group_by.empty()) {
            Variant v{eq_keys, "equality columns then GROUP BY keys"};
            for (const auto &g : use.group_by) append_unique(v.keys, {g, "", "", false});
            if (!range.empty()) append_unique(v.keys, range.front().key);
            variants.push_back(v);
        }
        for (const auto &j : use.join_columns) {
            Variant v{eq_keys, "equality columns then join column " + j};
            append_unique(v.keys, {j, "", "", false});
            variants.push_back(v);
        }
        for (auto &v : variants) {
            if (v.keys.empty()) continue;
            IndexDef d = make_def(rel, IndexMethod::kBtree, v.keys, max_keys);
            d.predicate = predicate;
            // Covering: the columns the query still reads, when few, go to INCLUDE.
            std::set<std::string> in_key;
            for (const auto &k : d.keys) {
                if (!k.is_expression()) in_key.insert(k.column);
            }
            std::vector<std::string> missing;
            for (const auto &c : use.selected_columns) {
                if (in_key.count(c) || (skew && !predicate.empty() && c == skew->key.column)) continue;
                if (std::find(missing.begin(), missing.end(), c) == missing.end()) missing.push_back(c);
            }
            emit(d, sel, v.reason + tag);
            // A lookup that fetches few rows (few match, or a LIMIT stops it) saves too few heap fetches with
            // an index-only scan to pay for a wider index (or for a second, wider copy of an existing one).
            const bool few_fetches = matched_rows < ctx.o.covering_min_rows || use.has_limit;
            if (!few_fetches && !missing.empty() && missing.size() <= ctx.o.max_include_columns) {
                IndexDef cov = d;
                cov.include = missing;
                emit(cov, sel, v.reason + tag + ", covering (index-only scan)");
            }
        }
    };

    // Orthogonal access methods first, so the per-query bound never cuts them in favour of btree variants.
    for (const auto &t : infix) {
        emit(make_def(rel, IndexMethod::kGin, {t.key}, max_keys), 1.0,
             "trigram index for LIKE/ILIKE '%...%'");
    }

    const double churn = rel.updates_per_sec + rel.deletes_per_sec;
    const bool append_mostly = churn <= ctx.o.brin_max_churn * std::max(rel.inserts_per_sec, 0.0) ||
                               (churn == 0 && rel.inserts_per_sec == 0);
    if (rel.relpages >= ctx.o.brin_min_pages && append_mostly) {
        for (const auto &t : range) {
            if (t.key.is_expression() || !t.key.opclass.empty()) continue;
            const ColumnStats *cs = rel.find_column(t.key.column);
            if (cs && std::abs(cs->correlation) >= ctx.o.brin_min_correlation) {
                emit(make_def(rel, IndexMethod::kBrin, {t.key}, max_keys), 1.0,
                     "brin for a range on a correlated column of a large append-mostly table");
            }
        }
    }

    std::vector<IndexKey> eq_keys;
    for (const auto &t : eq) eq_keys.push_back(t.key);
    if (skew) {
        std::vector<IndexKey> rest;
        for (const auto &t : eq) {
            if (&t != skew) rest.push_back(t.key);
        }
        std::string pred = quote_ident(skew->key.column) + " = " + skew->partial_literal;
        btree_variants(rest, pred, skew->partial_frequency,
                       ", partial for the rare value " + skew->partial_literal);
    }
    btree_variants(eq_keys, "", 1.0, "");

    // Single-column candidates (the selector may find one shared column index beats several composites).
    for (const auto &t : eq)
        emit(make_def(rel, IndexMethod::kBtree, {t.key}, max_keys), 1.0, "single column");
    for (const auto &t : range)
        emit(make_def(rel, IndexMethod::kBtree, {t.key}, max_keys), 1.0, "single column");

    auto &items = local.items();
    if (items.size() > ctx.o.max_per_query) items.resize(ctx.o.max_per_query);
    for (auto &c : items) {
        query_order.push_back(canonical_key(c.def));
        out.add_candidate(std::move(c));
    }
}

bool same_key(const IndexKey &a, const IndexKey &b, bool flip) {
    if (a.is_expression() != b.is_expression()) return false;
    if (a.is_expression() ? normalize_sql_text(a.expression) != normalize_sql_text(b.expression)
                          : a.column != b.column) {
        return false;
    }
    return a.opclass == b.opclass && (a.descending != flip) == b.descending;
}

// Merge btree candidates of one relation that share their leading key (AutoAdmin index merging).
void merge_candidates(const Context &ctx, CandidateSet &set) {
    std::vector<Candidate> merged;
    auto &items = set.items();
    for (size_t i = 0; i < items.size(); ++i) {
        for (size_t j = i + 1; j < items.size(); ++j) {
            const IndexDef &a = items[i].def;
            const IndexDef &b = items[j].def;
            if (a.method != IndexMethod::kBtree || b.method != IndexMethod::kBtree) continue;
            if (a.relation_oid != b.relation_oid || a.predicate != b.predicate) continue;
            if (!same_key(a.keys.front(), b.keys.front(), false)) continue;
            bool same_queries =
                a.include.empty() && b.include.empty() && items[i].queryids == items[j].queryids;
            if (same_queries) continue;  // variants of one query: nothing shared to gain
            IndexDef m = a;
            for (const auto &k : b.keys) append_unique(m.keys, k);
            if (m.keys.size() > ctx.o.max_key_columns) continue;
            std::set<std::string> keycols;  // an expression key does not make its column readable
            for (const auto &k : m.keys) {
                if (!k.is_expression()) keycols.insert(k.column);
            }
            std::vector<std::string> inc;
            for (const auto *src : {&a.include, &b.include}) {
                for (const auto &c : *src) {
                    if (!keycols.count(c) && std::find(inc.begin(), inc.end(), c) == inc.end())
                        inc.push_back(c);
                }
            }
            if (inc.size() > ctx.o.max_include_columns) continue;
            m.include = inc;
            if (canonical_key(m) == canonical_key(a) || canonical_key(m) == canonical_key(b)) continue;
            m.name = suggested_index_name(m);
            Candidate c;
            c.def = m;
            c.queryids = items[i].queryids;
            for (auto q : items[j].queryids) {
                if (std::find(c.queryids.begin(), c.queryids.end(), q) == c.queryids.end())
                    c.queryids.push_back(q);
            }
            c.predicate_selectivity = items[i].predicate_selectivity;
            c.weight = items[i].weight + items[j].weight;
            c.reason = "merged for several queries";
            merged.push_back(std::move(c));
        }
    }
    std::stable_sort(merged.begin(), merged.end(),
                     [](const Candidate &x, const Candidate &y) { return x.weight > y.weight; });
    if (merged.size() > ctx.o.max_merged) merged.resize(ctx.o.max_merged);
    for (auto &c : merged) set.add_candidate(std::move(c));
}

}  // namespace

bool existing_index_serves(const ExistingIndex &existing, const IndexDef &candidate) {
    const IndexDef &e = existing.def;
    if (!existing.valid) return false;
    if (e.relation_oid != candidate.relation_oid || e.method != candidate.method) return false;
    if (candidate.method != IndexMethod::kBtree) {
        IndexDef a = e, b = candidate;
        a.name.clear();
        b.name.clear();
        a.unique = b.unique = false;
        return canonical_key(a) == canonical_key(b);
    }
    if (!e.predicate.empty() && normalize_sql_text(e.predicate) != normalize_sql_text(candidate.predicate)) {
        return false;
    }
    if (candidate.keys.size() > e.keys.size()) return false;
    for (bool flip : {false, true}) {
        bool prefix = true;
        for (size_t i = 0; i < candidate.keys.size() && prefix; ++i) {
            prefix = same_key(candidate.keys[i], e.keys[i], flip);
        }
        if (!prefix) continue;
        std::set<std::string> available(e.include.begin(), e.include.end());
        for (const auto &k : e.keys) {
            if (!k.is_expression()) available.insert(k.column);
        }
        bool covered = std::all_of(candidate.include.begin(), candidate.include.end(),
                                   [&](const std::string &c) { return available.count(c) > 0; });
        if (covered) return true;
    }
    return false;
}

std::vector<Candidate> generate_candidates(const Workload &workload, const CandidateOptions &options) {
    if (options.max_key_columns < 1 || options.max_key_columns > 32) {
        throw std::invalid_argument("max_key_columns must be between 1 and 32");
    }
    if (!(options.partial_max_frequency >= 0 && options.partial_max_frequency <= 1)) {
        throw std::invalid_argument("partial_max_frequency must be a fraction in [0, 1]");
    }
    Context ctx{workload, options};
    CandidateSet set;
    // Per query, its candidates in generation order (the most specific shapes first).
    std::map<int64_t, std::vector<std::string>> query_order;

    for (const auto &q : workload.queries) {
        if (!(q.weight >= 0)) {
            throw std::invalid_argument("query " + std::to_string(q.queryid) + " has a negative weight");
        }
        // Relations this query touches: its per-relation uses plus any relation it has predicates on.
        std::vector<QueryRelationUse> uses = q.relations;
        std::map<uint32_t, std::vector<const PredicateObservation *>> preds;
        for (const auto &p : workload.predicates) {
            if (p.queryid != q.queryid) continue;
            preds[p.relation_oid].push_back(&p);
            bool known = std::any_of(uses.begin(), uses.end(),
                                     [&](auto &u) { return u.relation_oid == p.relation_oid; });
            if (!known) {
                QueryRelationUse u;
                u.relation_oid = p.relation_oid;
                uses.push_back(u);
            }
        }
        for (const auto &use : uses) {
            const RelationStats *rel = workload.find_relation(use.relation_oid);
            if (!rel) continue;  // no statistics: cannot size or judge
            generate_for(ctx, q, *rel, use, preds[use.relation_oid], set, query_order[q.queryid]);
        }
    }
    merge_candidates(ctx, set);

    std::vector<Candidate> result;
    for (auto &c : set.items()) {
        const RelationStats *rel = workload.find_relation(c.def.relation_oid);
        bool served = std::any_of(rel->indexes.begin(), rel->indexes.end(),
                                  [&](const ExistingIndex &e) { return existing_index_serves(e, c.def); });
        if (served) continue;
        std::sort(c.queryids.begin(), c.queryids.end());
        c.weight = 0;
        for (const auto &q : workload.queries) {
            if (std::binary_search(c.queryids.begin(), c.queryids.end(), q.queryid)) c.weight += q.weight;
        }
        c.est_size_bytes =
            estimate_index_size(c.def, *rel, c.predicate_selectivity, options.size_options).bytes;
        // A wider version of an existing btree (its keys a strict prefix of these, same predicate).
        for (const ExistingIndex &e : rel->indexes) {
            if (!e.valid || e.def.method != IndexMethod::kBtree || c.def.method != IndexMethod::kBtree)
                continue;
            if (normalize_sql_text(e.def.predicate) != normalize_sql_text(c.def.predicate)) continue;
            if (e.def.keys.empty() || e.def.keys.size() >= c.def.keys.size()) continue;
            bool prefix = true;
            for (size_t k = 0; k < e.def.keys.size() && prefix; ++k)
                prefix = same_key(e.def.keys[k], c.def.keys[k], false);
            if (prefix)
                c.extends_existing_bytes =
                    std::max(c.extends_existing_bytes, std::max<int64_t>(e.size_bytes, 1));
        }
        result.push_back(std::move(c));
    }
    // Rank by the workload weight they target; prefer smaller indexes on ties. Stable keeps generation order.
    std::stable_sort(result.begin(), result.end(), [](const Candidate &a, const Candidate &b) {
        if (a.weight != b.weight) return a.weight > b.weight;
        return a.est_size_bytes < b.est_size_bytes;
    });
    if (result.size() > options.max_candidates) {
        // Every query keeps its first min_per_query candidates (heaviest queries first), so that light
        // queries are not left without any; the rest of the budget goes by weight.
        std::map<std::string, size_t> position;
        for (size_t i = 0; i < result.size(); ++i) position.emplace(canonical_key(result[i].def), i);
        std::vector<bool> keep(result.size(), false);
        size_t kept = 0;
        std::vector<const QueryProfile *> by_weight;
        for (const auto &q : workload.queries) by_weight.push_back(&q);
        std::stable_sort(by_weight.begin(), by_weight.end(),
                         [](const QueryProfile *a, const QueryProfile *b) { return a->weight > b->weight; });
        for (const QueryProfile *q : by_weight) {
            size_t taken = 0;
            for (const auto &key : query_order[q->queryid]) {
                if (taken >= options.min_per_query || kept >= options.max_candidates) break;
                auto it = position.find(key);
                if (it == position.end()) continue;  // served by an existing index
                if (!keep[it->second]) {
                    keep[it->second] = true;
                    ++kept;
                }
                ++taken;
            }
        }
        for (size_t i = 0; i < result.size() && kept < options.max_candidates; ++i) {
            if (!keep[i]) {
                keep[i] = true;
                ++kept;
            }
        }
        std::vector<Candidate> bounded;
        for (size_t i = 0; i < result.size(); ++i) {
            if (keep[i]) bounded.push_back(std::move(result[i]));
        }
        result = std::move(bounded);
    }
    // Names must not collide with each other or with existing indexes (same schema in practice).
    std::set<std::string> taken;
    for (const auto &rel : workload.relations) {
        for (const auto &e : rel.indexes) taken.insert(e.def.name);
    }
    for (size_t i = 0; i < result.size(); ++i) {
        result[i].id = static_cast<int>(i);
        if (taken.count(result[i].def.name)) result[i].def.name = suggested_index_name(result[i].def, true);
        taken.insert(result[i].def.name);
    }
    return result;
}

}  // namespace rubberduck::core::index
