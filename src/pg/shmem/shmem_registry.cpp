#include "pg/shmem/shmem_registry.hpp"

#include "pg/postgres.hpp"
#include "pg/persist/state_file.hpp"

namespace rubberduck::pg {
namespace {

// Fixed capacity, trivially destructible (R14): filled in _PG_init, read by hooks.
constexpr int kMaxClients = 16;
ShmemClient clients[kMaxClients];
int client_count = 0;
bool attached = false;

shmem_request_hook_type prev_shmem_request_hook = nullptr;
shmem_startup_hook_type prev_shmem_startup_hook = nullptr;

void request_all() {
    if (prev_shmem_request_hook) prev_shmem_request_hook();
    for (int i = 0; i < client_count; ++i) clients[i].request();
}

void startup_all() {
    if (prev_shmem_startup_hook) prev_shmem_startup_hook();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    for (int i = 0; i < client_count; ++i) clients[i].startup();
    LWLockRelease(AddinShmemInitLock);
    attached = true;
    // The postmaster (or a standalone backend) creates shared memory, so it owns its lasting state: it loads
    // the state file into the new segment and writes it back when shared memory goes away at a clean
    // shutdown.
    if (!IsUnderPostmaster) {
        on_shmem_exit(shmem_state_dump_at_exit, 0);
        load_shmem_state();
    }
}

}  // namespace

void register_shmem_client(const ShmemClient &client) {
    if (client_count >= kMaxClients) elog(ERROR, "rubberduck_agents: too many shared-memory clients");
    clients[client_count++] = client;
}

void install_shmem_hooks() {
    prev_shmem_request_hook = shmem_request_hook;
    shmem_request_hook = request_all;
    prev_shmem_startup_hook = shmem_startup_hook;
    shmem_startup_hook = startup_all;
}

bool shmem_ready() {
    return attached;
}

}  // namespace rubberduck::pg
