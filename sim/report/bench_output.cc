#include "sim/report/bench_output.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "sim/report/version.h"
#include <algorithm>

namespace epsim::report {
namespace {

double AvgBusBw(const BenchTable& table) {
  if (table.rows.empty()) return 0;
  double sum = 0;
  for (const BenchRow& row : table.rows) sum += row.busbw_gbps;
  return sum / table.rows.size();
}

constexpr const char* kAllToAllMetrics =
    "algbw = size / time, busbw = algbw x (n-1)/n for all-to-all, = algbw for sendrecv "
    "(GB = 1e9 B)";

constexpr const char* kAllToAllvMetrics =
    "algbw = size / time, busbw = maxrank / time (the bytes the most-loaded rank sends or "
    "receives over links: = algbw x (n-1)/n for a uniform matrix, = algbw with a zero "
    "diagonal); size = mean bytes per rank, diagonal included (GB = 1e9 B)";

void WriteLaunch(std::ostream& out, const BenchLaunch& l);

void WriteConsoleHeader(std::ostream& out, const RunInfo& info,
                        const std::string& source = "simulated", bool bandwidth = true,
                        const std::string& metrics = kAllToAllMetrics,
                        const BenchLaunch* launch = nullptr) {
  out << fmt::format("# epsim {} {} ({})\n#\n", kEpsimVersion, info.command, source);
  for (const auto* group : {&info.inputs, &info.settings}) {
    out << (group == &info.inputs ? "# Inputs:\n" : "# Settings:\n");
    for (const auto& [key, value] : *group) out << fmt::format("#   {}: {}\n", key, value);
  }
  if (!bandwidth) {
    out << "#\n";
    return;
  }
  out << "#\n";
  if (launch) WriteLaunch(out, *launch);
  out << "# " << metrics << "\n";
  out << (source == "simulated"
              ? "# Out-of-place columns only: a simulated in-place run takes the same time\n#\n"
              : "# Out-of-place columns only (time: mean over -n iterations, max over ranks)\n#\n");
}

// nccl-tests' `# nThread` line and device block (src/util.cu).
void WriteLaunch(std::ostream& out, const BenchLaunch& l) {
  out << fmt::format(
      "# nThread {} nGpus {} minBytes {} maxBytes {} step: {}({}) warmup iters: {} iters: {} agg "
      "iters: {} validation: {} graph: 0 unalign: 0\n#\n",
      l.threads, l.gpus_per_thread, l.min_bytes, l.max_bytes, l.step,
      l.step_is_factor ? "factor" : "bytes", l.warmup_iters, l.iters, l.agg_iters, l.validation);
  if (l.ranks.empty()) return;
  out << "# Using devices\n";
  for (const BenchLaunch::Rank& r : l.ranks)
    out << fmt::format("#  Rank {:2} Group  0 Pid {:6} on {:>10} device {:2} [{}] {}\n", r.rank,
                       r.process, r.host, r.device, r.bus, r.name);
  out << "#\n";
}

void WriteConsole(std::ostream& out, const RunInfo& info, const BenchTable& table) {
  const char* default_metrics = table.show_max_rank ? kAllToAllvMetrics : kAllToAllMetrics;
  WriteConsoleHeader(out, info, table.source, true,
                     table.metrics.empty() ? default_metrics : table.metrics,
                     table.launch ? &*table.launch : nullptr);
  const char* max_head = table.show_max_rank ? "      maxrank" : "";
  const char* max_unit = table.show_max_rank ? "          (B)" : "";
  out << fmt::format("#                                                  out-of-place\n");
  out << fmt::format("# {:>10}  {:>12}  {:>6}  {:>6}  {:>6}  {:>10}  {:>8}  {:>8}  {:>6}{}\n",
                     "size", "count", "type", "redop", "root", "time", "algbw", "busbw",
                     "#wrong", max_head);
  out << fmt::format("# {:>10}  {:>12}  {:>6}  {:>6}  {:>6}  {:>10}  {:>8}  {:>8}  {:>6}{}\n",
                     "(B)", "(elements)", "", "", "", "(us)", "(GB/s)", "(GB/s)", "", max_unit);
  for (const BenchRow& r : table.rows) {
    out << fmt::format("  {:>10}  {:>12}  {:>6}  {:>6}  {:>6}  {:>10.2f}  {:>8.2f}  {:>8.2f}  {:>6}",
                       r.bytes, r.count, table.type, table.redop, -1, r.time_s * 1e6, r.algbw_gbps,
                       r.busbw_gbps, r.wrong < 0 ? std::string("N/A") : std::to_string(r.wrong));
    if (table.show_max_rank) out << fmt::format("  {:>11}", r.max_rank_bytes);
    out << "\n";
  }
  out << "# Out of bounds values : 0 OK\n";
  out << fmt::format("# Avg bus bandwidth    : {:.4f}\n#\n", AvgBusBw(table));
}

void WriteCsv(std::ostream& out, const BenchTable& table) {
  out << "size_bytes,count,type,redop,root,time_us,algbw_gbps,busbw_gbps,max_rank_bytes\n";
  for (const BenchRow& r : table.rows)
    out << fmt::format("{},{},{},{},-1,{:.6f},{:.6f},{:.6f},{}\n", r.bytes, r.count, table.type,
                       table.redop, r.time_s * 1e6, r.algbw_gbps, r.busbw_gbps, r.max_rank_bytes);
}

void WriteJson(std::ostream& out, const RunInfo& info, const BenchTable& table) {
  nlohmann::ordered_json doc;
  doc["context"]["epsim_version"] = kEpsimVersion;
  doc["context"]["command"] = info.command;
  doc["context"]["source"] = table.source;
  for (const auto& [key, value] : info.inputs) doc["context"]["inputs"][key] = value;
  for (const auto& [key, value] : info.settings) doc["context"]["settings"][key] = value;
  doc["results"] = nlohmann::ordered_json::array();
  for (const BenchRow& r : table.rows) {
    doc["results"].push_back({{"size_bytes", r.bytes},
                              {"count", r.count},
                              {"type", table.type},
                              {"redop", table.redop},
                              {"root", -1},
                              {"time_us", r.time_s * 1e6},
                              {"algbw_gbps", r.algbw_gbps},
                              {"busbw_gbps", r.busbw_gbps},
                              {"max_rank_bytes", r.max_rank_bytes},
                              {"wrong", r.wrong}});
  }
  doc["avg_busbw_gbps"] = AvgBusBw(table);
  out << doc.dump(2) << "\n";
}

void WriteGemmConsole(std::ostream& out, const RunInfo& info, const std::vector<GemmRow>& rows,
                      double best) {
  WriteConsoleHeader(out, info, "measured", false);
  out << fmt::format("# {:>8}  {:>12}  {:>10}  {:>10}  {:>6}\n", "tokens", "time(us)", "GFLOP",
                     "GFLOP/s", "eff");
  for (const GemmRow& r : rows) {
    const double rate = r.time_s > 0 ? r.flops / r.time_s / 1e9 : 0;
    out << fmt::format("  {:>8}  {:>12.2f}  {:>10.4f}  {:>10.2f}  {:>6.3f}\n", r.tokens,
                       r.time_s * 1e6, r.flops / 1e9, rate, best > 0 ? rate / best : 0);
  }
  out << "# eff = GFLOP/s / the sweep's best GFLOP/s\n";
}

}  // namespace

void WriteGemmSweep(std::ostream& out, Format format, const RunInfo& info,
                    const std::vector<GemmRow>& rows) {
  double best = 0;
  for (const GemmRow& r : rows)
    if (r.time_s > 0) best = std::max(best, r.flops / r.time_s / 1e9);
  if (format == Format::kConsole) return WriteGemmConsole(out, info, rows, best);
  if (format == Format::kCsv) {
    out << "tokens,time_us,gflop,gflops,efficiency\n";
    for (const GemmRow& r : rows) {
      const double rate = r.time_s > 0 ? r.flops / r.time_s / 1e9 : 0;
      out << fmt::format("{},{:.6f},{:.6f},{:.6f},{:.6f}\n", r.tokens, r.time_s * 1e6,
                         r.flops / 1e9, rate, best > 0 ? rate / best : 0);
    }
    return;
  }
  nlohmann::ordered_json doc;
  doc["context"]["epsim_version"] = kEpsimVersion;
  doc["context"]["command"] = info.command;
  doc["context"]["source"] = "measured";
  for (const auto& [key, value] : info.inputs) doc["context"]["inputs"][key] = value;
  for (const auto& [key, value] : info.settings) doc["context"]["settings"][key] = value;
  doc["results"] = nlohmann::ordered_json::array();
  for (const GemmRow& r : rows)
    doc["results"].push_back({{"tokens", r.tokens}, {"time_us", r.time_s * 1e6},
                              {"gflop", r.flops / 1e9},
                              {"gflops", r.time_s > 0 ? r.flops / r.time_s / 1e9 : 0.0}});
  out << doc.dump(2) << "\n";
}

void WriteBench(std::ostream& out, Format format, const RunInfo& info, const BenchTable& table) {
  switch (format) {
    case Format::kConsole: return WriteConsole(out, info, table);
    case Format::kCsv: return WriteCsv(out, table);
    case Format::kJson: return WriteJson(out, info, table);
  }
}

}  // namespace epsim::report
