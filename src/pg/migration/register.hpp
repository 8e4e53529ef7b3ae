#pragma once

namespace rubberduck::pg {

// Migration analysis area: directives, the DDL ring (shared memory) and the ProcessUtility guard.
void register_migration_analysis();

}  // namespace rubberduck::pg
