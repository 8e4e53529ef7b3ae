// Raw parse trees -> core StatementDescription (adapter internals shared by analyze.cpp and the utility
// guard). Regimes (cpp-in-postgres.md R9/R11): raw_parse_migration and resolve_probes are PG regime (they may
// ereport); describe_raw_statement is C++ regime (it only reads node fields, never calls a PostgreSQL
// function that can raise, and may throw), run it under cpp_guard.
#pragma once

#include <string>
#include <vector>

#include "core/migration/statement_model.h"
#include "pg/postgres.hpp"

extern "C" {
#include "nodes/parsenodes.h"
}

namespace rubberduck::pg::migration {

// A default expression whose volatility needs the catalog (pg_proc.provolatile of each function it calls).
struct VolatilityProbe {
    size_t stmt = 0;
    enum Target { CreateColumn, AddColumn, SetDefault } target = AddColumn;
    size_t sub = 0;        // column index (CreateColumn) or command index (AddColumn, SetDefault)
    Node *expr = nullptr;  // the raw expression (palloc'd parse tree)
};

// A subtree whose relations (RangeVar, minus CTE names) are the tables a statement reads.
struct RelationProbe {
    size_t stmt = 0;
    Node *tree = nullptr;
};

struct ParsedMigration {
    std::vector<core::migration::StatementDescription> statements;
    std::vector<VolatilityProbe> volatility;
    std::vector<RelationProbe> reads;
};

// PG regime. raw_parser() over the whole input; rejects psql meta-commands and empty input; a syntax error
// is re-raised with the position inside `sql` (internal query) and the failing statement in the DETAIL.
List *raw_parse_migration(const char *sql);

// C++ regime. Appends one StatementDescription for `stmt` (a raw or utility parse tree) whose text is
// sql[location, location+len) (len <= 0: to the end).
void describe_raw_statement(const std::string &sql, Node *stmt, int location, int len, ParsedMigration &out);

// PG regime. Fills default_volatile (pg_proc lookups; unknown functions count as volatile) and the relations
// read by SELECT/INSERT/UPDATE/DELETE/CREATE VIEW. Needs a transaction; uses SPI (connects itself).
void resolve_probes(ParsedMigration &parsed);

}  // namespace rubberduck::pg::migration
