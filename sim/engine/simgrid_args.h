// Checking SimGrid's pass-through flags (--cfg=name:value, --log=...)
// before any work starts. SimGrid only knows its configuration keys once an
// Engine exists, answers an unknown key with an exception listing all ~100
// keys and an invalid model name with an abort, and allows one Engine per
// process: so the check builds a throw-away Engine with the same arguments
// in a forked child and reports what it said in one line.
#ifndef EPSIM_SIM_ENGINE_SIMGRID_ARGS_H_
#define EPSIM_SIM_ENGINE_SIMGRID_ARGS_H_

#include <string>
#include <vector>

#include "sim/base/status.h"

namespace epsim::engine {

// Ok when SimGrid accepts every argument (each "--cfg=name:value" or
// "--log=..."); else Usage naming the argument form or SimGrid's complaint
// ("--cfg=network/TCP-gama:3: SimGrid has no configuration key
// 'network/TCP-gama'; did you mean 'network/TCP-gamma'?"). No child is
// started for an empty list.
Status CheckSimGridArgs(const std::vector<std::string>& args);

}  // namespace epsim::engine

#endif  // EPSIM_SIM_ENGINE_SIMGRID_ARGS_H_
