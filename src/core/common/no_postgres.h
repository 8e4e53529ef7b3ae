// Included by every core header: the core must stay free of PostgreSQL headers (cpp-in-postgres.md R3).
#pragma once
#ifdef POSTGRES_H
#error "src/core must not be compiled after a PostgreSQL header: keep the core pure C++"
#endif
