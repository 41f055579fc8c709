// Aggregate fitting targets from JSON files (formats in fit.h).
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <numeric>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim/base/output_file.h"
#include "sim/synth/fit.h"
#include "sim/synth/random.h"
#include "sim/synth/sglang_counts.h"

namespace epsim::synth {
namespace {

using nlohmann::json;

Result<json> ParseFile(const std::string& path) {
  EPSIM_RETURN_IF_ERROR(CheckInputPath(path));
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  try {
    return json::parse(in);
  } catch (const std::exception& e) {
    return Status::BadInput(fmt::format("{}: {}", path, e.what()));
  }
}

// layer id -> one vector (loads) or one flattened E x E matrix.
using PerLayer = std::map<uint32_t, std::vector<double>>;

Result<PerLayer> ReadLoads(const json& root, const std::string& key, uint32_t e) {
  const json* j = &root;
  if (!root.contains("load") && !root.contains("counts")) {
    if (key.empty()) return Status::BadInput("no \"load\" member; name the entry with --load-key");
    if (!root.contains(key)) return Status::BadInput(fmt::format("no entry \"{}\"", key));
    j = &root.at(key);
  }
  const auto layers = j->at("layers").get<std::vector<uint32_t>>();
  const auto rows = j->at(j->contains("load") ? "load" : "counts").get<std::vector<std::vector<double>>>();
  if (rows.size() != layers.size())
    return Status::BadInput(fmt::format("{} layers but {} load rows", layers.size(), rows.size()));
  PerLayer out;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].size() != e)
      return Status::BadInput(fmt::format("layer {}: {} loads, the model has {} experts", layers[i], rows[i].size(), e));
    for (double x : rows[i])
      if (!(x >= 0)) return Status::BadInput(fmt::format("layer {}: negative load", layers[i]));
    out[layers[i]] = rows[i];
  }
  return out;
}

Result<PerLayer> ReadMatrices(const json& root, const std::string& key, uint32_t e) {
  std::vector<uint32_t> layers;
  const json* mats = nullptr;
  if (root.contains("coact")) {
    layers = root.at("layers").get<std::vector<uint32_t>>();
    mats = &root.at("coact");
  } else {
    if (!root.contains("matrices") || !root.at("matrices").contains(key))
      return Status::BadInput(fmt::format("no \"coact\" member nor \"matrices\".\"{}\"", key));
    mats = &root.at("matrices").at(key);
    const json& l = root.at("layers");
    if (l.is_number()) {
      layers.resize(l.get<uint32_t>());
      std::iota(layers.begin(), layers.end(), 0);
    } else {
      layers = l.get<std::vector<uint32_t>>();
    }
  }
  const auto m = mats->get<std::vector<std::vector<std::vector<double>>>>();
  if (m.size() != layers.size())
    return Status::BadInput(fmt::format("{} layers but {} matrices", layers.size(), m.size()));
  PerLayer out;
  for (size_t i = 0; i < m.size(); ++i) {
    std::vector<double>& flat = out[layers[i]];
    if (m[i].size() != e) return Status::BadInput(fmt::format("layer {}: matrix is not {} x {}", layers[i], e, e));
    for (uint32_t r = 0; r < e; ++r) {
      if (m[i][r].size() != e) return Status::BadInput(fmt::format("layer {} row {}: not {} entries", layers[i], r, e));
      for (uint32_t c = 0; c < e; ++c) {
        if (!(m[i][r][c] >= 0)) return Status::BadInput(fmt::format("layer {}: negative count", layers[i]));
        flat.push_back(r == c ? 0.0 : m[i][r][c]);
      }
    }
  }
  return out;
}

// A load for `layer` from the given ones: its own, else the sorted profiles of
// the nearest given layers on each side mixed geometrically by distance,
// dealt to experts by a seeded shuffle.
std::vector<double> LoadFor(const PerLayer& given, uint32_t layer, uint64_t seed) {
  if (auto it = given.find(layer); it != given.end()) return it->second;
  auto hi = given.lower_bound(layer);
  auto lo = hi == given.begin() ? hi : std::prev(hi);
  if (hi == given.end()) hi = lo;
  auto profile = [](std::vector<double> v) {
    const double mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
    for (double& x : v) x = std::max(x / std::max(mean, 1e-300), 1e-6);
    std::sort(v.begin(), v.end());
    return v;
  };
  const auto a = profile(lo->second), b = profile(hi->second);
  const double f = hi->first == lo->first ? 0.0 : double(layer - lo->first) / (hi->first - lo->first);
  std::vector<double> mixed(a.size());
  for (size_t x = 0; x < a.size(); ++x) mixed[x] = std::exp((1 - f) * std::log(a[x]) + f * std::log(b[x]));
  UniformSource rng(seed * 7777 + layer);
  for (uint32_t x = static_cast<uint32_t>(mixed.size()) - 1; x > 0; --x) std::swap(mixed[x], mixed[rng.Below(x + 1)]);
  return mixed;
}

Result<PerLayer> ReadJsonLoads(const std::string& path, const std::string& key, uint32_t e) {
  EPSIM_ASSIGN_OR_RETURN(json root, ParseFile(path));
  try {
    Result<PerLayer> l = ReadLoads(root, key, e);
    if (!l.ok()) return l.status().WithContext(path);
    return l;
  } catch (const std::exception& ex) {
    return Status::BadInput(fmt::format("{}: {}", path, ex.what()));
  }
}

// The load files' counts per layer, and what they held in `read`. Several
// files are summed, which only SGLang's per-rank dumps call for.
Result<PerLayer> ReadLoadFiles(const TargetFiles& f, uint32_t e, FitTargets::LoadRead* read) {
  const bool csv = LooksLikeSglangCounts(f.load_paths[0]);
  for (const std::string& path : f.load_paths)
    if (f.load_paths.size() > 1 && !LooksLikeSglangCounts(path))
      return Status::Usage(fmt::format("--load: {} is JSON; only SGLang CSV dumps are summed over several files", path));
  if (csv && !f.load_key.empty())
    return Status::Usage(fmt::format("--load-key names an entry of a JSON load file; {} is an SGLang CSV", f.load_paths[0]));
  PerLayer loads;
  if (csv) {
    EPSIM_ASSIGN_OR_RETURN(ExpertCounts counts, ReadSglangCounts(f.load_paths, e));
    for (const auto& [layer, c] : counts.per_layer) loads[layer].assign(c.begin(), c.end());
  } else {
    EPSIM_ASSIGN_OR_RETURN(loads, ReadJsonLoads(f.load_paths[0], f.load_key, e));
  }
  read->format = csv ? "SGLang CSV" : "JSON";
  read->files = f.load_paths;
  for (const auto& [layer, l] : loads) {
    read->layers.push_back(layer);
    read->total_picks += std::accumulate(l.begin(), l.end(), 0.0);
  }
  return loads;
}

}  // namespace

Result<FitTargets> TargetsFromFiles(const TargetFiles& f, const std::string& model, uint32_t e,
                                    uint32_t k, const std::vector<uint32_t>& layers) {
  if (f.load_paths.empty() && f.coact_path.empty()) return Status::Usage("fit: no load or co-activation file");
  FitTargets t;
  PerLayer loads, mats;
  if (!f.load_paths.empty()) {
    EPSIM_ASSIGN_OR_RETURN(loads, ReadLoadFiles(f, e, &t.load_read));
  }
  if (!f.coact_path.empty()) {
    EPSIM_ASSIGN_OR_RETURN(json root, ParseFile(f.coact_path));
    try {
      Result<PerLayer> m = ReadMatrices(root, f.coact_key, e);
      if (!m.ok()) return m.status().WithContext(f.coact_path);
      mats = std::move(m).value();
    } catch (const std::exception& ex) {
      return Status::BadInput(fmt::format("{}: {}", f.coact_path, ex.what()));
    }
    if (k < 2) return Status::BadInput(fmt::format("{}: co-activation needs top-k >= 2", f.coact_path));
  }
  if (loads.empty())
    for (const auto& [layer, m] : mats) {
      std::vector<double>& load = loads[layer];
      for (uint32_t r = 0; r < e; ++r)
        load.push_back(std::accumulate(m.begin() + size_t{r} * e, m.begin() + size_t{r + 1} * e, 0.0) / (k - 1));
    }
  t.model = model;
  t.num_experts = e;
  t.num_topk = k;
  std::string load_source;
  for (const std::string& p : f.load_paths) load_source += (load_source.empty() ? "" : ", ") + p;
  t.source = load_source.empty() ? f.coact_path : load_source;
  if (!f.load_key.empty()) t.source += " [" + f.load_key + "]";
  if (!f.coact_path.empty() && !load_source.empty()) t.source += " and " + f.coact_path;
  for (uint32_t layer : layers) {
    LayerFitTargets& lt = t.layers.emplace_back();
    lt.layer = layer;
    lt.load = LoadFor(loads, layer, f.seed);
    if (auto it = mats.find(layer); it != mats.end()) lt.coact = it->second;
  }
  return t;
}

}  // namespace epsim::synth
