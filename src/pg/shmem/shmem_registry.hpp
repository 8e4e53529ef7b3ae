// Shared-memory clients. Each piece of shared state (runtime registry, signal bus, query statistics, ...) is
// a client with a request step (run in the postmaster's shmem_request_hook: RequestAddinShmemSpace and its
// own named LWLock tranche) and a startup step (run under AddinShmemInitLock in shmem_startup_hook, in the
// postmaster and in every backend). Clients that hold learned state also provide a lasting-state section (see
// persist/).
#pragma once

#include <vector>

namespace rubberduck::pg {

struct ShmemClient {
    const char *name;
    void (*request)();  // PG regime, postmaster
    void (*startup)();  // PG regime, under AddinShmemInitLock: ShmemInitStruct, initialise when !found
};

void register_shmem_client(const ShmemClient &client);  // from _PG_init only
void install_shmem_hooks();                             // from _PG_init only, when preloaded

bool shmem_ready();  // true once our shared memory is attached in this process

}  // namespace rubberduck::pg
