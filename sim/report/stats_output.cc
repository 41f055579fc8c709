#include "sim/report/stats_output.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <nlohmann/json.hpp>

#include "sim/report/version.h"

namespace epsim::report {
namespace {

using Json = nlohmann::ordered_json;

// The scalar columns, in output order, with how to read each from a row.
struct Column {
  const char* name;
  double plan::LayerStats::*field;
};
constexpr Column kColumns[] = {
    {"ct_mean", &plan::LayerStats::ct_mean},
    {"rows_classical", &plan::LayerStats::rows_classical},
    {"rows_dedup", &plan::LayerStats::rows_dedup},
    {"load_imbalance", &plan::LayerStats::load_imbalance},
    {"load_cv", &plan::LayerStats::load_cv},
    {"device_imbalance", &plan::LayerStats::device_imbalance},
    {"collab_intra", &plan::LayerStats::collab_intra},
    {"affinity_concentration", &plan::LayerStats::affinity_concentration},
    {"affinity_same_device", &plan::LayerStats::affinity_same_device},
};

bool IsAffinity(const Column& c) {
  return c.field == &plan::LayerStats::affinity_concentration ||
         c.field == &plan::LayerStats::affinity_same_device;
}

Json Matrix(const trace::CountMatrix& m) {
  Json rows = Json::array();
  for (uint32_t i = 0; i < m.n; ++i)
    rows.push_back(std::vector<uint64_t>(m.values.begin() + size_t{i} * m.n,
                                         m.values.begin() + size_t{i + 1} * m.n));
  return rows;
}

Json Square(const std::vector<uint64_t>& v, uint32_t n) {
  trace::CountMatrix m;
  m.n = n;
  m.values = v;
  return Matrix(m);
}

Json LayerJson(const plan::LayerStats& s, bool per_layer) {
  Json j;
  if (per_layer) {
    j["layer"] = s.layer;
    j["num_tokens"] = static_cast<uint64_t>(s.num_tokens);
  } else {
    j["num_tokens"] = s.num_tokens;  // a mean over layers
  }
  for (const Column& c : kColumns)
    if (!IsAffinity(c) || s.has_next_layer) j[c.name] = s.*c.field;
  return j;
}

void AddMatrices(const plan::RoutingStats& stats, size_t i, Json* j) {
  const plan::LayerDetail& d = stats.details[i];
  (*j)["device_load"] = d.device_load;
  (*j)["traffic_classical"] = Square(d.traffic_classical, stats.num_ranks);
  (*j)["traffic_dedup"] = Square(d.traffic_dedup, stats.num_ranks);
  auto t_it = std::find_if(stats.trace.layers.begin(), stats.trace.layers.end(),
                           [&](const auto& t) { return t.layer == stats.layers[i].layer; });
  if (t_it == stats.trace.layers.end()) return;  // a layer without tokens
  const trace::LayerRoutingStats& t = *t_it;
  (*j)["load"] = t.load;
  (*j)["coact"] = Matrix(t.coact);
  if (t.affinity.n > 0) {
    (*j)["affinity_next_layer"] = t.next_layer;
    (*j)["affinity"] = Matrix(t.affinity);
  }
}

std::string Cell(const plan::LayerStats& s, const Column& c) {
  return IsAffinity(c) && !s.has_next_layer ? "" : fmt::format("{}", s.*c.field);
}

}  // namespace

std::string RoutingStatsJson(const plan::RoutingStats& stats, bool matrices) {
  Json j;
  j["layers"] = Json::array();
  for (size_t i = 0; i < stats.layers.size(); ++i) {
    Json layer = LayerJson(stats.layers[i], true);
    if (matrices) AddMatrices(stats, i, &layer);
    j["layers"].push_back(std::move(layer));
  }
  j["mean"] = LayerJson(stats.mean, false);
  return j.dump(2) + "\n";
}

std::string RoutingStatsCsv(const plan::RoutingStats& stats) {
  std::string out = "layer,num_tokens";
  for (const Column& c : kColumns) out += fmt::format(",{}", c.name);
  out += "\n";
  auto row = [&](const std::string& layer, const plan::LayerStats& s) {
    out += fmt::format("{},{}", layer, s.num_tokens);
    for (const Column& c : kColumns) out += "," + Cell(s, c);
    out += "\n";
  };
  for (const plan::LayerStats& s : stats.layers) row(std::to_string(s.layer), s);
  row("mean", stats.mean);
  return out;
}

void WriteRoutingStatsTable(std::ostream& out, const std::string& trace_path,
                            const plan::RoutingStats& stats) {
  fmt::print(out, "# epsim {} stats\n# trace: {}\n# ep: {}  placement: {}\n", kEpsimVersion,
             trace_path, stats.num_ranks, stats.placement);
  if (!stats.experts_per_device.empty())
    fmt::print(out, "# experts per device: {}\n", stats.experts_per_device);
  fmt::print(out,
             "# ct = distinct devices per token; rows = rows per token leaving its device;\n"
             "# load = expert load max/mean and CV; dev = device load max/mean;\n"
             "# intra = co-activated pairs on one device; aff = next-layer affinity\n"
             "# concentration and same-device fraction (definitions: epsim stats --help)\n");
  fmt::print(out, "#{:>6} {:>10} {:>8} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
             "layer", "tokens", "ct", "rows_cls", "rows_ddp", "load_max", "load_cv", "dev_max",
             "intra", "aff_con", "aff_dev");
  auto row = [&](const std::string& layer, const plan::LayerStats& s, int digits) {
    const std::string aff_con =
        s.has_next_layer ? fmt::format("{:.4f}", s.affinity_concentration) : "-";
    const std::string aff_dev =
        s.has_next_layer ? fmt::format("{:.4f}", s.affinity_same_device) : "-";
    fmt::print(out,
               "{:>7} {:>10.{}f} {:>8.4f} {:>9.4f} {:>9.4f} {:>9.4f} {:>8.4f} {:>8.4f} {:>8.4f} "
               "{:>8} {:>8}\n",
               layer, s.num_tokens, digits, s.ct_mean, s.rows_classical, s.rows_dedup,
               s.load_imbalance, s.load_cv, s.device_imbalance, s.collab_intra, aff_con, aff_dev);
  };
  for (const plan::LayerStats& s : stats.layers) row(std::to_string(s.layer), s, 0);
  row("mean", stats.mean, 2);
}

}  // namespace epsim::report
