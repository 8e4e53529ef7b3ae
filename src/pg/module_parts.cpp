// Each feature area registers its shared memory, lasting state and hooks here (called from _PG_init when
// preloaded).
#include "pg/migration/executor.hpp"
#include "pg/migration/register.hpp"
#include "pg/module.hpp"
#include "pg/skills/query_optimization.hpp"

namespace rubberduck::pg {

void register_indexing();  // src/pg/index/indexing_registration.cpp

void register_extension_parts() {
    register_query_optimizer();
    register_migration_analysis();
    migration::register_migration_exec();
    register_indexing();
}

}  // namespace rubberduck::pg
