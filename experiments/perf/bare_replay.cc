// The baseline of issue 15's item 4: the flows of an epsim plan replayed
// by a bare SimGrid program, to measure what epsim's replay costs over
// SimGrid itself.
//
//   bare_replay --mode bare|epsim [--closed-form on|off] --trace F --model M
//               --topology T --ep N --dispatch D
//
// Both modes plan the run with epsim's planner (contiguous placement,
// prefill, no overlap) and time it apart ("plan_s"); then
//   - epsim: engine::Simulate on the schedule, per-phase granularity (what
//     the runs above 16 ranks use); `--closed-form` as epsim's flag;
//   - bare: the same platform (epsim's BuildPlatform: the same hosts, links
//     and routes) and the same flows written directly against s4u, the
//     cheapest way it allows: one actor per rank runs its compute phases
//     as one Exec each; an all-to-all phase is one barrier, one parallel
//     task of the whole send matrix (after the largest message latency, as
//     epsim waits it) started by rank 0, one barrier. No dependency
//     tracking, no per-rank op records, no reports.
// It prints one line: mode, plan_s, replay_s (wall seconds of the
// simulation alone, the platform built included), simulated_s (the pass's
// simulated time, seconds), phases. The schedule must be a chain (every
// phase depending on the one before it): what prefill without overlap
// plans; anything else is refused, as the barrier model would not be the
// same flows.
#include <simgrid/s4u.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "sim/dispatch/strategy.h"
#include "sim/engine/platform.h"
#include "sim/engine/simulator.h"
#include "sim/exec/schedule_check.h"
#include "sim/plan/job.h"
#include "sim/topology/roofline.h"

namespace sg4 = simgrid::s4u;
using epsim::Result;
using epsim::Status;

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

Status CheckChain(const epsim::proto::Schedule& s) {
  for (int p = 0; p < s.phases_size(); ++p) {
    const auto& phase = s.phases(p);
    if (phase.allreduce_bytes() > 0)
      return Status::Usage(fmt::format("phase {} is an all-reduce: prefill only", p));
    const bool chained = p == 0 ? phase.depends_on_size() == 0
                                : phase.depends_on_size() == 1 &&
                                      phase.depends_on(0) == static_cast<uint32_t>(p - 1);
    if (!chained)
      return Status::Usage(fmt::format(
          "phase {} does not depend on exactly the phase before it: the bare program replays "
          "chains only (prefill, --overlap none)", p));
  }
  return Status::Ok();
}

// Rank actors walk the chain; all-to-alls are barriers around one ptask.
Result<double> BareReplay(const epsim::proto::Topology& topo, const epsim::proto::Schedule& s) {
  std::vector<std::string> words = {"bare_replay", "--log=xbt_cfg.thres:warning",
                                    "--cfg=host/model:ptask_L07"};
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(words.size());
  sg4::Engine engine(&argc, argv.data());
  EPSIM_ASSIGN_OR_RETURN(epsim::engine::Platform platform,
                         epsim::engine::BuildPlatform(topo, topo.nccl().p2p()));
  const uint32_t n = s.num_ranks();
  std::vector<sg4::Host*> hosts(platform.ranks.begin(), platform.ranks.begin() + n);
  sg4::BarrierPtr barrier = sg4::Barrier::create(n);
  double end_s = 0;
  for (uint32_t rank = 0; rank < n; ++rank) {
    sg4::Actor::create(fmt::format("rank{}", rank), hosts[rank], [&, rank] {
      for (const auto& phase : s.phases()) {
        if (!epsim::exec::IsAllToAll(phase)) {
          const double t = epsim::topology::WorkTimeS(topo.gpu(), phase.work(rank));
          if (t > 0) sg4::this_actor::execute(t * epsim::engine::kHostFlopsPerS);
          continue;
        }
        barrier->wait();
        if (rank == 0) {
          std::vector<double> flops(n, 0.0), bytes(size_t{n} * n, 0.0);
          double latency_s = 0;
          for (uint32_t src = 0; src < n; ++src)
            for (uint32_t dst = 0; dst < n; ++dst) {
              const uint64_t b = phase.send_bytes(src * n + dst);
              if (b == 0) continue;
              bytes[size_t{src} * n + dst] = platform.transports.WireBytes(src, dst, b);
              latency_s = std::max(latency_s, platform.transports.MessageLatencyUs(
                                                  src, dst, b, !phase.pipelined()) * 1e-6);
            }
          sg4::this_actor::sleep_for(latency_s);
          sg4::this_actor::parallel_execute(hosts, flops, bytes);
        }
        barrier->wait();
      }
      barrier->wait();
      if (rank == 0) end_s = sg4::Engine::get_clock();
    });
  }
  engine.run();
  return end_s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Bare SimGrid replay of an epsim plan's flows (experiments/perf)"};
  std::string mode = "bare", closed_form = "on", dispatch = "dedup";
  epsim::plan::RunFlags flags;
  app.add_option("--mode", mode)->check(CLI::IsMember({"bare", "epsim"}));
  app.add_option("--closed-form", closed_form)->check(CLI::IsMember({"on", "off"}));
  app.add_option("--trace", flags.trace)->required();
  app.add_option("--model", flags.model);
  app.add_option("--topology", flags.topology);
  app.add_option("--ep", flags.ep);
  app.add_option("--dispatch", dispatch);
  CLI11_PARSE(app, argc, argv);

  auto fail = [](const Status& st) {
    std::fprintf(stderr, "bare_replay: %s\n", st.ToString().c_str());
    return 1;
  };
  const auto plan_start = std::chrono::steady_clock::now();
  Result<std::unique_ptr<epsim::dispatch::Strategy>> strategy =
      epsim::dispatch::MakeStrategy(dispatch);
  if (!strategy.ok()) return fail(strategy.status());
  const std::vector<const epsim::dispatch::Strategy*> strategies = {strategy->get()};
  const bool stream = epsim::plan::StreamsTrace(flags, "contiguous", strategies);
  Result<epsim::plan::RunInputs> in = epsim::plan::LoadRunInputs(
      flags, stream ? epsim::plan::TraceRows::kStream : epsim::plan::TraceRows::kInMemory);
  if (!in.ok()) return fail(in.status());
  auto placements = epsim::plan::PlacementFor(flags, *in, "contiguous");
  if (!placements.ok()) return fail(placements.status());
  epsim::plan::ProfileCache profiles(flags, *in);
  auto schedules = epsim::plan::PlanAll(*in, *placements, strategies, &profiles);
  if (!schedules.ok()) return fail(schedules.status());
  const epsim::proto::Schedule& schedule = schedules->front();
  if (Status st = CheckChain(schedule); !st.ok()) return fail(st);
  const double plan_s = Seconds(plan_start);

  const auto replay_start = std::chrono::steady_clock::now();
  double simulated_s = 0;
  if (mode == "epsim") {
    epsim::engine::SimOptions opt;
    opt.granularity = epsim::engine::SimOptions::Granularity::kPhase;
    opt.closed_form = closed_form == "on";
    auto result = epsim::engine::Simulate(in->topology, *schedules, opt);
    if (!result.ok()) return fail(result.status());
    simulated_s = result->reports.front().total_time_s();
  } else {
    Result<double> end = BareReplay(in->topology, schedule);
    if (!end.ok()) return fail(end.status());
    simulated_s = *end;
  }
  const double replay_s = Seconds(replay_start);
  std::printf("%s%s plan_s %.3f replay_s %.3f simulated_s %.6f phases %d\n", mode.c_str(),
              mode == "epsim" ? (closed_form == "on" ? "(closed-form)" : "(simgrid)") : "",
              plan_s, replay_s, simulated_s, schedule.phases_size());
  return 0;
}
