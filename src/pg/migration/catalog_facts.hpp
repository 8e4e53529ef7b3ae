// Live-catalog facts for the relations a migration names (read-only: SPI over pg_catalog, no relation
// locks taken on user tables, so the analysis never waits behind a running migration).
#pragma once

#include <vector>

#include "core/migration/migration_analyzer.h"
#include "core/migration/statement_model.h"

namespace rubberduck::pg::migration {

// PG regime; needs a transaction and a snapshot. Connects to SPI itself (nesting is fine).
// Sizes: pg_class.reltuples/relpages as of the last VACUUM/ANALYZE (reltuples -1 -> the statistics
// collector's live-row count when it has one, else -1, which the core estimates from bytes).
void read_catalog_facts(const std::vector<core::migration::StatementDescription> &statements,
                        core::migration::CatalogFacts &facts);

// PG regime. Throughput: directive > calibrated figure (rubberduck.migration_throughput) > core default.
void read_throughput(core::migration::ServerThroughput &t);
// C++-safe: thresholds from the directives.
core::migration::AnalyzerOptions analyzer_options_from_directives();

}  // namespace rubberduck::pg::migration
