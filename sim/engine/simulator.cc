// Why the engine works the way it does.
//
// Sharing rule. CM02 (like LV08) gives each flow on a bottleneck a share
// inversely proportional to its route latency (its "sharing penalty"). PCIe
// and NVLink arbitrate by credits, not by round-trip time, so flows of
// different hop counts on one uplink should split it evenly. Measured on
// SimGrid 3.32 (PCIe-like tree, 1 us per link, 32 GB/s shared uplink, two
// 1 GB flows of 3 and 4 hops started together):
//   CM02, latencies on links:       3-hop ends 54.690 ms, 4-hop 62.503 ms
//                                   (shares 18.3 and 13.7 GB/s: weighted);
//   host/model:ptask_L07:           62.502 ms and 62.503 ms (max-min);
//   CM02, zero-latency links, each
//   sender waiting its route latency: 62.502 ms and 62.503 ms (max-min).
// Both max-min options match the closed form (16 GB/s each once both run).
// The engine uses both: SimGrid links carry zero latency and every message
// waits its own latency (transport.h: NCCL protocol by message size plus the
// route's link latencies) before it loads any link, under ptask_L07. With
// zero-latency links CM02 and ptask_L07 give identical results on every
// per-pair case we have (the golden outputs did not change when we switched);
// ptask_L07 is needed for the per-phase parallel tasks (replay.h), which are
// what make 256-way all-to-alls cheap: SimGrid 3.32 keeps every detached
// communication in a list searched linearly, and with thousands of flows in
// flight each completion re-solves a max-min system of thousands of
// variables. CM02/LV08 knobs (network/model, TCP-gamma, cross-traffic,
// bandwidth- and latency-factor callbacks) do not apply under ptask_L07;
// every effect is a named parameter of the topology (NcclModel) instead.
//
// Sequential schedules: SimGrid 3.32 lets Engine::run() be called again
// after new actors are created; the clock keeps running, so each replay
// records its own start time.
#include "sim/engine/simulator.h"

#include <fmt/format.h>
#include <simgrid/s4u.hpp>
#include <simgrid/version.h>
#include <xbt/config.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>

#include "sim/engine/platform.h"
#include "sim/base/sanitizers.h"
#include "sim/engine/replay.h"
#include "sim/exec/schedule_check.h"
#include "sim/topology/topology.h"
#include "sim/topology/transport.h"

namespace epsim::engine {

namespace sg4 = simgrid::s4u;

// AddressSanitizer builds (CMake -DEPSIM_SANITIZE=address, or any
// -fsanitize=address) run SimGrid's actors as threads. Debian's SimGrid is
// not built to tell ASan when it switches to an actor's own stack, so ASan
// would warn that it ignores __asan_handle_no_return, and might report false
// errors, whenever code on such a stack throws. Simulated results do not
// depend on the context factory: SimGrid runs the actors in the same order
// with each one.

namespace {

using Settings = std::vector<std::pair<std::string, std::string>>;

// Configuration epsim sets unless the user's --cfg names the same key.
// SimGrid's typed getter must be called with the flag's declared type (a
// wrong type returns garbage rather than throwing), hence `type`.
struct ConfigDefault {
  const char* key;
  const char* value;
  enum Type { kString, kBool, kDouble } type;
};
const ConfigDefault kDefaultConfig[] = {
    {"host/model", "ptask_L07", ConfigDefault::kString},  // parallel tasks, pure max-min
};

constexpr const char* kSharing =
    "max-min fair shares; SimGrid links have zero latency and each message "
    "waits its latency (NCCL protocol + route) before it starts";

// User --cfg settings, name -> value as given, in argument order.
using UserConfig = std::vector<std::pair<std::string, std::string>>;

Status CheckArgs(const std::vector<std::string>& args, UserConfig* cfg) {
  for (const std::string& arg : args) {
    if (arg.rfind("--log=", 0) == 0) continue;
    size_t colon = arg.find(':');
    if (arg.rfind("--cfg=", 0) != 0 || colon == std::string::npos)
      return Status::Usage(fmt::format("simgrid argument '{}': want --cfg=name:value or --log=...",
                                       arg));
    cfg->emplace_back(arg.substr(6, colon - 6), arg.substr(colon + 1));
  }
  return Status::Ok();
}

std::string ConfigValue(const char* key, ConfigDefault::Type type) {
  switch (type) {
    case ConfigDefault::kString: return simgrid::config::get_value<std::string>(key);
    case ConfigDefault::kBool: return simgrid::config::get_value<bool>(key) ? "1" : "0";
    case ConfigDefault::kDouble: return fmt::format("{}", simgrid::config::get_value<double>(key));
  }
  return "?";
}

bool IsReportedAnyway(const std::string& key) {
  for (const ConfigDefault& c : kDefaultConfig) {
    if (key == c.key) return true;
  }
  return false;
}

std::string ProtocolSummary(const proto::NcclModel& nccl) {
  std::string out;
  for (const proto::NcclProtocol& p : nccl.protocols()) {
    if (!out.empty()) out += "; ";
    out += p.max_bytes() ? fmt::format("{} up to {} B", p.name(), p.max_bytes())
                         : fmt::format("{} above", p.name());
    out += fmt::format(
        " (base {} us, efficiency {}, extra hop nvlink/pcie/net/memory {}/{}/{}/{} us)",
        p.base_latency_us(), p.payload_efficiency(), p.extra_hop_nvlink_us(), p.extra_hop_pcie_us(),
        p.extra_hop_network_us(), p.extra_hop_memory_us());
  }
  return out;
}

std::string TransportSummary(const topology::TransportTable& table) {
  std::string out = fmt::format(
      "--p2p {}: {} P2P, {} SHM, {} NET ordered {} pairs", topology::P2pPolicyName(table.policy()),
      table.Count(topology::Transport::kP2p), table.Count(topology::Transport::kShm),
      table.Count(topology::Transport::kNet), topology::RankNoun(table.rank_kind()));
  if (table.nccl().shm_efficiency() != 1)
    out += fmt::format("; SHM transfers at {:g} of their route's bandwidth", table.nccl().shm_efficiency());
  return out;
}

Settings CollectSettings(const std::vector<std::string>& args, const UserConfig& user_cfg,
                         const topology::TransportTable& table, double comm_sm_share,
                         uint32_t max_inflight, const char* granularity, bool closed_form) {
  int major = 0, minor = 0, patch = 0;
  sg_version_get(&major, &minor, &patch);
  Settings settings = {{"simgrid_version", fmt::format("{}.{}.{}", major, minor, patch)}};
  for (const ConfigDefault& c : kDefaultConfig)
    settings.emplace_back(c.key, ConfigValue(c.key, c.type));
  for (const auto& [key, value] : user_cfg) {
    if (!IsReportedAnyway(key)) settings.emplace_back(key, value);
  }
  if (!args.empty()) settings.emplace_back("simgrid_args", fmt::format("{}", fmt::join(args, " ")));
  settings.emplace_back("routing", fmt::format("fewest links per {} pair (topo show), explicit routes",
                                               topology::RankNoun(table.rank_kind())));
  settings.emplace_back("transport", TransportSummary(table));
  settings.emplace_back("protocols", ProtocolSummary(table.nccl()));
  settings.emplace_back("sharing", kSharing);
  settings.emplace_back(
      "compute",
      fmt::format("roofline per kernel; per rank one compute stream and one communication "
                  "stream; an all-to-all in flight takes {:g} of the GPU from compute it "
                  "overlaps (gpu.comm_sm_share)",
                  comm_sm_share));
  settings.emplace_back("granularity", granularity);
  if (std::string(granularity) == "phase")
    settings.emplace_back(
        "closed_form", closed_form ? "on: an all-to-all no other one can overlap ends when its most "
                                     "loaded link drains, computed without SimGrid (replay.h)"
                                   : "off: every phase task is solved by SimGrid");
  if (std::string(granularity) == "pair")
    settings.emplace_back("max_inflight", max_inflight > 0
                                              ? fmt::format("{} per rank, pairwise order", max_inflight)
                                              : std::string("unlimited"));
  return settings;
}

// Everything that needs the Engine. Throws what SimGrid throws.
Result<SimResult> Run(const proto::Topology& topo, const std::vector<proto::Schedule>& schedules,
                      const UserConfig& user_cfg, const SimOptions& opts) {
  // Quiet SimGrid's "Configuration change" lines; a user --log= comes later and wins.
  std::vector<std::string> words = {"epsim", "--log=xbt_cfg.thres:warning"};
#ifdef EPSIM_ASAN
  words.push_back("--cfg=contexts/factory:thread");
#endif
  words.insert(words.end(), opts.simgrid_args.begin(), opts.simgrid_args.end());
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(words.size());
  sg4::Engine engine(&argc, argv.data());
  for (const ConfigDefault& c : kDefaultConfig) {
    bool user_set = std::any_of(user_cfg.begin(), user_cfg.end(),
                                [&](const auto& kv) { return kv.first == c.key; });
    if (!user_set) sg4::Engine::set_config(std::string(c.key) + ":" + c.value);
  }
  EPSIM_ASSIGN_OR_RETURN(Platform platform,
                         BuildPlatform(topo, opts.p2p.value_or(topo.nccl().p2p())));
  const uint32_t max_inflight =
      opts.max_inflight.value_or(platform.transports.nccl().max_peers_in_flight());
  uint32_t max_ranks = 0;
  for (const proto::Schedule& s : schedules) max_ranks = std::max(max_ranks, s.num_ranks());
  const bool per_phase =
      opts.granularity == SimOptions::Granularity::kPhase ||
      (opts.granularity == SimOptions::Granularity::kAuto && max_ranks > SimOptions::kAutoPairRanks);
  SimResult result;
  result.settings = CollectSettings(opts.simgrid_args, user_cfg, platform.transports,
                                    topo.gpu().comm_sm_share(), max_inflight,
                                    per_phase ? "phase" : "pair", opts.closed_form);
  for (size_t i = 0; i < schedules.size(); ++i) {
    auto replay = std::make_unique<Replay>(
        platform, topo.gpu(), schedules[i], static_cast<int>(i), max_inflight,
        per_phase ? Replay::Granularity::kPhase : Replay::Granularity::kPair, opts.closed_form);
    replay->Start();
    engine.run();
    EPSIM_RETURN_IF_ERROR(replay->CheckComplete());
    proto::Report report = replay->Collect(topo.name());
    for (const auto& [key, value] : result.settings) (*report.mutable_settings())[key] = value;
    if (per_phase)
      (*report.mutable_settings())["closed_form_phases"] =
          fmt::format("{} of {} all-to-all phase tasks", replay->closed_form_phases(),
                      replay->phase_tasks());
    result.reports.push_back(std::move(report));
  }
  return result;
}

}  // namespace

Result<SimOptions::Granularity> ParseGranularity(const std::string& text) {
  if (text == "auto") return SimOptions::Granularity::kAuto;
  if (text == "pair") return SimOptions::Granularity::kPair;
  if (text == "phase") return SimOptions::Granularity::kPhase;
  return Status::Usage(fmt::format("--granularity '{}': want pair, phase or auto", text));
}

Result<SimResult> Simulate(const proto::Topology& topo,
                           const std::vector<proto::Schedule>& schedules,
                           const SimOptions& opts) {
  EPSIM_RETURN_IF_ERROR(topology::ValidateTopology(topo));
  const size_t num_ranks = topology::RankNames(topo).size();
  for (size_t i = 0; i < schedules.size(); ++i) {
    const proto::Schedule& s = schedules[i];
    EPSIM_RETURN_IF_ERROR(exec::ValidateSchedule(s, num_ranks).WithContext(
        fmt::format("schedule {} ({} {} {})", i, s.model(), s.strategy(), s.placement())));
  }
  UserConfig user_cfg;
  EPSIM_RETURN_IF_ERROR(CheckArgs(opts.simgrid_args, &user_cfg));
  static std::atomic<bool> called{false};
  if (called.exchange(true))
    return Status::Internal("Simulate called twice in one process (one SimGrid Engine each)");
  try {
    return Run(topo, schedules, user_cfg, opts);
  } catch (const std::exception& e) {
    return Status::Internal(fmt::format("SimGrid: {}", e.what()));
  } catch (...) {
    return Status::Internal("SimGrid: unknown exception");
  }
}

}  // namespace epsim::engine
