#include "pg/migration/register.hpp"

#include "pg/guc/migration_directives.hpp"
#include "pg/hooks/utility_guard.hpp"
#include "pg/migration/ddl_log.hpp"

namespace rubberduck::pg {

void register_migration_analysis() {
    define_migration_directives();
    migration::register_ddl_log();
    install_utility_guard();
}

}  // namespace rubberduck::pg
