// Module entry: PG_MODULE_MAGIC and _PG_init. Directives are always defined (so rubberduck.* settings are
// validated even without preloading); shared memory, hooks and the launcher only when preloaded (R24).
#include "pg/functions/reset_registry.hpp"
#include "pg/guc/directives.hpp"
#include "pg/module.hpp"
#include "pg/shmem/runtime_registry.hpp"
#include "pg/shmem/shmem_registry.hpp"
#include "pg/shmem/signal_bus.hpp"
#include "pg/workers/launcher.hpp"

extern "C" {
#include "utils/queryjumble.h"
}

extern "C" {
PG_MODULE_MAGIC;
}

namespace rubberduck::pg {
bool preloaded = false;
}

using namespace rubberduck::pg;

RD_EXPORT void _PG_init(void) {
    define_directives();
    register_runtime_reset_targets();
    if (!process_shared_preload_libraries_in_progress) return;
    preloaded = true;
    EnableQueryId();  // query ids without pg_stat_statements
    register_runtime_registry();
    register_signal_bus();
    register_extension_parts();
    // Only when preloaded: otherwise postgresql.conf's postmaster-level rubberduck.* lines would be rejected.
    // After every area has defined its directives: reserving the prefix drops the placeholders that
    // postgresql.conf created for directives not defined yet (their values would be lost with a WARNING).
    mark_directives_reserved();
    install_shmem_hooks();
    register_launcher();
}
