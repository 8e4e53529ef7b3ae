// Health of existing indexes, from their definitions, usage counters and table statistics.
//
//   invalid    pg_index.indisvalid = false (a failed CREATE/REINDEX CONCURRENTLY): leftovers named
//   *_ccnew/*_ccold
//              are dropped, anything else is rebuilt with REINDEX INDEX CONCURRENTLY.
//   duplicate  same definition as another index (name ignored); the one kept is the constraint/primary key,
//   then
//              the unique one, then the most scanned, then the first by name.
//   redundant  a non-unique btree whose keys are a leading prefix of another valid btree with the same
//   predicate
//              and whose INCLUDE columns that btree also carries (the prefix rule of the candidate
//              generator).
//   unused     no scans over an observation window of at least min_window_seconds; unique, primary-key and
//              constraint indexes are never reported (they enforce something).
//   bloated    btree at least bloat_min_bytes whose actual size exceeds bloat_factor × the size a fresh build
//              would have (index_size_estimator: the classic estimate from the table's row count and the
//              key columns' pg_stats widths, null fractions and distinct counts, exact to a few percent for a
//              fresh PostgreSQL 15 btree). The row count is the table's reltuples scaled to its current size
//              in pages (rows_now), so rows added since the last VACUUM/ANALYZE are not taken for bloat; a
//              table never vacuumed or analyzed (reltuples -1) or a key column without statistics gives no
//              estimate and no finding. Full indexes only, since a partial index's row share is unknown.
// One finding per index: invalid > duplicate > redundant > unused > bloated (a DROP makes REINDEX moot).
#pragma once
#include "core/common/no_postgres.h"

#include <cstdint>
#include <string>
#include <vector>

#include "core/index/index_model.h"
#include "core/index/index_size_estimator.h"

namespace rubberduck::core::index {

enum class HealthIssue { kUnused, kDuplicate, kRedundant, kInvalid, kBloated };

// "unused", "duplicate", "redundant", "invalid", "bloated" (the index_health.issue values).
const char *to_string(HealthIssue issue);

struct HealthOptions {
    double min_window_seconds =
        7 * 86400.0;  // scan counters must cover at least a week to call an index unused
    double bloat_factor = 2.0;
    int64_t bloat_min_bytes = 10 * 1024 * 1024;
    SizeEstimatorOptions size_options;
};

struct HealthFinding {
    uint32_t relation_oid = 0;
    std::string relation;  // quoted schema.table
    std::string index;     // index name, unquoted
    HealthIssue issue = HealthIssue::kUnused;
    int64_t size_bytes = 0;
    int64_t scans = 0;
    std::string related_index;  // the index that makes this one a duplicate/redundant
    std::string detail;         // human-readable reason
    std::string fix_sql;        // DROP INDEX CONCURRENTLY / REINDEX INDEX CONCURRENTLY; empty when it needs a
                                // constraint change instead
};

// rel (without its indexes) with reltuples scaled to current_pages (the planner's estimate_rel_size rule:
// density of the last VACUUM/ANALYZE × the heap's current size) when current_pages is known; -1 (unknown)
// when the table was last seen empty (relpages 0) but has pages now; unchanged otherwise.
RelationStats rows_now(const RelationStats &rel);

// Every index needs a name (ExistingIndex::def.name); throws std::invalid_argument otherwise.
std::vector<HealthFinding> check_index_health(const std::vector<RelationStats> &relations,
                                              const HealthOptions &options = {});

}  // namespace rubberduck::core::index
