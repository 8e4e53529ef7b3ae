// The indexing area's registration (called from register_extension_parts when preloaded): its directives and
// the what-if planner hooks.
#include "pg/guc/index_directives.hpp"
#include "pg/index/hypo_index.hpp"
#include "pg/index/index_autonomy.hpp"

namespace rubberduck::pg {

void register_indexing() {
    define_index_directives();
    define_index_autonomy_directives();
    install_whatif_hooks();
}

}  // namespace rubberduck::pg
