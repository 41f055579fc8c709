#include "sim/sweep/grid.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "sim/base/data_paths.h"
#include "sim/base/file_util.h"
#include "sim/base/string_util.h"
#include "sim/dispatch/strategy.h"
#include "sim/topology/topology.h"

namespace epsim::sweep {
namespace {

constexpr char kCalibratedMark[] = "# Calibrated by `epsim calibrate`";

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// A bad value is a usage error on a flag ("--tokens") and bad input
// (exit 2) in a sweep file ("sweep.txt:3").
Status BadValue(const std::string& where, const std::string& message) {
  const std::string text = where + ": " + message;
  return where.rfind("--", 0) == 0 ? Status::Usage(text) : Status::BadInput(text);
}

std::vector<std::string> KeyNames() { return {kAxisKeys.begin(), kAxisKeys.end()}; }

int AxisOf(const std::string& key) {
  for (int i = 0; i < kNumAxes; ++i)
    if (key == kAxisKeys[i]) return i;
  return -1;
}

// "a, b ,c" -> {"a", "b", "c"}, repeats removed; an empty item is an error.
Result<std::vector<std::string>> Values(const std::string& list, const std::string& where) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    item = Trim(item);
    if (item.empty()) return Status::Usage(fmt::format("{}: empty value in '{}'", where, list));
    if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
  }
  if (out.empty() || list.back() == ',')
    return Status::Usage(fmt::format("{}: empty value in '{}'", where, list));
  return out;
}

Status ParseLine(const std::string& raw, const std::string& where, Axes* axes,
                 std::map<int, std::string>* seen) {
  const std::string line = Trim(raw.substr(0, raw.find('#')));
  if (line.empty()) return Status::Ok();
  const size_t eq = line.find('=');
  if (eq == std::string::npos)
    return Status::Usage(fmt::format("{}: expected 'key = value, ...', got '{}'", where, line));
  const std::string key = Trim(line.substr(0, eq));
  const int axis = AxisOf(key);
  if (axis < 0) {
    const std::string near = NearestName(key, KeyNames());
    return Status::Usage(fmt::format("{}: unknown key '{}'{} (keys: {})", where, key,
                                     near.empty() ? "" : " (did you mean '" + near + "'?)",
                                     fmt::join(kAxisKeys, ", ")));
  }
  if (seen->count(axis))
    return Status::Usage(fmt::format("{}: '{}' is already given at {}", where, key, (*seen)[axis]));
  (*seen)[axis] = where;
  EPSIM_ASSIGN_OR_RETURN((*axes)[axis].values, Values(Trim(line.substr(eq + 1)), where));
  (*axes)[axis].where = where;
  return Status::Ok();
}

bool IsUnsigned(const std::string& v) {
  return !v.empty() && v.size() <= 19 && std::all_of(v.begin(), v.end(), ::isdigit);
}

Status CheckOneOf(const Axis& axis, const std::string& key, const std::set<std::string>& allowed) {
  for (const std::string& v : axis.values)
    if (!allowed.count(v))
      return BadValue(axis.where, fmt::format("{} '{}' is not one of {}", key, v,
                                              fmt::join(allowed, ", ")));
  return Status::Ok();
}

Status CheckAxes(Axes* axes) {
  for (int i : {kTokens, kSeed, kEp, kContext})
    for (const std::string& v : (*axes)[i].values)
      if (!IsUnsigned(v))
        return BadValue((*axes)[i].where,
                        fmt::format("{} '{}' is not an unsigned integer", kAxisKeys[i], v));
  for (const std::string& v : (*axes)[kTokens].values)
    if (std::stoull(v) < 1 || std::stoull(v) > (uint64_t{1} << 30))
      return BadValue((*axes)[kTokens].where, fmt::format("tokens {} is not in [1, 2^30]", v));
  EPSIM_RETURN_IF_ERROR(CheckOneOf((*axes)[kPass], "pass", {"prefill", "decode", "train"}));
  EPSIM_RETURN_IF_ERROR(CheckOneOf((*axes)[kOverlap], "overlap",
                                   {"none", "shared-expert", "scmoe", "micro-batches"}));
  EPSIM_RETURN_IF_ERROR(CheckOneOf((*axes)[kP2p], "p2p", {"default", "on", "off", "auto"}));
  std::vector<std::string> canonical;
  for (const std::string& v : (*axes)[kDispatch].values) {
    auto strategy = dispatch::MakeStrategy(v);
    if (!strategy.ok()) return BadValue((*axes)[kDispatch].where, strategy.status().message());
    const std::string name = (*strategy)->name();
    if (std::find(canonical.begin(), canonical.end(), name) == canonical.end())
      canonical.push_back(name);
  }
  (*axes)[kDispatch].values = canonical;
  return Status::Ok();
}

// What one topology value resolves to.
struct TopologyInfo {
  uint32_t gpus = 0;
  bool calibrated = false;
};

Result<TopologyInfo> LoadTopologyInfo(const std::string& name, const std::string& where) {
  auto path = ResolveDataFile("topologies", name);
  if (!path.ok()) return path.status().WithContext(where);
  auto topo = topology::LoadTopology(*path);
  if (!topo.ok()) return topo.status().WithContext(where);
  EPSIM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(*path));
  TopologyInfo info;
  info.gpus = static_cast<uint32_t>(topology::RankNames(*topo).size());
  info.calibrated = text.find(kCalibratedMark) != std::string::npos;
  return info;
}

Status CheckInputs(const Axes& axes) {
  for (const std::string& model : axes[kModel].values) {
    if (model == "trace") continue;
    auto path = ResolveDataFile("models", model);
    if (!path.ok()) return path.status().WithContext(axes[kModel].where);
  }
  for (const std::string& trace : axes[kTrace].values) {
    std::error_code ec;
    if (trace != "synthetic" && !std::filesystem::is_regular_file(trace, ec))
      return Status::NotFound(fmt::format("{}: trace '{}': no such file", axes[kTrace].where, trace));
  }
  return Status::Ok();
}

// The point of one combination (`pick[i]`: the value of axis i).
Point MakePoint(const std::array<std::string, kNumAxes>& v, const TopologyInfo& topo) {
  Point p;
  const bool synthetic = v[kTrace] == "synthetic";
  p.flags.trace = synthetic ? "" : v[kTrace];
  p.flags.model = v[kModel] == "trace" ? "" : v[kModel];
  p.flags.topology = v[kTopology];
  const uint32_t ep = static_cast<uint32_t>(std::stoull(v[kEp]));
  p.flags.ep = ep == 0 ? topo.gpus : ep;
  if (synthetic) {
    p.flags.tokens = std::stoull(v[kTokens]);
    p.flags.tokens_given = true;
  }
  p.flags.seed = std::stoull(v[kSeed]);
  p.flags.pass = v[kPass];
  p.flags.overlap = v[kOverlap];
  p.flags.context = std::stoull(v[kContext]);
  p.dispatch = v[kDispatch];
  p.placement = v[kPlacement];
  p.p2p = v[kP2p] == "default" ? "" : v[kP2p];
  p.columns = {v[kModel] == "trace" ? "" : v[kModel], synthetic ? "" : v[kTrace],
               synthetic ? v[kTokens] : "", synthetic ? v[kSeed] : "", v[kTopology],
               topo.calibrated ? "yes" : "no", std::to_string(p.flags.ep), v[kPlacement],
               v[kDispatch], v[kPass], v[kOverlap], v[kContext], p.p2p};
  return p;
}

}  // namespace

Result<Axes> ParseSweepFile(const std::string& text, const std::string& path) {
  Axes axes;
  std::map<int, std::string> seen;
  std::stringstream in(text);
  int lineno = 0;
  for (std::string line; std::getline(in, line);)
    EPSIM_RETURN_IF_ERROR(ParseLine(line, fmt::format("{}:{}", path, ++lineno), &axes, &seen));
  return axes;
}

Result<Axes> CompleteAxes(const Axes& file, const Axes& flags) {
  static const std::array<const char*, kNumAxes> kDefaults = {
      plan::kDefaultModel, "synthetic", "16384", "1", "a6000-x4-pcie-gen4", "0", "contiguous",
      "classical", "prefill", "none", "0", "default"};
  Axes axes;
  for (int i = 0; i < kNumAxes; ++i) {
    if (!flags[i].values.empty()) axes[i] = flags[i];
    else if (!file[i].values.empty()) axes[i] = file[i];
    else axes[i] = Axis{{kDefaults[i]}, "default"};
  }
  // A trace names its model: without a model axis, "trace" (the trace's).
  const bool any_trace = std::any_of(axes[kTrace].values.begin(), axes[kTrace].values.end(),
                                     [](const std::string& t) { return t != "synthetic"; });
  if (any_trace && axes[kModel].where == "default") axes[kModel].values = {"trace"};
  // Token counts and seeds make synthetic routing: given with traces only,
  // they would change nothing.
  const bool any_synthetic = std::find(axes[kTrace].values.begin(), axes[kTrace].values.end(),
                                       "synthetic") != axes[kTrace].values.end();
  for (int i : {kTokens, kSeed})
    if (!any_synthetic && axes[i].where != "default")
      return Status::Usage(fmt::format("{}: {} applies to synthetic routing, and {} gives traces "
                                       "only (add 'synthetic' to the traces, or drop {})",
                                       axes[i].where, kAxisKeys[i], axes[kTrace].where,
                                       kAxisKeys[i]));
  EPSIM_RETURN_IF_ERROR(CheckAxes(&axes));
  return axes;
}

Result<std::vector<Point>> ExpandGrid(const Axes& axes, std::vector<std::string>* skipped) {
  EPSIM_RETURN_IF_ERROR(CheckInputs(axes));
  std::map<std::string, TopologyInfo> topologies;
  for (const std::string& t : axes[kTopology].values) {
    EPSIM_ASSIGN_OR_RETURN(topologies[t], LoadTopologyInfo(t, axes[kTopology].where));
  }
  std::vector<Point> points;
  std::set<std::string> keys;
  std::array<size_t, kNumAxes> index{};
  static const std::array<int, kNumAxes> kOrder = {kModel, kTrace, kTokens, kSeed, kTopology,
                                                   kEp, kPlacement, kPass, kOverlap, kContext,
                                                   kP2p, kDispatch};
  for (;;) {
    std::array<std::string, kNumAxes> v;
    for (int i = 0; i < kNumAxes; ++i) v[i] = axes[i].values[index[i]];
    const TopologyInfo& topo = topologies[v[kTopology]];
    const uint64_t ep = std::stoull(v[kEp]);
    if (ep > topo.gpus) {
      const std::string what = fmt::format("ep {} on {} ({} GPUs)", ep, v[kTopology], topo.gpus);
      if (std::find(skipped->begin(), skipped->end(), what) == skipped->end())
        skipped->push_back(what);
    } else if (Point p = MakePoint(v, topo); keys.insert(PointKey(p.columns)).second) {
      points.push_back(std::move(p));  // (a trace's points repeat over tokens and seed)
    }
    int k = kNumAxes - 1;
    for (; k >= 0; --k) {
      const int axis = kOrder[k];
      if (++index[axis] < axes[axis].values.size()) break;
      index[axis] = 0;
    }
    if (k < 0) break;
  }
  if (points.empty())
    return Status::Usage("the sweep has no point that fits its topologies (" +
                         fmt::format("{}", fmt::join(*skipped, "; ")) + ")");
  return points;
}

std::vector<Job> JobsOf(const std::vector<Point>& points) {
  std::vector<Job> jobs;
  for (size_t i = 0; i < points.size(); ++i) {
    std::vector<std::string> key = points[i].columns;
    key[8] = "";
    if (!jobs.empty()) {
      std::vector<std::string> prev = points[jobs.back().begin].columns;
      prev[8] = "";
      if (prev == key) {
        jobs.back().end = i + 1;
        continue;
      }
    }
    jobs.push_back({i, i + 1});
  }
  return jobs;
}

std::string PointKey(const std::vector<std::string>& columns) {
  std::string key;
  for (const std::string& c : columns) key += c + '\x1f';
  return key;
}

}  // namespace epsim::sweep
