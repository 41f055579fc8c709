// placement_quality: mean C_T of a trace under each placement algorithm,
// in sample (profile = the trace) and held out (profile = the first half of
// each layer's tokens, evaluated on the second half). README.md has the
// table and how to run it.
//
//   placement_quality --ep 4,8 NAME=TRACE [NAME=TRACE ...]
//
// Prints one markdown row per (trace, D): mean over layers of the per-layer
// mean C_T under contiguous, occult, partition-cut (partition on
// co-activation alone) and partition (with the C_T search). In-sample figures are computed twice, by the placement library
// (MeanDevices) and by the planner's routing statistics (the dispatch code
// `epsim stats` uses); a disagreement is an error.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/placement/algorithms.h"
#include "sim/plan/routing_stats.h"
#include "sim/trace/reader.h"

namespace {

using epsim::Result;
using epsim::Status;
namespace pl = epsim::placement;
namespace tr = epsim::trace;

// "partition-cut": `partition` without the profile's tokens, refined on
// co-activation only (the edge-cut proxy), to show what the C_T search adds.
const std::vector<std::string> kAlgorithms = {"contiguous", "occult", "partition-cut",
                                              "partition"};

// The tokens [begin, end) of every layer, as a trace of their own.
tr::Trace Slice(const tr::Trace& t, double begin, double end) {
  tr::Trace out;
  out.header = t.header;
  for (const tr::LayerRouting& l : t.layers) {
    tr::LayerRouting s;
    s.layer = l.layer, s.num_topk = l.num_topk, s.num_candidates = l.num_candidates;
    const size_t from = static_cast<size_t>(begin * l.num_tokens());
    const size_t to = static_cast<size_t>(end * l.num_tokens());
    for (size_t i = from; i < to; ++i)
      s.Append(l.token_ids[i], l.sequence_ids[i], l.topk(i), l.weights(i));
    out.layers.push_back(std::move(s));
  }
  return out;
}

// Mean over layers of the mean C_T of `eval` under a placement computed
// from `profile`.
Result<pl::LayerPlacements> Compute(const std::string& algorithm, uint32_t d,
                                    const tr::Trace& profile) {
  const tr::TraceStats stats = tr::ComputeTraceStats(profile);
  if (algorithm == "partition-cut") return pl::ComputePlacement({"partition", d}, stats, nullptr);
  return pl::ComputePlacement({algorithm, d}, stats, &profile);
}

Result<double> MeanCt(const std::string& algorithm, uint32_t d, const tr::Trace& profile,
                      const tr::Trace& eval) {
  EPSIM_ASSIGN_OR_RETURN(pl::LayerPlacements p, Compute(algorithm, d, profile));
  const auto q = pl::EvaluatePlacement(p, tr::ComputeTraceStats(eval), &eval, nullptr);
  return q.back().ct_mean;
}

// The in-sample figure again, through the planner's statistics.
Result<double> PlannerCt(const std::string& algorithm, uint32_t d, const std::string& path,
                         const tr::Trace& t) {
  EPSIM_ASSIGN_OR_RETURN(pl::LayerPlacements p, Compute(algorithm, d, t));
  EPSIM_ASSIGN_OR_RETURN(epsim::plan::RoutingStats s,
                         epsim::plan::ComputeRoutingStats(path, d, p));
  return s.mean.ct_mean;
}

Status Row(const std::string& name, const std::string& path, uint32_t d) {
  EPSIM_ASSIGN_OR_RETURN(tr::Trace t, tr::ReadTrace(path));
  const tr::Trace first = Slice(t, 0, 0.5), second = Slice(t, 0.5, 1);
  std::string in_sample, held_out;
  for (const std::string& a : kAlgorithms) {
    EPSIM_ASSIGN_OR_RETURN(double ct, MeanCt(a, d, t, t));
    EPSIM_ASSIGN_OR_RETURN(double planner, PlannerCt(a, d, path, t));
    if (std::abs(ct - planner) > 1e-9)
      return Status::Internal(fmt::format("{} D={} {}: library C_T {} != planner {}", name, d, a,
                                          ct, planner));
    EPSIM_ASSIGN_OR_RETURN(double held, MeanCt(a, d, first, second));
    in_sample += fmt::format(" {:.4f} |", ct);
    held_out += fmt::format(" {:.4f} |", held);
  }
  std::printf("| %s | %u |%s%s\n", name.c_str(), d, in_sample.c_str(), held_out.c_str());
  std::fflush(stdout);
  return Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<uint32_t> eps;
  std::vector<std::pair<std::string, std::string>> traces;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--ep" && i + 1 < argc) {
      for (const char* p = argv[++i]; *p;) {
        char* end;
        eps.push_back(static_cast<uint32_t>(std::strtoul(p, &end, 10)));
        p = *end == ',' ? end + 1 : end;
      }
    } else if (const size_t eq = arg.find('='); eq != std::string::npos) {
      traces.emplace_back(arg.substr(0, eq), arg.substr(eq + 1));
    } else {
      std::fprintf(stderr, "usage: placement_quality --ep 4,8 NAME=TRACE [NAME=TRACE ...]\n");
      return 1;
    }
  }
  std::printf("| trace | D | contiguous | occult | partition-cut | partition | "
              "held-out contiguous | held-out occult | held-out partition-cut | "
              "held-out partition |\n"
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  for (const auto& [name, path] : traces)
    for (uint32_t d : eps) {
      const Status s = Row(name, path, d);
      if (!s.ok()) {
        std::fprintf(stderr, "placement_quality: %s\n", s.ToString().c_str());
        return s.ExitCode();
      }
    }
  return 0;
}
