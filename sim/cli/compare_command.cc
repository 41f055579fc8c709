// epsim compare: every (placement, dispatch) combination on one trace,
// model, topology and EP size, one row each, with speedup over classical
// dispatch with contiguous placement (always simulated as the baseline).
#include <algorithm>
#include <iostream>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "sim/base/string_util.h"
#include "sim/cli/commands.h"
#include "sim/cli/inputs.h"
#include "sim/dispatch/strategy.h"
#include "sim/placement/placement.h"
#include "sim/placement/resolve.h"
#include "sim/report/compare_output.h"

namespace epsim::cli {
namespace {

struct CompareOptions {
  NetworkFlags network;  // --max-inflight, --p2p, --granularity
  RunFlags run;
  std::string placements = "contiguous";
  std::string dispatch = "classical,dedup";
  std::string format = "console";
};

// The combinations to run, baseline first when the user did not list it.
// Strategies go by their canonical names (MakeStrategy's name()); a
// placement or strategy listed twice runs once and is named in the
// repeated_* lists (header notes).
struct Combination {
  std::string placement;
  std::string dispatch;
};
struct CombinationList {
  std::vector<Combination> combinations;
  std::vector<std::unique_ptr<dispatch::Strategy>> strategies;  // the distinct ones listed
  std::vector<std::string> repeated_placements;
  std::vector<std::string> repeated_dispatch;
};

// `items` without repeats, first appearances kept; each repeated item once
// in `repeated`.
std::vector<std::string> Unique(const std::vector<std::string>& items,
                                std::vector<std::string>* repeated) {
  std::vector<std::string> out;
  for (const std::string& item : items) {
    if (std::find(out.begin(), out.end(), item) == out.end()) {
      out.push_back(item);
    } else if (std::find(repeated->begin(), repeated->end(), item) == repeated->end()) {
      repeated->push_back(item);
    }
  }
  return out;
}

Result<CombinationList> Combinations(const CompareOptions& opt) {
  CombinationList list;
  EPSIM_ASSIGN_OR_RETURN(auto placements, SplitCommaList(opt.placements, "placement list"));
  EPSIM_ASSIGN_OR_RETURN(list.strategies,
                         dispatch::MakeStrategies(opt.dispatch, &list.repeated_dispatch));
  for (const std::string& p : Unique(placements, &list.repeated_placements))
    for (const auto& d : list.strategies) list.combinations.push_back({p, d->name()});
  const bool has_baseline =
      std::any_of(list.combinations.begin(), list.combinations.end(), [](const Combination& c) {
        return c.placement == "contiguous" && c.dispatch == "classical";
      });
  if (!has_baseline)
    list.combinations.insert(list.combinations.begin(), {"contiguous", "classical"});
  return list;
}

// Placements are computed once per name and reused across strategies;
// replicate takes its primary copies from partition (computed for it if the
// list does not have it).
class PlacementCache {
 public:
  PlacementCache(const RunFlags& flags, const RunInputs& in) : flags_(flags), in_(in) {}
  Result<const placement::LayerPlacements*> Get(const std::string& name) {
    auto it = cache_.find(name);
    if (it == cache_.end()) {
      const placement::LayerPlacements* partition = nullptr;
      if (placement::BuildsOnPartition(name)) {
        EPSIM_ASSIGN_OR_RETURN(partition, Get("partition"));
      }
      EPSIM_ASSIGN_OR_RETURN(placement::LayerPlacements p,
                             PlacementFor(flags_, in_, name, partition));
      it = cache_.emplace(name, std::move(p)).first;
    }
    return &it->second;
  }

 private:
  const RunFlags& flags_;
  const RunInputs& in_;
  std::map<std::string, placement::LayerPlacements> cache_;
};

// "experts per device" header lines: one when every placement shares the
// counts, else one per placement in the order run.
InputLines ExpertsPerDevice(const std::vector<Combination>& combinations,
                            PlacementCache* placements) {
  InputLines lines;
  for (const Combination& c : combinations) {
    auto p = placements->Get(c.placement);  // computed while planning: cannot fail here
    const std::string key = "experts per device (" + c.placement + ")";
    if (p.ok() && std::none_of(lines.begin(), lines.end(), [&](const auto& l) {
          return l.first == key;
        }))
      lines.push_back({key, placement::DescribeExpertsPerDevice(**p)});
  }
  const bool same = std::all_of(lines.begin(), lines.end(), [&](const auto& l) {
    return l.second == lines.front().second;
  });
  if (same && !lines.empty()) return {{"experts per device", lines.front().second}};
  return lines;
}

Result<proto::Schedule> Plan(const RunInputs& in, const Combination& c, PlacementCache* placements,
                             ProfileCache* profiles) {
  EPSIM_ASSIGN_OR_RETURN(auto strategy, dispatch::MakeStrategy(c.dispatch));
  EPSIM_ASSIGN_OR_RETURN(const placement::LayerPlacements* p, placements->Get(c.placement));
  return PlanFor(in, *p, *strategy, profiles);
}

Status Run(const CompareOptions& opt, const std::vector<std::string>& simgrid_args) {
  EPSIM_ASSIGN_OR_RETURN(report::Format format, report::ParseFormat(opt.format));
  EPSIM_ASSIGN_OR_RETURN(RunInputs in, LoadRunInputs(opt.run));
  EPSIM_ASSIGN_OR_RETURN(CombinationList list, Combinations(opt));
  ProfileCache profiles(opt.run, in);
  PlacementCache placements(opt.run, in);
  std::vector<proto::Schedule> schedules;
  for (const Combination& c : list.combinations) {
    auto schedule = Plan(in, c, &placements, &profiles);
    if (!schedule.ok())
      return schedule.status().WithContext(c.placement + " x " + c.dispatch);
    schedules.push_back(std::move(schedule).value());
  }
  EPSIM_ASSIGN_OR_RETURN(engine::SimOptions sim_options, SimOptionsOf(opt.network, simgrid_args));
  EPSIM_ASSIGN_OR_RETURN(SimulatedRun run,
                         SimulateRun("compare", ExpertsPerDevice(list.combinations, &placements),
                                     in, profiles, schedules, sim_options));
  std::vector<const dispatch::Strategy*> distinct;
  for (const auto& s : list.strategies) distinct.push_back(s.get());
  run.info.notes = RunNotes(in, distinct, "--dispatch", list.repeated_dispatch);
  for (const std::string& note : RunNotes(in, {}, "--placements", list.repeated_placements))
    run.info.notes.push_back(note);
  report::WriteComparison(std::cout, format, run.info, report::CompareReports(run.result.reports));
  return Status::Ok();
}

}  // namespace

Runner AddCompareCommand(CLI::App& app, const std::vector<std::string>* simgrid_args) {
  auto opt = std::make_shared<CompareOptions>();
  CLI::App* cmd = app.add_subcommand(
      "compare", "Compare placement x dispatch combinations on one trace and machine");
  AddRunFlags(cmd, &opt->run);
  AddNetworkFlags(cmd, &opt->network);
  cmd->add_option("--placements", opt->placements,
                  "Comma-separated placements (one listed twice runs once)")
      ->capture_default_str();
  cmd->add_option("--dispatch", opt->dispatch,
                  "Comma-separated dispatch strategies (one listed twice runs once)")
      ->capture_default_str();
  cmd->add_option("--format", opt->format, "console, csv or json")->check(CLI::IsMember({"console", "csv", "json"}))
      ->capture_default_str();
  cmd->footer("Classical dispatch with contiguous placement is always simulated: it is the\n"
              "baseline of the speedup column. SimGrid flags (--cfg=..., --log=...) pass\n"
              "through to the simulation engine.");
  return [opt, simgrid_args]() { return Run(*opt, *simgrid_args); };
}

}  // namespace epsim::cli
