#include "core/index/index_health_rules.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "core/index/candidate_generator.h"

namespace rubberduck::core::index {

namespace {

bool enforces_something(const ExistingIndex &e) {
    return e.def.unique || e.primary || e.constraint;
}

// Leftovers of a failed REINDEX CONCURRENTLY are named <index>_ccnew[N] / <index>_ccold[N].
bool is_reindex_leftover(const std::string &name) {
    for (const char *suffix : {"_ccnew", "_ccold"}) {
        auto pos = name.rfind(suffix);
        if (pos == std::string::npos || pos == 0) continue;
        bool digits = std::all_of(name.begin() + static_cast<std::ptrdiff_t>(pos + 6), name.end(),
                                  [](unsigned char c) { return std::isdigit(c); });
        if (digits) return true;
    }
    return false;
}

std::string mb(int64_t bytes) {
    return std::to_string((bytes + 512 * 1024) / (1024 * 1024)) + " MB";
}

// Rank for keeping one of a set of duplicates: higher is kept.
bool keep_before(const ExistingIndex &a, const ExistingIndex &b) {
    auto rank = [](const ExistingIndex &e) {
        return (e.primary ? 8 : 0) + (e.constraint ? 4 : 0) + (e.def.unique ? 2 : 0);
    };
    if (rank(a) != rank(b)) return rank(a) > rank(b);
    if (a.scans != b.scans) return a.scans > b.scans;
    return a.def.name < b.def.name;
}

}  // namespace

RelationStats rows_now(const RelationStats &rel) {
    RelationStats now = rel;
    now.indexes.clear();
    if (rel.reltuples < 0 || !(rel.current_pages > 0)) return now;
    if (rel.relpages > 0)
        now.reltuples = std::floor(rel.reltuples / rel.relpages * rel.current_pages + 0.5);
    else
        now.reltuples = -1;  // rows were added to a table last seen empty: no density to scale, no estimate
    return now;
}

const char *to_string(HealthIssue issue) {
    switch (issue) {
        case HealthIssue::kUnused:
            return "unused";
        case HealthIssue::kDuplicate:
            return "duplicate";
        case HealthIssue::kRedundant:
            return "redundant";
        case HealthIssue::kInvalid:
            return "invalid";
        case HealthIssue::kBloated:
            return "bloated";
    }
    return "unused";
}

std::vector<HealthFinding> check_index_health(const std::vector<RelationStats> &relations,
                                              const HealthOptions &options) {
    if (!(options.bloat_factor > 1) || options.min_window_seconds < 0 || options.bloat_min_bytes < 0) {
        throw std::invalid_argument("health options: bloat_factor must be > 1, window and minimum size >= 0");
    }
    std::vector<HealthFinding> findings;
    for (const auto &rel : relations) {
        std::vector<ExistingIndex> idx = rel.indexes;
        for (auto &e : idx) {
            if (e.def.name.empty()) {
                throw std::invalid_argument("an existing index of " + rel.qualified_name() +
                                            " has no name: set ExistingIndex::def.name");
            }
            e.def.relation_oid = rel.oid;  // the prefix rule compares relations
        }
        std::vector<bool> reported(idx.size(), false);
        auto report = [&](size_t i, HealthIssue issue, const std::string &related, const std::string &detail,
                          const std::string &fix) {
            HealthFinding f;
            f.relation_oid = rel.oid;
            f.relation = rel.qualified_name();
            f.index = idx[i].def.name;
            f.issue = issue;
            f.size_bytes = idx[i].size_bytes;
            f.scans = idx[i].scans;
            f.related_index = related;
            f.detail = detail;
            f.fix_sql = fix;
            findings.push_back(std::move(f));
            reported[i] = true;
        };
        auto drop = [&](size_t i) { return drop_index_ddl(rel.schema, idx[i].def.name); };

        for (size_t i = 0; i < idx.size(); ++i) {
            if (idx[i].valid) continue;
            bool leftover = is_reindex_leftover(idx[i].def.name);
            report(i, HealthIssue::kInvalid, "",
                   leftover
                       ? "invalid leftover of an interrupted REINDEX CONCURRENTLY: it is maintained on every "
                         "write but never used"
                       : "invalid (an interrupted CREATE INDEX CONCURRENTLY?): maintained on every write but "
                         "never used by the planner",
                   leftover ? drop(i) : reindex_index_ddl(rel.schema, idx[i].def.name));
        }

        // Duplicates: same definition (name and uniqueness ignored: a unique index serves every lookup).
        std::map<std::string, std::vector<size_t>> groups;
        for (size_t i = 0; i < idx.size(); ++i) {
            if (!idx[i].valid) continue;
            IndexDef d = idx[i].def;
            d.name.clear();
            d.unique = false;
            groups[canonical_key(d)].push_back(i);
        }
        for (auto &g : groups) {
            auto &members = g.second;
            if (members.size() < 2) continue;
            std::sort(members.begin(), members.end(),
                      [&](size_t a, size_t b) { return keep_before(idx[a], idx[b]); });
            const size_t keep = members.front();
            for (size_t k = 1; k < members.size(); ++k) {
                size_t i = members[k];
                // A unique duplicate of a non-constraint unique index is still a duplicate; one that backs a
                // constraint has to be handled through the constraint.
                bool blocked = idx[i].primary || idx[i].constraint;
                report(
                    i, HealthIssue::kDuplicate, idx[keep].def.name,
                    "same definition as " + idx[keep].def.name +
                        (blocked ? "; it backs a constraint: drop or re-point the constraint instead" : ""),
                    blocked ? "" : drop(i));
            }
        }

        // Redundant: a prefix of another btree (prefix rule), when it enforces nothing itself.
        for (size_t i = 0; i < idx.size(); ++i) {
            if (reported[i] || idx[i].def.method != IndexMethod::kBtree || enforces_something(idx[i]))
                continue;
            for (size_t j = 0; j < idx.size(); ++j) {
                if (i == j || (reported[j] && idx[j].valid)) continue;
                if (!idx[j].valid || idx[j].def.method != IndexMethod::kBtree) continue;
                if (normalize_sql_text(idx[i].def.predicate) != normalize_sql_text(idx[j].def.predicate))
                    continue;
                if (!existing_index_serves(idx[j], idx[i].def)) continue;
                report(
                    i, HealthIssue::kRedundant, idx[j].def.name,
                    "its keys are a leading prefix of " + idx[j].def.name + ", which serves the same scans",
                    drop(i));
                break;
            }
        }

        // Unused over a long enough window.
        if (rel.stats_window_seconds >= options.min_window_seconds) {
            for (size_t i = 0; i < idx.size(); ++i) {
                if (reported[i] || enforces_something(idx[i]) || idx[i].scans > 0) continue;
                report(i, HealthIssue::kUnused, "",
                       "no scans in " +
                           std::to_string(static_cast<int64_t>(rel.stats_window_seconds / 3600)) +
                           " h of observation; it still costs " + mb(idx[i].size_bytes) +
                           " and work on every write",
                       drop(i));
            }
        }

        // Bloat: actual size against a fresh build.
        for (size_t i = 0; i < idx.size(); ++i) {
            const auto &e = idx[i];
            if (reported[i] || e.def.method != IndexMethod::kBtree || !e.def.predicate.empty()) continue;
            if (e.size_bytes < options.bloat_min_bytes) continue;
            SizeEstimate est;
            try {
                est = estimate_index_size(e.def, rows_now(rel), 1.0, options.size_options);
            } catch (const std::invalid_argument &) {
                continue;  // not analyzed yet: no reliable baseline
            }
            if (est.approximate || est.bytes <= 0) continue;
            double ratio = static_cast<double>(e.size_bytes) / static_cast<double>(est.bytes);
            if (ratio > options.bloat_factor) {
                char buf[32];
                std::snprintf(buf, sizeof(buf), "%.1f", ratio);
                report(i, HealthIssue::kBloated, "",
                       mb(e.size_bytes) + " against about " + mb(est.bytes) + " for a fresh build (" + buf +
                           "x)",
                       reindex_index_ddl(rel.schema, e.def.name));
            }
        }
    }
    return findings;
}

}  // namespace rubberduck::core::index
