// epsim stats --trace T --ep D [--format console|csv|json] [--matrices]
#include <iostream>

#include <fmt/format.h>

#include "sim/cli/commands.h"
#include "sim/placement/resolve.h"
#include "sim/plan/routing_stats.h"
#include "sim/report/stats_output.h"

namespace epsim::cli {
namespace {

struct StatsOptions {
  std::string trace;
  uint32_t ep = 4;
  std::string placement = "contiguous";
  std::string format = "console";
  bool json = false;
  bool matrices = false;
};

constexpr char kHelpFooter[] =
    "Per layer: ct_mean = mean distinct devices a token's experts live on (its own device\n"
    "counted when one of its experts is there); rows_classical / rows_dedup = mean rows per\n"
    "token leaving its device; load_imbalance, load_cv = max/mean and CV of tokens per\n"
    "expert; device_imbalance = max/mean of expert-token pairs per device; collab_intra =\n"
    "fraction of co-activated expert pairs on one device; affinity_concentration = share of\n"
    "next-layer picks going to each expert's most frequent successor; affinity_same_device =\n"
    "share of (this layer, next layer) pick pairs on one device. --matrices adds, in JSON,\n"
    "per-expert load, per-device load, the co-activation and affinity matrices and the\n"
    "[src][dst] row matrices of classical and dedup dispatch.";

}  // namespace

Runner AddStatsCommand(CLI::App& app) {
  auto opt = std::make_shared<StatsOptions>();
  CLI::App* cmd = app.add_subcommand("stats", "Routing statistics of a trace for an EP size");
  cmd->add_option("--trace", opt->trace, "Trace file")->required();
  cmd->add_option("--ep", opt->ep, "Expert-parallel size (devices)")
      ->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  cmd->add_option("--placement", opt->placement,
                  "Expert placement: contiguous, round-robin, occult, partition, replicate[:N] "
                  "(computed from the trace itself) or a placement file")
      ->capture_default_str();
  cmd->add_option("--format", opt->format, "console, csv or json")
      ->check(CLI::IsMember({"console", "csv", "json"}))
      ->capture_default_str();
  cmd->add_flag("--json", opt->json, "Same as --format json");
  cmd->add_flag("--matrices", opt->matrices, "JSON: add load vectors and matrices per layer");
  cmd->footer(kHelpFooter);
  CLI::Option* format_flag = cmd->get_option("--format");
  return [opt, format_flag]() -> Status {
    if (opt->json && format_flag->count() > 0 && opt->format != "json")
      return Status::Usage(fmt::format("--json and --format {} contradict: give one", opt->format));
    EPSIM_ASSIGN_OR_RETURN(
        placement::LayerPlacements placements,
        placement::ResolvePlacement(opt->placement, opt->ep, opt->trace, nullptr));
    EPSIM_ASSIGN_OR_RETURN(plan::RoutingStats stats,
                           plan::ComputeRoutingStats(opt->trace, opt->ep, placements));
    const std::string format = opt->json ? "json" : opt->format;
    if (opt->matrices && format != "json")
      return Status::Usage("--matrices needs --format json");
    if (format == "json")
      std::cout << report::RoutingStatsJson(stats, opt->matrices);
    else if (format == "csv")
      std::cout << report::RoutingStatsCsv(stats);
    else
      report::WriteRoutingStatsTable(std::cout, opt->trace, stats);
    return Status::Ok();
  };
}

}  // namespace epsim::cli
