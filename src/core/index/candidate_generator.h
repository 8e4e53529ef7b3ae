// Index candidates from an observed workload (what-if inputs for the selector).
//
// Per query and relation, from its predicates, ORDER BY/LIMIT, GROUP BY, joins and read columns:
//   * composite btree: equality columns (most selective first), then one range column;
//   * sort btree: equality columns, then the ORDER BY keys (an index scan can stop after LIMIT rows);
//   * group btree: equality columns, then the GROUP BY keys (+ the range column);
//   * join btree: equality columns, then each join column (inner side of a nested loop);
//   * covering variants with INCLUDE (the columns the query still reads) when few enough remain for an
//     index-only scan, and the query fetches enough rows for that to pay (not a point lookup, no LIMIT);
//   * partial variants WHERE col = '<rare value>' when an equality constant is rare, and rare next to the
//     column's other values (a skewed status: queue polls), not one of many equally common values;
//   * expression keys for function predicates (lower(email) = $1);
//   * gin (col gin_trgm_ops) for LIKE '%x%' / ILIKE;
//   * brin for range predicates on well-correlated columns of large append-mostly tables;
//   * single-column candidates, and merged candidates shared by several queries.
// Candidates an existing valid index already serves (prefix rule) are skipped; the list is bounded (each
// query keeps its first few candidates, the rest goes by weight) and ranked by the weight of the queries each
// candidate was generated for.
#pragma once
#include "core/common/no_postgres.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/index/index_model.h"
#include "core/index/index_size_estimator.h"

namespace rubberduck::core::index {

struct CandidateOptions {
    size_t max_candidates = 60;  // overall bound (what-if planning is the expensive part)
    size_t max_per_query = 12;   // per query, before merging
    size_t min_per_query = 3;    // within max_candidates, each query keeps its first this many candidates
    size_t max_key_columns = 4;
    size_t max_include_columns = 4;  // covering variant only when at most this many columns are missing
    double partial_max_frequency =
        0.2;  // an equality constant this rare (fraction of rows) earns a partial index
    double partial_max_skew =
        0.5;  // ... when also at most this fraction of the column's average value frequency
    double covering_min_rows =
        20;  // no INCLUDE variant for lookups expected to fetch fewer rows (or LIMITed)
    double brin_min_pages = 10000;      // ~80 MB heap
    double brin_min_correlation = 0.9;  // |pg_stats.correlation|
    double brin_max_churn = 0.1;        // (updates + deletes) / inserts at most this for "append-mostly"
    bool trigram_available = true;      // pg_trgm installed (adapter checks pg_extension)
    size_t max_merged = 20;
    SizeEstimatorOptions size_options;
};

struct Candidate {
    int id = 0;  // index into the returned vector; the selector refers to candidates by this id
    IndexDef def;
    std::vector<int64_t> queryids;     // queries it was generated for (sorted, unique)
    double predicate_selectivity = 1;  // rows kept by a partial index
    int64_t est_size_bytes = 0;
    double weight = 0;   // total weight of `queryids`
    std::string reason;  // why it was generated, for index_advice
    int64_t extends_existing_bytes =
        0;  // size of an existing index whose keys are a prefix of these (0: none)
};

// Throws std::invalid_argument for malformed observations (no column, negative weight, unknown op text ...).
std::vector<Candidate> generate_candidates(const Workload &workload, const CandidateOptions &options = {});

// Prefix rule: `existing` (valid) serves `candidate` when both are btree, the candidate's keys are a leading
// prefix of the existing keys (same column/expression, opclass and direction — or all directions reversed),
// its INCLUDE columns are among the existing keys/INCLUDE, and the existing index is full or has the same
// predicate. Other methods: same definition.
bool existing_index_serves(const ExistingIndex &existing, const IndexDef &candidate);

}  // namespace rubberduck::core::index
