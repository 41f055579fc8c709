// JSON form of a RoutingModel (`epsim synth --save-params` / `--params`).
//
//   {"format": "epsim-routing-model", "version": 1,
//    "model": "olmoe-1b-7b", "description": "how it was made",
//    "num_experts": 64, "num_topk": 8,
//    "score_sharpness": 1.0, "normalize_topk": false,
//    "layers": [{"layer": 0,
//                "popularity": [E numbers > 0],
//                "sequence_strength": 0.5, "carry_strength": 1.0,
//                "successor": [E expert ids]           (absent on the first layer)
//                "groups": {"expert_group": [E group ids], "strength": 1.5}
//                   or
//                "topics": {"weight": [M], "anchor": [M ids or -1], "boost": [M][E]}
//               }, ...]}
//
// "groups" is the compact form of M = (max id + 1) equally likely topics,
// topic g multiplying the weight of its experts by exp(strength). Meanings of
// the fields are in model.h. Numbers are written to 6 significant
// digits: the files are small and diff well, and generation is still
// deterministic for the file as written.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim/base/file_util.h"
#include "sim/base/output_file.h"
#include "sim/synth/model.h"

namespace epsim::synth {
namespace {

using nlohmann::json;

double Round6(double x) {
  if (x == 0 || !std::isfinite(x)) return x;
  const double scale = std::pow(10.0, 5 - std::floor(std::log10(std::abs(x))));
  return std::round(x * scale) / scale;
}

json Rounded(const std::vector<double>& v) {
  json out = json::array();
  for (double x : v) out.push_back(Round6(x));
  return out;
}

// The group form, when the topics are exactly that; else null.
json GroupForm(const LayerRoutingModel& l, uint32_t e) {
  const uint32_t m = l.num_topics();
  std::vector<int> group(e, -1);
  std::set<double> boosts;
  for (uint32_t z = 0; z < m; ++z) {
    if (l.topic_anchor[z] != -1 || l.topic_weight[z] != l.topic_weight[0]) return nullptr;
    for (uint32_t x = 0; x < e; ++x) {
      const double b = l.topic_boost[size_t{z} * e + x];
      if (b == 1.0) continue;
      if (group[x] != -1) return nullptr;
      group[x] = static_cast<int>(z);
      boosts.insert(b);
    }
  }
  if (boosts.size() != 1) return nullptr;
  for (int g : group)
    if (g == -1) return nullptr;
  return json{{"expert_group", group}, {"strength", Round6(std::log(*boosts.begin()))}};
}

json LayerToJson(const LayerRoutingModel& l, uint32_t e) {
  json j = {{"layer", l.layer},
            {"popularity", Rounded(l.popularity)},
            {"sequence_strength", Round6(l.sequence_strength)},
            {"carry_strength", Round6(l.carry_strength)}};
  if (!l.successor.empty()) j["successor"] = l.successor;
  if (json g = GroupForm(l, e); !g.is_null()) {
    j["groups"] = g;
    return j;
  }
  json boost = json::array();
  for (uint32_t z = 0; z < l.num_topics(); ++z)
    boost.push_back(Rounded(std::vector<double>(l.topic_boost.begin() + size_t{z} * e,
                                                l.topic_boost.begin() + size_t{z + 1} * e)));
  j["topics"] = {{"weight", Rounded(l.topic_weight)}, {"anchor", l.topic_anchor}, {"boost", boost}};
  return j;
}

LayerRoutingModel LayerFromJson(const json& j, uint32_t e) {
  LayerRoutingModel l;
  l.layer = j.at("layer").get<uint32_t>();
  l.popularity = j.at("popularity").get<std::vector<double>>();
  l.sequence_strength = j.value("sequence_strength", 0.0);
  l.carry_strength = j.value("carry_strength", 0.0);
  if (j.contains("successor")) l.successor = j.at("successor").get<std::vector<uint32_t>>();
  if (j.contains("groups")) {
    const auto group = j.at("groups").at("expert_group").get<std::vector<uint32_t>>();
    const double boost = std::exp(j.at("groups").at("strength").get<double>());
    const uint32_t m = group.empty() ? 0 : *std::max_element(group.begin(), group.end()) + 1;
    l.topic_weight.assign(m, 1.0);
    l.topic_anchor.assign(m, -1);
    l.topic_boost.assign(size_t{m} * e, 1.0);
    if (group.size() != e) throw std::invalid_argument("expert_group needs one group per expert");
    for (uint32_t x = 0; x < e; ++x) l.topic_boost[size_t{group[x]} * e + x] = boost;
    return l;
  }
  const json& t = j.at("topics");
  l.topic_weight = t.at("weight").get<std::vector<double>>();
  l.topic_anchor = t.at("anchor").get<std::vector<int32_t>>();
  for (const json& row : t.at("boost")) {
    const auto v = row.get<std::vector<double>>();
    if (v.size() != e) throw std::invalid_argument("a boost row needs one entry per expert");
    l.topic_boost.insert(l.topic_boost.end(), v.begin(), v.end());
  }
  return l;
}

}  // namespace

Status SaveRoutingModel(const RoutingModel& m, const std::string& path) {
  EPSIM_RETURN_IF_ERROR(ValidateRoutingModel(m).WithContext(path));
  json j = {{"format", "epsim-routing-model"}, {"version", 1},
            {"model", m.model}, {"description", m.description},
            {"num_experts", m.num_experts}, {"num_topk", m.num_topk},
            {"score_sharpness", Round6(m.score_sharpness)}, {"normalize_topk", m.normalize_topk}};
  json layers = json::array();
  for (const LayerRoutingModel& l : m.layers) layers.push_back(LayerToJson(l, m.num_experts));
  // One layer per line: readable diffs without a 10,000-line file.
  std::string top = j.dump(1);
  top.erase(top.find_last_of('}'));
  while (!top.empty() && (top.back() == '\n' || top.back() == ' ')) top.pop_back();
  std::string text = top + ",\n \"layers\": [\n";
  for (size_t i = 0; i < layers.size(); ++i)
    text += "  " + layers[i].dump() + (i + 1 < layers.size() ? ",\n" : "\n");
  text += " ]\n}\n";
  return WriteFileAtomically(path, text);
}

Result<RoutingModel> LoadRoutingModel(const std::string& path) {
  EPSIM_RETURN_IF_ERROR(CheckInputPath(path));
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  RoutingModel m;
  try {
    const json j = json::parse(in);
    if (j.value("format", "") != "epsim-routing-model")
      return Status::BadInput(fmt::format("{}: not an epsim routing model (\"format\")", path));
    m.model = j.value("model", "");
    m.description = j.value("description", "");
    m.num_experts = j.at("num_experts").get<uint32_t>();
    m.num_topk = j.at("num_topk").get<uint32_t>();
    m.score_sharpness = j.value("score_sharpness", 1.0);
    m.normalize_topk = j.value("normalize_topk", false);
    for (const json& l : j.at("layers")) m.layers.push_back(LayerFromJson(l, m.num_experts));
  } catch (const std::exception& e) {
    return Status::BadInput(fmt::format("{}: {}", path, e.what()));
  }
  EPSIM_RETURN_IF_ERROR(ValidateRoutingModel(m).WithContext(path));
  return m;
}

}  // namespace epsim::synth
