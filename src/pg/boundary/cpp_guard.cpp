#include "pg/boundary/cpp_guard.hpp"

namespace rubberduck::pg {

void raise_guard_failure(const GuardFailure &failure, int elevel) {
    if (failure.hint[0] != '\0')
        ereport(elevel,
                (errcode(failure.sqlstate), errmsg("%s", failure.message), errhint("%s", failure.hint)));
    else
        ereport(elevel, (errcode(failure.sqlstate), errmsg("%s", failure.message)));
}

}  // namespace rubberduck::pg
