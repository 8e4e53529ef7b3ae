// The migration guard: a ProcessUtility_hook that analyses every top-level DDL statement with the migration
// rules (whatever tool sent it), warns or refuses, applies a lock_timeout, and records it in the DDL ring.
#pragma once

namespace rubberduck::pg {

void install_utility_guard();  // from register_migration_analysis() (preloaded only; R24/R25)

}  // namespace rubberduck::pg
