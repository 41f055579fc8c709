// The flags that name a job (--trace, --model, --topology, --ep, --tokens,
// --seed, --profile, --similarity), registered the same way by `epsim` and
// `epsim-hw`. CLI11 only: no SimGrid, no CUDA.
#ifndef EPSIM_SIM_CLI_RUN_FLAGS_H_
#define EPSIM_SIM_CLI_RUN_FLAGS_H_

#include <CLI/CLI.hpp>

#include "sim/plan/job.h"

namespace epsim::cli {

void AddRunFlags(CLI::App* cmd, plan::RunFlags* flags);
// --ranks-per-host (epsim plan and epsim-hw run).
void AddLayoutFlag(CLI::App* cmd, plan::RunFlags* flags);

}  // namespace epsim::cli

#endif  // EPSIM_SIM_CLI_RUN_FLAGS_H_
