// Job assembly: from what a user names (a trace or a synthetic one, a model,
// a topology, an EP size, a placement, a strategy) to checked planning
// inputs and a Schedule. Shared by `epsim` (which simulates the plan) and
// `epsim-hw` (which executes it), so both plan through the same code; no
// SimGrid and no CUDA here. Flag registration lives in sim/cli/run_flags.h.
#ifndef EPSIM_SIM_PLAN_JOB_H_
#define EPSIM_SIM_PLAN_JOB_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sim/base/status.h"
#include "sim/dispatch/strategy.h"
#include "sim/placement/placement.h"
#include "sim/proto/model.pb.h"
#include "sim/proto/plan.pb.h"
#include "sim/proto/schedule.pb.h"
#include "sim/proto/topology.pb.h"
#include "sim/trace/trace.h"

namespace epsim::plan {

inline constexpr char kDefaultModel[] = "olmoe-1b-7b";

// What to plan and where.
struct RunFlags {
  std::string trace;  // empty: generate a synthetic trace
  std::string model;  // empty: the trace's model, or kDefaultModel for synthetic
  std::string topology = "a6000-x4-pcie-gen4";
  uint32_t ep = 0;    // 0: every rank of the topology
  uint64_t tokens = 16384;
  bool tokens_given = false;  // --tokens on the command line (refused with --trace)
  uint64_t seed = 1;
  std::string profile;     // trace profiled for c2r / similarity; empty: the replayed one
  std::string similarity;  // expert similarity file for pruned:N_d:similarity
  // > 0: rank r is on host r / ranks_per_host, whatever the topology says
  // (plans a multi-host layout, e.g. hierarchical dispatch on 2 x 2 ranks,
  // for processes that run on one machine). 0: the topology's hosts.
  uint32_t ranks_per_host = 0;
  // What runs while the dispatch is in flight (schedule_builder.h):
  // "none", "shared-expert", "scmoe" or "micro-batches".
  std::string overlap = "none";
  // "prefill" or "decode"; decode's KV-cache length per sequence before the
  // trace's first step (0 with prefill).
  std::string pass = "prefill";
  uint64_t context = 0;
  bool recompute = false;  // train: activation recomputation
};

// A job as command-line flags, so a report can say exactly what it ran and
// `epsim calibrate` can plan it again: `--model M --tokens N --seed S --ep E`
// plus `--trace F`, `--profile F`, `--similarity F`, `--ranks-per-host R`
// where set, then `--dispatch D --placement P`; values quoted as
// std::quoted does when they hold spaces or quotes. The topology is left
// out (the caller names it).
struct JobSpec {
  RunFlags flags;
  std::string dispatch;
  std::string placement;
};
std::string JobArgs(const JobSpec& job);
// The inverse of JobArgs (strict: unknown flags, a flag without a value, a
// value that is not a number where one is needed: BadInput naming it).
Result<JobSpec> ParseJobArgs(const std::string& text);

// Everything loaded and checked: the trace (read or generated), its model,
// the topology, the EP size and the cluster map of its first `ep` ranks.
struct RunInputs {
  RunFlags flags;  // what was loaded
  proto::Topology topology;
  proto::Model model;
  trace::Trace trace;
  std::string trace_label;  // the file, or how the synthetic trace was made
  // The files read (data_paths.h resolves names): the topology, the model,
  // and the fitted routing of a synthetic trace ("" when none was used).
  std::string topology_file, model_file, routing_file;
  uint32_t ep = 0;
  dispatch::ClusterMap cluster;
  // The trace's rows were not read: `trace` holds the file's header and
  // each layer's number only, and PlanAll counts the layers while reading
  // the file (stream_count.h).
  bool streamed = false;
};
// How LoadRunInputs holds a trace file: every row in memory, or (kStream,
// for a run StreamsTrace allows) only its header when the file is a regular
// file (a pipe cannot be read twice) with one forward step, the rows read
// while planning. A synthetic trace is always in memory.
enum class TraceRows { kInMemory, kStream };
Result<RunInputs> LoadRunInputs(const RunFlags& flags, TraceRows rows = TraceRows::kInMemory);

// Whether a run can plan from a trace file streamed a layer at a time: a
// prefill or train pass, no strategy that migrates sequences (Luffy) or
// needs a profile of the replayed trace (c2r, pruned:N:similarity without
// --profile), and a placement not computed from the replayed trace's
// tokens (contiguous, round-robin, a file, or any with --profile).
bool StreamsTrace(const RunFlags& flags, const std::string& placement,
                  const std::vector<const dispatch::Strategy*>& strategies);

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

// The placement `name_or_file` names: an algorithm computed from the
// profile (--profile, else the replayed trace), split along the topology, or
// a placement file. `partition`: "partition" of the same run, already
// computed, which replicate reuses (may be null).
Result<placement::LayerPlacements> PlacementFor(const RunFlags& flags, const RunInputs& in,
                                                const std::string& name_or_file,
                                                const placement::LayerPlacements* partition = nullptr);

// Plans one strategy on the run's inputs: checks the strategy fits the
// trace (c2r's T against top-k), fetches profiles, builds the schedule.
Result<proto::Schedule> PlanFor(const RunInputs& in, const placement::LayerPlacements& placements,
                                const dispatch::Strategy& strategy, ProfileCache* profiles);

// PlanFor for each strategy; a streamed run (RunInputs::streamed) reads
// its trace once for all of them.
Result<std::vector<proto::Schedule>> PlanAll(const RunInputs& in,
                                             const placement::LayerPlacements& placements,
                                             const std::vector<const dispatch::Strategy*>& strategies,
                                             ProfileCache* profiles);

// The same plan with the routes of every token (plan_file.h), its inputs
// described (input "job": JobArgs, the flags that plan it again) and the
// topology named: what `epsim plan -o` writes and `epsim-hw run` executes.
Result<proto::Plan> ExecPlanFor(const RunInputs& in, const placement::LayerPlacements& placements,
                                const dispatch::Strategy& strategy, ProfileCache* profiles);

// The '# Inputs' lines of a run: trace, model and its file, the routing fit
// file of a synthetic trace when one was used, topology and its file, ep.
// Files as DisplayPath prints them (relative to the working directory when
// under it).
std::vector<std::pair<std::string, std::string>> DescribeInputs(const RunInputs& in);

// Rank r is the r-th rank node of the topology; its node in the map is that
// rank's machine (placement::HostOfRank, the one rank-to-host map).
dispatch::ClusterMap ClusterOf(const proto::Topology& topology, uint32_t num_ranks);

}  // namespace epsim::plan

#endif  // EPSIM_SIM_PLAN_JOB_H_
