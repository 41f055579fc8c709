// What the simulating subcommands add to job assembly (sim/plan/job.h):
// network flags, engine options and a simulated run with its header.
#ifndef EPSIM_SIM_CLI_INPUTS_H_
#define EPSIM_SIM_CLI_INPUTS_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "sim/base/status.h"
#include "sim/dispatch/strategy.h"
#include "sim/engine/simulator.h"
#include "sim/placement/placement.h"
#include "sim/proto/schedule.pb.h"
#include "sim/proto/model.pb.h"
#include "sim/proto/topology.pb.h"
#include "sim/report/report.h"
#include "sim/cli/run_flags.h"
#include "sim/plan/job.h"
#include "sim/trace/trace.h"

namespace epsim::cli {

using plan::ClusterOf;
using plan::kDefaultModel;
using plan::DescribeInputs;
using plan::LoadRunInputs;
using plan::PlacementFor;
using plan::PlanFor;
using plan::ProfileCache;
using plan::RunFlags;
using plan::RunInputs;

// How the network is simulated (simulate, compare, bench); unset flags
// leave the topology's NCCL model in force.
struct NetworkFlags {
  int64_t max_inflight = -1;  // --max-inflight W; -1: the topology's
  std::string p2p;            // --p2p on|off|auto; empty: the topology's
  std::string granularity = "auto";
  std::string closed_form = "on";  // --closed-form on|off
};

// Registers --max-inflight, --p2p, --granularity and --closed-form.
void AddNetworkFlags(CLI::App* cmd, NetworkFlags* flags);

// The engine options of `flags` and SimGrid's pass-through arguments.
Result<engine::SimOptions> SimOptionsOf(const NetworkFlags& flags,
                                        const std::vector<std::string>& simgrid_args);

// A simulated run and the header its output prints: command, the run's
// inputs, `extra_inputs`, "profiles" when strategies needed them, and the
// engine's settings.
struct SimulatedRun {
  engine::SimResult result;
  report::RunInfo info;
};
using InputLines = std::vector<std::pair<std::string, std::string>>;
Result<SimulatedRun> SimulateRun(const std::string& command, const InputLines& extra_inputs,
                                 const RunInputs& in, const ProfileCache& profiles,
                                 const std::vector<proto::Schedule>& schedules,
                                 const engine::SimOptions& sim_options);

// The header notes of a run (report::RunInfo::notes): for each of
// `strategies` that changes nothing on the run's cluster, its
// Strategy::NoEffectReason; for each name in `repeated` (listed more than
// once in `flag`, e.g. "--dispatch"), that it ran once.
std::vector<std::string> RunNotes(const RunInputs& in,
                                  const std::vector<const dispatch::Strategy*>& strategies,
                                  const std::string& flag,
                                  const std::vector<std::string>& repeated);

}  // namespace epsim::cli

#endif  // EPSIM_SIM_CLI_INPUTS_H_
