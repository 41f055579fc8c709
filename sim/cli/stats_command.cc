// epsim stats --trace T --ep D [--json]
#include <iostream>

#include "sim/cli/commands.h"
#include "sim/plan/routing_stats.h"
#include "sim/report/stats_output.h"

namespace epsim::cli {
namespace {

struct StatsOptions {
  std::string trace;
  uint32_t ep = 4;
  std::string placement = "contiguous";
  bool json = false;
};

}  // namespace

Runner AddStatsCommand(CLI::App& app) {
  auto opt = std::make_shared<StatsOptions>();
  CLI::App* cmd = app.add_subcommand("stats", "Routing statistics of a trace for an EP size");
  cmd->add_option("--trace", opt->trace, "Trace file")->required();
  cmd->add_option("--ep", opt->ep, "Expert-parallel size (devices)")
      ->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  cmd->add_option("--placement", opt->placement, "Expert placement")->capture_default_str();
  cmd->add_flag("--json", opt->json, "Print JSON instead of a table");
  return [opt]() -> Status {
    EPSIM_ASSIGN_OR_RETURN(plan::RoutingStats stats,
                           plan::ComputeRoutingStats(opt->trace, opt->ep, opt->placement));
    if (opt->json)
      std::cout << report::RoutingStatsJson(stats);
    else
      report::WriteRoutingStatsTable(std::cout, opt->trace, stats);
    return Status::Ok();
  };
}

}  // namespace epsim::cli
