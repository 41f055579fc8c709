// Simulated execution of Schedules on a Topology: the engine's entry point.
//
// Simulate() builds a SimGrid platform from the topology (platform.h) and
// replays each schedule on it (replay.h), one after another and each timed
// from its own start, so schedules never load the network together. It is
// the only entry into SimGrid and turns whatever SimGrid throws into a
// Status. SimGrid allows one Engine per process, so Simulate() may be called
// once per process (tests run each case in its own process).
//
// Model: host/model:ptask_L07 (SimGrid's parallel-task model, which also
// carries the point-to-point transfers). Sharing: flows on a bottleneck get
// max-min fair shares whatever their hop count, and a lone message of B
// bytes between two ranks takes (transport.h)
//   protocol latency + route latency + B / efficiency / (min bandwidth on route).
// How and why: simulator.cc.
#ifndef EPSIM_SIM_ENGINE_SIMULATOR_H_
#define EPSIM_SIM_ENGINE_SIMULATOR_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/base/status.h"
#include "sim/proto/report.pb.h"
#include "sim/proto/schedule.pb.h"
#include "sim/proto/topology.pb.h"

namespace epsim::engine {

struct SimOptions {
  // Passed through to SimGrid: only "--cfg=name:value" and "--log=..." forms.
  std::vector<std::string> simgrid_args;
  // All-to-all transfers in flight per rank (NCCL-like window): each rank
  // sends in pairwise order, round k to (r + k) mod n, keeping at most this
  // many of the phase's transfers in flight. 0 = unlimited (every transfer
  // posted at once, nearest first). Unset: the topology's
  // nccl.max_peers_in_flight (default 8).
  std::optional<uint32_t> max_inflight;
  // Peer-to-peer policy; unset: the topology's nccl.p2p (default auto).
  std::optional<proto::P2pPolicy> p2p;
  // How all-to-alls are simulated (replay.h): one transfer per rank pair, or
  // one parallel task per phase. kAuto: per pair up to kAutoPairRanks ranks.
  enum class Granularity { kAuto, kPair, kPhase } granularity = Granularity::kAuto;
  // Measured (experiments/perf/README.md): a DeepSeek-V3 pass per pair takes
  // 0.45 s at EP 8, 1.9 s at 16 and 15 s at 32, per phase 0.32, 0.59 and 0.98 s,
  // the two within 0.04%, 0.75% and 1.3% of each other.
  static constexpr uint32_t kAutoPairRanks = 16;
  // Per phase: an all-to-all no other one can overlap ends in closed form
  // (its bottleneck link's drain time) instead of a SimGrid parallel task.
  bool closed_form = true;
};

// Parses "auto", "pair", "phase" (the --granularity flag).
Result<SimOptions::Granularity> ParseGranularity(const std::string& text);

struct SimResult {
  std::vector<proto::Report> reports;  // one per schedule, same order
  // What the results depend on, for the report layer to print: SimGrid
  // version, models and every configuration value set, sharing rule.
  // Each Report's settings map holds the same pairs.
  std::vector<std::pair<std::string, std::string>> settings;
};

// Replays every schedule on `topo`. Errors: BadInput for an invalid topology
// or schedule (e.g. num_ranks > the topology's rank nodes; rank r runs on
// the r-th rank node, GPU or PROCESS), Usage for a simgrid_args entry that
// is not --cfg=/--log=, Internal for a second call in one process or an
// exception from SimGrid.
Result<SimResult> Simulate(const proto::Topology& topo,
                           const std::vector<proto::Schedule>& schedules,
                           const SimOptions& opts);

}  // namespace epsim::engine

#endif  // EPSIM_SIM_ENGINE_SIMULATOR_H_
