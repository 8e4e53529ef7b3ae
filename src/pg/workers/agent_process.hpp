// Facts about the current process that hooks and functions consult.
#pragma once

namespace rubberduck::pg {

// True inside one of our agent workers: hooks skip collection there (our own SQL is not the workload, R46).
extern bool in_agent_process;

}  // namespace rubberduck::pg
