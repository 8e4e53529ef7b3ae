// Directives of the indexing skill (rubberduck.indexing_*), defined when preloaded. Values are per process:
// the data_persistence agent re-reads them after each reload (R37).
#pragma once

namespace rubberduck::pg {

struct IndexDirectives {
    int max_indexes = 10;           // indexes the advisor may recommend / build
    int storage_budget_mb = -1;     // total size of recommended/built indexes; -1 = no budget
    double min_improvement = 0.05;  // fraction of the workload's cost the advised set must save
    int verify_window_s = 600;      // how long an autonomously built index is watched before kept/reverted
    char *maintenance_window = nullptr;  // '' = any time; 'HH:MM-HH:MM[, ...]' (server local time)
    int unused_window_s = 7 * 86400;  // scan counters must cover this long before an index is called unused
};

extern IndexDirectives index_directives;

void define_index_directives();

}  // namespace rubberduck::pg
