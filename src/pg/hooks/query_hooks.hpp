// Collection hooks of the query_optimizer agent (see query_hooks.cpp).
#pragma once

namespace rubberduck::pg {

void install_query_hooks();  // from _PG_init, preloaded only (R24)

}  // namespace rubberduck::pg
