// Size of an index as CREATE INDEX would build it in PostgreSQL 15 (8 kB pages), from table statistics only.
//
// btree (exact layout arithmetic, checked against pg_relation_size on PostgreSQL 15.20):
//   page usable space U = BLCKSZ - 24 (page header) - 16 (BTPageOpaqueData) = 8152
//   leaf tuple  T = MAXALIGN(IndexTupleData 8 [+4 null bitmap when the tuple has a NULL] + key and INCLUDE
//                   data, each attribute at its type alignment; short varlena (avg_width < 127) unaligned)
//   leaf item   = T + 4 (ItemIdData line pointer)
//   dedup (PG13+, non-unique, no INCLUDE, key types with equalimage): a key with r duplicate rows is stored
//   as
//                 posting tuples of at most 812 bytes (MAXALIGN_DOWN(BLCKSZ*10%) - 4, nbtsort.c), each
//                 MAXALIGN(T + 6 * heap TIDs)
//   leaf pages  built to fillfactor 90: a page takes items while its free space is >= BLCKSZ*10% = 819, and
//   holds
//               a high key (a truncated pivot, + 8 bytes heap TID when keys have duplicates):
//               items/page = floor((U - highkey - 819) / item) + 1
//   inner pages pivots carry key columns only, built to fillfactor 70 (free target 2457); levels are added
//   until
//               one root page remains; + 1 metapage.
//   Measured (1,000,000 rows): int4 2745 pages (22.5 MB) — estimate 2745; int8 2745 — 2745; varchar avg_width
//   20 4961 (40.6 MB) — 4961; int4 with 5 distinct values (dedup) 850 — 850; int4 INCLUDE int8 3848 — 3833.
// hash:  item 20 bytes (header + 4-byte hash code + line pointer), fill factor 75 → 307 tuples/bucket;
//        buckets = ntuples/307 rounded up to the next splitpoint phase (_hash_spareindex); + metapage +
//        bitmap page; NULLs are not indexed. Measured 1M int4: 4098 pages; 600k: 2050 (estimate 3586 / 2050).
// brin:  one summary tuple per 128 heap pages (2 values per key for minmax) + revmap (1360 ranges per page)
//        + metapage. Measured: 14286 heap pages → 3 pages.
// gin (gin_trgm_ops): rough — (characters + 2) trigrams per non-NULL row at ~2.8 bytes per compressed posting
//        entry (measured 61.9 MB for 1M rows of 20-character random strings; estimate 62 MB).
//        Natural-language text shares trigrams and compresses better, so this errs large.
#pragma once
#include "core/common/no_postgres.h"

#include <cstdint>

#include "core/index/index_model.h"

namespace rubberduck::core::index {

struct SizeEstimatorOptions {
    int block_size = 8192;
    int btree_leaf_fillfactor = 90;
    int hash_fillfactor = 75;
    int brin_pages_per_range = 128;
    double gin_bytes_per_entry = 2.8;
};

struct SizeEstimate {
    int64_t bytes = 0;
    int64_t pages = 0;
    int64_t leaf_pages = 0;    // btree leaf pages / hash bucket pages / brin regular pages / gin data pages
    int height = 0;            // btree: levels above the leaf level (0 = the root is a leaf); others 0-1
    double index_tuples = 0;   // rows indexed (after partial-index selectivity)
    bool approximate = false;  // a key column had no statistics; a fallback width of 8 bytes was used
};

// predicate_selectivity: fraction of rows a partial index keeps (1.0 for a full index), in (0, 1].
// Throws std::invalid_argument for negative reltuples (ANALYZE the table first), selectivity outside (0, 1],
// or an invalid definition (see create_index_ddl).
SizeEstimate estimate_index_size(const IndexDef &def, const RelationStats &rel,
                                 double predicate_selectivity = 1.0,
                                 const SizeEstimatorOptions &options = {});

// Number of distinct values of a column from pg_stats' n_distinct (negative = fraction of rows); unknown (0)
// is treated as all-distinct.
double distinct_values(const ColumnStats &column, double rows);

}  // namespace rubberduck::core::index
