#include "pg/guc/query_directives.hpp"

#include "pg/postgres.hpp"

namespace rubberduck::pg {

QueryDirectives query_directives;

void define_query_directives() {
    DefineCustomRealVariable("rubberduck.slow_query_ms",
                             "A statement whose p95 execution time exceeds this is flagged slow.", nullptr,
                             &query_directives.slow_query_ms, 1000.0, 0.0, 86400000.0, PGC_SIGHUP, 0, nullptr,
                             nullptr, nullptr);
    DefineCustomIntVariable("rubberduck.slow_query_top_n",
                            "The N statements with the most total execution time are flagged slow too.",
                            "0 turns the top-N rule off.", &query_directives.slow_query_top_n, 10, 0, 10000,
                            PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "rubberduck.n_plus_one_threshold",
        "Executions of one statement by one backend in one transaction or burst that make "
        "an N+1 pattern.",
        nullptr, &query_directives.n_plus_one_threshold, 10, 2, 1000000, PGC_SIGHUP, 0, nullptr, nullptr,
        nullptr);
    DefineCustomRealVariable("rubberduck.regression_alpha",
                             "Significance level of the plan regression test (one-sided Welch t-test).",
                             nullptr, &query_directives.regression_alpha, 0.01, 1e-9, 0.5, PGC_SIGHUP, 0,
                             nullptr, nullptr, nullptr);
}

}  // namespace rubberduck::pg
