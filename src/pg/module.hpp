#pragma once

namespace rubberduck::pg {

// True when loaded through shared_preload_libraries (agents, hooks and shared memory exist).
extern bool preloaded;

// Registration of the feature areas (shared-memory clients, state sections, hooks), one line per area; called
// from _PG_init when preloaded. Defined in module_parts.cpp so areas do not all edit module.cpp.
void register_extension_parts();

}  // namespace rubberduck::pg
