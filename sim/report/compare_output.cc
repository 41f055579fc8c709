#include "sim/report/compare_output.h"

#include <set>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <nlohmann/json.hpp>

#include "sim/report/version.h"

namespace epsim::report {
namespace {

using Json = nlohmann::ordered_json;

ComparisonRow Condense(const proto::Report& r) {
  ComparisonRow row;
  row.placement = r.placement();
  row.strategy = r.strategy();
  row.routing = r.routing();
  row.total_s = r.total_time_s();
  std::set<uint32_t> moe_layers;
  for (const proto::PhaseTiming& p : r.phases()) {
    const double t = p.critical_s();  // what the phase adds to the pass
    switch (p.kind()) {
      case proto::DISPATCH:
      case proto::DISPATCH_FORWARD: row.dispatch_s += t; break;
      case proto::EXPERT: row.expert_s += t, moe_layers.insert(p.layer()); break;
      case proto::COMBINE:
      case proto::COMBINE_GATHER:
      case proto::COMBINE_BACKWARD: row.combine_s += t; break;
      case proto::DISPATCH_BACKWARD: row.dispatch_s += t; break;
      case proto::EXPERT_BACKWARD: row.expert_s += t; break;
      default: break;
    }
  }
  row.layer_s = moe_layers.empty() ? 0 : row.total_s / moe_layers.size();
  return row;
}

// The column set shared by CSV and JSON, in order.
std::vector<std::pair<std::string, double>> Numbers(const ComparisonRow& r) {
  return {{"devices_per_token", r.routing.devices_per_token()},
          {"nodes_per_token", r.routing.nodes_per_token()},
          {"rows_per_token", r.routing.rows_per_token()},
          {"bytes_per_token", r.routing.bytes_per_token()},
          {"topk_changed", r.routing.topk_changed()},
          {"weight_kept", r.routing.weight_kept()},
          {"device_imbalance", r.routing.device_imbalance()},
          {"combine_rows_per_token", r.routing.combine_rows_per_token()},
          {"condensed_pairs", r.routing.condensed_pairs()},
          {"migrated_tokens", r.routing.migrated_tokens()},
          {"dispatch_us", r.dispatch_s * 1e6},
          {"expert_us", r.expert_s * 1e6},
          {"combine_us", r.combine_s * 1e6},
          {"layer_us", r.layer_s * 1e6},
          {"total_us", r.total_s * 1e6},
          {"speedup", r.speedup}};
}

void WriteConsole(std::ostream& out, const RunInfo& info, const std::vector<ComparisonRow>& rows) {
  fmt::print(out, "# epsim {} {}\n", kEpsimVersion, info.command);
  for (const auto& [k, v] : info.inputs) fmt::print(out, "#   {}: {}\n", k, v);
  for (const auto& [k, v] : info.settings) fmt::print(out, "#   {}: {}\n", k, v);
  for (const std::string& note : info.notes) fmt::print(out, "#   note: {}\n", note);
  fmt::print(out,
             "#\n# ct = mean devices per token; rows, bytes = dispatch rows/bytes per token that\n"
             "# leave their device (combine moves as much back but under Luffy, see below the\n"
             "# table); changed = share of top-k picks rerouted, kept = share of top-k gate\n"
             "# mass still used; dev = device load max/mean; times are critical-path times\n"
             "# (what the phases add to the pass) summed over the pass; layer = pass time /\n"
             "# MoE layers; speedup over classical with contiguous placement.\n");
  fmt::print(out, "#{:>13} {:>22} {:>6} {:>6} {:>9} {:>8} {:>6} {:>6} {:>12} {:>11} {:>12} {:>10} "
                  "{:>8}\n",
             "placement", "dispatch", "ct", "rows", "bytes", "changed", "kept", "dev",
             "dispatch(us)", "expert(us)", "combine(us)", "layer(us)", "speedup");
  for (const ComparisonRow& r : rows) {
    const proto::RoutingSummary& s = r.routing;
    fmt::print(out,
               "{:>14} {:>22} {:>6.3f} {:>6.3f} {:>9.0f} {:>7.1f}% {:>5.1f}% {:>6.3f} {:>12.2f} "
               "{:>11.2f} {:>12.2f} {:>10.2f} {:>7.2f}x\n",
               r.placement, r.strategy, s.devices_per_token(), s.rows_per_token(),
               s.bytes_per_token(), 100 * s.topk_changed(), 100 * s.weight_kept(),
               s.device_imbalance(), r.dispatch_s * 1e6, r.expert_s * 1e6, r.combine_s * 1e6,
               r.layer_s * 1e6, r.speedup);
  }
  // Luffy's combine returns elsewhere than the dispatch came from, and its
  // condensed pairs are not sent: what the table's columns cannot say.
  for (const ComparisonRow& r : rows) {
    const proto::RoutingSummary& s = r.routing;
    if (s.condensed_pairs() == 0 && s.migrated_tokens() == 0) continue;
    fmt::print(out,
               "# {} {}: combine {:.3f} rows per token leave their device; {:.1f}% of top-k "
               "pairs condensed (not sent); {:.1f}% of tokens combined on another device than "
               "their source (migrated)\n",
               r.placement, r.strategy, s.combine_rows_per_token(), 100 * s.condensed_pairs(),
               100 * s.migrated_tokens());
  }
}

void WriteCsv(std::ostream& out, const std::vector<ComparisonRow>& rows) {
  out << "placement,dispatch";
  if (!rows.empty())
    for (const auto& [name, v] : Numbers(rows.front())) out << "," << name;
  out << "\n";
  for (const ComparisonRow& r : rows) {
    out << r.placement << "," << r.strategy;
    for (const auto& [name, v] : Numbers(r)) out << fmt::format(",{}", v);
    out << "\n";
  }
}

void WriteJson(std::ostream& out, const RunInfo& info, const std::vector<ComparisonRow>& rows) {
  Json j;
  j["context"]["version"] = kEpsimVersion;
  j["context"]["command"] = info.command;
  for (const auto& [k, v] : info.inputs) j["context"]["inputs"][k] = v;
  for (const auto& [k, v] : info.settings) j["context"]["settings"][k] = v;
  if (!info.notes.empty()) j["context"]["notes"] = info.notes;
  j["rows"] = Json::array();
  for (const ComparisonRow& r : rows) {
    Json row{{"placement", r.placement}, {"dispatch", r.strategy}};
    for (const auto& [name, v] : Numbers(r)) row[name] = v;
    j["rows"].push_back(std::move(row));
  }
  out << j.dump(2) << "\n";
}

}  // namespace

std::vector<ComparisonRow> CompareReports(const std::vector<proto::Report>& reports) {
  std::vector<ComparisonRow> rows;
  double baseline_s = 0;
  for (const proto::Report& r : reports) {
    rows.push_back(Condense(r));
    if (r.strategy() == "classical" && r.placement() == "contiguous") baseline_s = r.total_time_s();
  }
  for (ComparisonRow& row : rows)
    row.speedup = baseline_s > 0 && row.total_s > 0 ? baseline_s / row.total_s : 0;
  return rows;
}

void WriteComparison(std::ostream& out, Format format, const RunInfo& info,
                     const std::vector<ComparisonRow>& rows) {
  switch (format) {
    case Format::kConsole: WriteConsole(out, info, rows); break;
    case Format::kCsv: WriteCsv(out, rows); break;
    case Format::kJson: WriteJson(out, info, rows); break;
  }
}

}  // namespace epsim::report
