// The one place that includes PostgreSQL's headers (cpp-in-postgres.md R2): C++ standard headers first, then
// the server headers inside extern "C". Adapter files include this after any standard/core header they need.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#define RUBBERDUCK_PG_ADAPTER 1

extern "C" {
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

// c.h defines these as function-like macros; they break C++ standard headers included later.
#undef Min
#undef Max
#undef gettext
#undef dgettext
#undef ngettext
#undef dngettext

// Every symbol PostgreSQL finds by name (R1).
#define RD_EXPORT extern "C" PGDLLEXPORT
