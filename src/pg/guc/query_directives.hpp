// Directives of the query_optimization skill (issue #3).
#pragma once

namespace rubberduck::pg {

struct QueryDirectives {
    double slow_query_ms = 1000.0;
    int slow_query_top_n = 10;
    int n_plus_one_threshold = 10;
    double regression_alpha = 0.01;
};

extern QueryDirectives query_directives;

void define_query_directives();  // from register_query_optimizer (after define_directives)

}  // namespace rubberduck::pg
