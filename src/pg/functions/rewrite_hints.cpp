// rubberduck.rewrite_hints(query text) -> TABLE(rule, message, suggested_sql): rewrite hints for one
// statement, from its parse and analysis trees (src/pg/query/rewrite_shape.cpp) and the core rules
// (src/core/query/rewrite_rules.h). The statement is parsed and analysed, never planned or executed.
#include <vector>

#include "core/query/rewrite_rules.h"
#include "pg/boundary/cpp_guard.hpp"
#include "pg/functions/srf.hpp"
#include "pg/query/rewrite_shape.hpp"

using namespace rubberduck::pg;
namespace cq = rubberduck::core::query;

extern "C" {
PG_FUNCTION_INFO_V1(rubberduck_rewrite_hints);
}

namespace {

// The hints live in a C++ vector owned by the call's memory context (R17): deleted when the context goes,
// also when building the rows raises an ERROR.
void delete_hints(void *arg) {
    delete static_cast<std::vector<cq::RewriteHint> *>(arg);
}

}  // namespace

extern "C" Datum rubberduck_rewrite_hints(PG_FUNCTION_ARGS) {
    SrfRows srf = begin_srf(fcinfo);
    char *query = text_to_cstring(PG_GETARG_TEXT_PP(0));
    // PG regime: parse + analyse; syntax errors (42601, with the position in the query text), empty text and
    // several statements (22023) and analysis errors (42P01, 42703, ...) are raised here.
    RewriteInput *input = gather_rewrite_input(query, nullptr);
    auto *cb = static_cast<MemoryContextCallback *>(palloc0(sizeof(MemoryContextCallback)));
    // C++ regime: the rules.
    std::vector<cq::RewriteHint> *hints =
        cpp_guard([&] { return new std::vector<cq::RewriteHint>(hints_from_input(*input)); });
    cb->func = delete_hints;
    cb->arg = hints;
    MemoryContextRegisterResetCallback(CurrentMemoryContext, cb);
    // PG regime: rows.
    for (const cq::RewriteHint &h : *hints) {
        Datum values[3];
        bool nulls[3] = {false, false, false};
        values[0] = text_datum(h.rule.c_str());
        values[1] = text_datum(h.message.c_str());
        text_or_null(h.suggested_sql.c_str(), values[2], nulls[2]);
        put_row(srf, values, nulls);
    }
    return (Datum)0;
}
