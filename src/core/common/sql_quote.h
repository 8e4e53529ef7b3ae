// SQL identifier quoting, exactly like PostgreSQL 15's quote_ident(): one place for every core module that
// writes SQL (index DDL, migration alternatives).
#pragma once
#include "core/common/no_postgres.h"

#include <string>

namespace rubberduck::core {

// Left bare only when it is all [a-z0-9_], starts with [a-z_] and is not a keyword PostgreSQL quotes
// (reserved, column-name or type/function-name). Throws std::invalid_argument for an empty identifier.
std::string quote_ident(const std::string &identifier);

}  // namespace rubberduck::core
