// Each feature area registers its shared memory, lasting state and hooks here (called from _PG_init when
// preloaded).
#include "pg/module.hpp"
#include "pg/skills/query_optimization.hpp"

namespace rubberduck::pg {

void register_extension_parts() {
    register_query_optimizer();
}

}  // namespace rubberduck::pg
