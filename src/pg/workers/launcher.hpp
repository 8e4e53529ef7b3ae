#pragma once

namespace rubberduck::pg {

void register_launcher();  // _PG_init, when preloaded

}  // namespace rubberduck::pg
