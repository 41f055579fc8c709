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
// The same tree in tests/sim/engine (SharedUplinkIsSplitMaxMin...) ends the
// shorter flow at 10.003 ms as max-min predicts; with the latencies put back
// on the SimGrid links it ends at 9.003 ms.
// We take the zero-latency links: the network model stays CM02, so its
// settings and its per-communication factor callbacks (calibration) keep
// working, and the latency a transfer pays is exactly the sum of the
// topology's link latencies on the route SimGrid uses. As in CM02, a
// transfer loads no link during its latency. A consequence: SimGrid's own
// latency knobs (network/latency-factor, lat_factor callbacks) have no
// effect; latency is calibrated in the topology.
//
// Sequential schedules: SimGrid 3.32 lets Engine::run() be called again
// after new actors are created; the clock keeps running, so each replay
// records its own start time.
//
// Scale (8-way to 512-way star all-to-all, one actor per rank plus one
// short-lived sender actor per rank and all-to-all): 64 GPUs x 10 rounds
// 0.19 s, 256 GPUs x 1 round 2.5 s, 512 GPUs x 1 round 18.6 s of wall time.
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
#include "sim/engine/replay.h"
#include "sim/engine/schedule_check.h"
#include "sim/engine/topology.h"

namespace epsim::engine {

namespace sg4 = simgrid::s4u;

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
    {"network/model", "CM02", ConfigDefault::kString},   // no LV08 latency x13.01, bw x0.97
    {"network/crosstraffic", "0", ConfigDefault::kBool},  // no 5% reverse traffic per flow
    {"network/TCP-gamma", "0", ConfigDefault::kDouble},   // no window cap gamma / (2 x latency)
};

constexpr const char* kSharing =
    "max-min fair shares; SimGrid links have zero latency and each transfer "
    "waits its route latency (sum over its links) before it starts";

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
  return key == "host/model";
}

Settings CollectSettings(const std::vector<std::string>& args, const UserConfig& user_cfg,
                         uint32_t max_inflight) {
  int major = 0, minor = 0, patch = 0;
  sg_version_get(&major, &minor, &patch);
  Settings settings = {{"simgrid_version", fmt::format("{}.{}.{}", major, minor, patch)}};
  settings.emplace_back("host/model", ConfigValue("host/model", ConfigDefault::kString));
  for (const ConfigDefault& c : kDefaultConfig)
    settings.emplace_back(c.key, ConfigValue(c.key, c.type));
  for (const auto& [key, value] : user_cfg) {
    if (!IsReportedAnyway(key)) settings.emplace_back(key, value);
  }
  if (!args.empty()) settings.emplace_back("simgrid_args", fmt::format("{}", fmt::join(args, " ")));
  settings.emplace_back("routing", "Floyd zone, one route per topology link");
  settings.emplace_back("sharing", kSharing);
  settings.emplace_back("compute", "roofline per kernel; one stream per rank");
  // Printed only when set, so runs with the default (unlimited) read as before.
  if (max_inflight > 0)
    settings.emplace_back("max_inflight", fmt::format("{} per rank, pairwise order", max_inflight));
  return settings;
}

// Everything that needs the Engine. Throws what SimGrid throws.
Result<SimResult> Run(const proto::Topology& topo, const std::vector<proto::Schedule>& schedules,
                      const UserConfig& user_cfg, const SimOptions& opts) {
  // Quiet SimGrid's "Configuration change" lines; a user --log= comes later and wins.
  std::vector<std::string> words = {"epsim", "--log=xbt_cfg.thres:warning"};
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
  EPSIM_ASSIGN_OR_RETURN(Platform platform, BuildPlatform(topo));
  SimResult result;
  result.settings = CollectSettings(opts.simgrid_args, user_cfg, opts.max_inflight);
  for (size_t i = 0; i < schedules.size(); ++i) {
    auto replay = std::make_unique<Replay>(platform, topo.gpu(), schedules[i], static_cast<int>(i),
                                           opts.max_inflight);
    replay->Start();
    engine.run();
    proto::Report report = replay->Collect(topo.name());
    for (const auto& [key, value] : result.settings) (*report.mutable_settings())[key] = value;
    result.reports.push_back(std::move(report));
  }
  return result;
}

}  // namespace

Result<SimResult> Simulate(const proto::Topology& topo,
                           const std::vector<proto::Schedule>& schedules,
                           const SimOptions& opts) {
  EPSIM_RETURN_IF_ERROR(ValidateTopology(topo));
  size_t num_gpus = GpuNames(topo).size();
  for (size_t i = 0; i < schedules.size(); ++i) {
    const proto::Schedule& s = schedules[i];
    EPSIM_RETURN_IF_ERROR(ValidateSchedule(s, num_gpus).WithContext(
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
