// Included by every core header: the core must stay free of PostgreSQL headers (cpp-in-postgres.md R3).
// Adapter files (src/pg) may include core headers after PostgreSQL's: pg/postgres.hpp marks them with
// RUBBERDUCK_PG_ADAPTER.
#pragma once
#if defined(POSTGRES_H) && !defined(RUBBERDUCK_PG_ADAPTER)
#error "src/core must not include PostgreSQL headers: keep the core pure C++"
#endif
