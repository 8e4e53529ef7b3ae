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
// gin (gin_trgm_ops), from the layout in PostgreSQL 15 src/backend/access/gin (ginbuild, ginentrypage.c,
//        gindatapage.c, ginpostinglist.c): one entry per distinct trigram (key); its heap TIDs are stored as
//        varbyte-encoded deltas of (block << 11 | offset) — inline in the entry tuple when that tuple fits
//        GinMaxItemSize (2712 bytes), else as a posting tree of whole 8 kB leaf pages (packed full during the
//        build). So the size depends on how many keys there are and how many rows each key has, not only on
//        the total of trigrams. Those come from the column's sample in pg_statistic (MCV list and histogram
//        bounds, SizeEstimatorOptions::column_samples): the trigrams of each sample value (pg_trgm's rules:
//        lower-cased alphanumeric words padded "  w "); per population (word-start, word-edge, interior
//        trigrams — a word has one start but many interior trigrams) the keys the sample missed are the Chao1
//        estimate f1²/(2·f2), capped by what the sample alphabet A can form (2A, 2A², A³), and each key's row
//        count is the empirical Bayes mean of its sample count r, (r + α)/(1 + α/μ), with a gamma prior
//        fitted by moments (random codes shrink to the mean, skewed word trigrams keep their counts); MCV
//        weights are added as they are, and all keys are scaled to hold rows × trigrams-per-value TIDs. A key
//        of n rows over a heap of R rows at r rows per page has TID gaps of mean R/n rows (exponential),
//        hence expected delta bytes 1 + E[min(1, G/r)] + P(G > 8r) + P(G > 1024r) (+ 8 bytes per ~256-byte
//        posting segment). Rows per key are spread (Poisson + 10 % estimate error, 5-point Gauss–Hermite) so
//        the inline/tree threshold is smooth. Entry pages are counted at 75 % fill (measured 75 % on 200 000
//        md5 rows). Measured estimate/real (size_check.sh, 1M rows): md5 0.99, emails 1.11, English-like
//        words 0.99, 12-char ACGT codes 0.96; 200 000 rows: 0.87, 1.08, 0.95, 0.97. Without sample values (no
//        ANALYZE, non-text column) the old rough rule remains: (characters + 2) trigrams per row at
//        gin_bytes_per_entry (2.8) bytes, flagged approximate. Not modelled: several accumulator flushes when
//        the trigram TIDs exceed maintenance_work_mem (they leave entry pages emptier: 200 000 md5 rows
//        are 37.3 MB at 64MB, 28.5 MB at 256MB); the index advisor's candidate sizing (candidate_generator,
//        no samples) still uses the rough rule.
#pragma once
#include "core/common/no_postgres.h"

#include <cstdint>
#include <string>
#include <vector>

#include "core/index/index_model.h"

namespace rubberduck::core::index {

struct SizeEstimatorOptions {
    int block_size = 8192;
    int btree_leaf_fillfactor = 90;
    int hash_fillfactor = 75;
    int brin_pages_per_range = 128;
    double gin_bytes_per_entry = 2.8;  // non-trigram GIN, and trigram GIN without sample values
    // Sample values of text columns for the trigram GIN model, keyed by column name (ColumnStats::name).
    struct SampleValue {
        std::string text;
        double weight = 0;    // fraction of the table's rows this value stands for
        bool common = false;  // from the MCV list (not a histogram bound)
    };
    struct ColumnSample {
        std::string column;
        uint32_t relation_oid =
            0;  // 0: any relation (one-table callers); else only RelationStats::oid's column
        std::vector<SampleValue> values;
    };
    std::vector<ColumnSample> column_samples;
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

// Distinct trigrams pg_trgm extracts from one value (ASCII case-folded; bytes >= 0x80 count as word
// characters, each UTF-8 character one unit), as 3-character strings with blanks for the padding.
std::vector<std::string> trigrams_of(const std::string &value);

}  // namespace rubberduck::core::index
