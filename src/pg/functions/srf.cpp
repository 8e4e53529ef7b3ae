#include "pg/functions/srf.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
}

namespace rubberduck::pg {

Datum text_array_datum(const char *const *items, int count) {
    Datum *elems = static_cast<Datum *>(palloc(sizeof(Datum) * (count > 0 ? count : 1)));
    for (int i = 0; i < count; ++i) elems[i] = CStringGetTextDatum(items[i]);
    ArrayType *arr = construct_array(elems, count, TEXTOID, -1, false, TYPALIGN_INT);
    return PointerGetDatum(arr);
}

void warn_not_preloaded() {
    ereport(
        WARNING,
        (errmsg(
             "rubberduck_agents is not loaded through shared_preload_libraries: the agents are not running"),
         errhint("Add rubberduck_agents to shared_preload_libraries in postgresql.conf (or ALTER SYSTEM "
                 "SET shared_preload_libraries = 'pg_stat_statements,rubberduck_agents') and restart "
                 "the server.")));
}

void require_admin(const char *what) {
    if (superuser()) return;
    Oid admin = get_role_oid("rubberduck_admin", true);
    if (OidIsValid(admin) && has_privs_of_role(GetUserId(), admin)) return;
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("permission denied to %s", what),
                    errhint("Only superusers and members of rubberduck_admin may do this.")));
}

}  // namespace rubberduck::pg
