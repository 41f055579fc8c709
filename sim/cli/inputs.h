// Helpers the subcommands share to turn their flags into planning inputs:
// the run flags of `simulate` and `compare` (trace or synthetic trace,
// model, topology, EP size) and the cluster map of a topology.
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
#include "sim/trace/trace.h"

namespace epsim::cli {

inline constexpr char kDefaultModel[] = "olmoe-1b-7b";

// Flags naming what to replay and where.
struct RunFlags {
  std::string trace;  // empty: generate a synthetic trace
  std::string model;  // empty: the trace's model, or kDefaultModel for synthetic
  std::string topology = "a6000-x4-pcie-gen4";
  uint32_t ep = 0;    // 0: every GPU of the topology
  uint64_t tokens = 16384;
  uint64_t seed = 1;
  std::string profile;     // trace profiled for c2r / similarity; empty: the replayed one
  std::string similarity;  // expert similarity file for pruned:N_d:similarity
};

// Registers --trace, --model, --topology, --ep, --tokens, --seed, --profile
// and --similarity.
void AddRunFlags(CLI::App* cmd, RunFlags* flags);

// How the network is simulated (simulate, compare, bench); unset flags
// leave the topology's NCCL model in force.
struct NetworkFlags {
  int64_t max_inflight = -1;  // --max-inflight W; -1: the topology's
  std::string p2p;            // --p2p on|off|auto; empty: the topology's
  std::string granularity = "auto";
};

// Registers --max-inflight, --p2p and --granularity.
void AddNetworkFlags(CLI::App* cmd, NetworkFlags* flags);

// The engine options of `flags` and SimGrid's pass-through arguments.
Result<engine::SimOptions> SimOptionsOf(const NetworkFlags& flags,
                                        const std::vector<std::string>& simgrid_args);

// Everything loaded and checked: the trace (read or generated), its model,
// the topology, the EP size and the cluster map of its first `ep` GPUs.
struct RunInputs {
  proto::Topology topology;
  proto::Model model;
  trace::Trace trace;
  std::string trace_label;  // the file, or how the synthetic trace was made
  uint32_t ep = 0;
  dispatch::ClusterMap cluster;
};
Result<RunInputs> LoadRunInputs(const RunFlags& flags);

// Per-layer profiles for the strategies that need them (c2r partners,
// pruning similarity), built once per run from --profile (or the replayed
// trace) and --similarity, on first need.
class ProfileCache {
 public:
  ProfileCache(const RunFlags& flags, const RunInputs& in) : flags_(flags), in_(in) {}
  // Null for strategies that need no profile.
  Result<const std::map<uint32_t, dispatch::LayerProfile>*> For(const dispatch::Strategy& s);
  // How the profiles were made, for output headers ("" when none was needed).
  const std::string& description() const { return description_; }

 private:
  const RunFlags& flags_;
  const RunInputs& in_;
  bool built_ = false;
  std::map<uint32_t, dispatch::LayerProfile> profiles_;
  std::string description_;
};

// The placement `--placement` names: an algorithm computed from the profile
// (--profile, else the replayed trace), split along the topology, or a
// placement file.
Result<placement::LayerPlacements> PlacementFor(const RunFlags& flags, const RunInputs& in,
                                                const std::string& name_or_file);

// Plans one strategy on the run's inputs: checks the strategy fits the
// trace (c2r's T against top-k), fetches profiles, builds the schedule.
Result<proto::Schedule> PlanFor(const RunInputs& in, const placement::LayerPlacements& placements,
                                const dispatch::Strategy& strategy, ProfileCache* profiles);

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

// The '# Inputs' lines of a run.
std::vector<std::pair<std::string, std::string>> DescribeInputs(const RunInputs& in);

// Rank r is the r-th GPU of the topology; its node is that GPU's `host`.
// Nodes are renumbered densely in order of first appearance.
dispatch::ClusterMap ClusterOf(const proto::Topology& topology, uint32_t num_ranks);

}  // namespace epsim::cli

#endif  // EPSIM_SIM_CLI_INPUTS_H_
