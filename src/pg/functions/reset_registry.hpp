// rubberduck.reset(what): each area registers what it can reset under a name; 'all' resets every target.
#pragma once

namespace rubberduck::pg {

using ResetFn = void (*)();

void register_reset_target(const char *name, ResetFn fn);  // from _PG_init (always, preloaded or not)
void register_runtime_reset_targets();
void run_reset(const char *what);  // ERROR 22023 naming the valid targets when unknown

}  // namespace rubberduck::pg
