// epsim bench sendrecv|alltoall|alltoallv|allreduce|allgather|reducescatter:
// nccl-tests-shaped microbenchmarks on a simulated topology (the collectives
// as NCCL's ring, sim/plan/bench_schedule.h). Every size of the sweep
// becomes one schedule and all of them are replayed in one Simulate() call
// (one SimGrid run).
#include <iostream>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "sim/base/file_util.h"
#include "sim/cli/commands.h"
#include "sim/base/data_paths.h"
#include "sim/cli/bench_matrix.h"
#include "sim/cli/inputs.h"
#include "sim/cli/nccl_tests_flags.h"
#include "sim/engine/simulator.h"
#include "sim/topology/topology.h"
#include "sim/plan/bench_schedule.h"
#include "sim/plan/job.h"
#include "sim/report/bench_output.h"

namespace epsim::cli {
namespace {

struct BenchOptions {
  NetworkFlags network;  // --max-inflight, --p2p, --granularity
  NcclTestsFlags nccl;   // -t -d -o -n -w -m -N -c -a and the ignored ones
  std::string op;
  std::string topology = "a6000-x4-pcie-gen4";
  std::string min_bytes = "32M";
  std::string max_bytes = "32M";
  uint64_t step_factor = 1;
  std::string step_bytes = "1M";
  // nccl-tests' launch shape: --np processes (mpirun -np) of -t threads of
  // -g GPUs each; ranks = np x t x g. g = 0: every rank of the topology (or
  // the matrix's size) when --np and -t are 1, else 1 (nccl-tests' default).
  uint32_t ranks = 0;  // -g
  uint32_t processes = 1;  // --np
  std::string matrix;
  std::string matrix_format = "auto";
  std::string matrix_scale = "mean";
  std::string algo;  // collectives: "ring" (the only one modelled); empty = ring
  uint64_t seed = 1;
  std::string format = "console";
  CLI::Option* sizes_given[2] = {nullptr, nullptr};  // -b, -e
  CLI::Option* scale_given = nullptr;
};

// What the sweep replays: the op, its ranks, and for alltoallv the matrix
// shape each size scales (from --matrix, else seeded and skewed).
struct BenchPlan {
  plan::BenchOp op;
  plan::BenchType type;
  uint32_t num_ranks = 0;
  uint32_t gpus_per_thread = 1;  // the launch's -g, as nccl-tests prints nGpus
  BenchMatrix matrix;  // alltoallv
};

Result<BenchPlan> MakePlan(const BenchOptions& opt, uint32_t num_ranks, const char* noun) {
  BenchPlan p;
  EPSIM_ASSIGN_OR_RETURN(p.op, plan::ParseBenchOp(opt.op));
  EPSIM_ASSIGN_OR_RETURN(p.type, plan::ParseBenchType(opt.nccl.datatype));
  const uint32_t per_process = opt.nccl.threads;
  const bool launch_given = opt.processes != 1 || per_process != 1;
  p.gpus_per_thread = opt.ranks == 0 && launch_given ? 1 : opt.ranks;
  const uint32_t asked = p.gpus_per_thread * per_process * opt.processes;
  p.num_ranks = asked == 0 ? num_ranks : asked;
  if (!opt.algo.empty() && !plan::IsRingCollective(p.op))
    return Status::Usage("--algo is for allreduce, allgather and reducescatter");
  if (opt.scale_given->count() > 0 && opt.matrix.empty())
    return Status::Usage("--matrix-scale needs --matrix");
  if (!opt.matrix.empty()) {
    if (p.op != plan::BenchOp::kAllToAllv) return Status::Usage("--matrix is for alltoallv only");
    EPSIM_ASSIGN_OR_RETURN(p.matrix, LoadBenchMatrix(opt.matrix, opt.matrix_format,
                                                     opt.matrix_scale, opt.scale_given->count() > 0));
    const uint32_t n = p.matrix.num_ranks;
    p.num_ranks = n;
    if (asked != 0 && asked != n)
      return Status::Usage(fmt::format("--np {} x -t {} x -g {} = {} ranks but {} is {} x {}",
                                       opt.processes, per_process, p.gpus_per_thread, asked,
                                       opt.matrix, n, n));
  } else if (p.op == plan::BenchOp::kAllToAllv) {
    p.matrix.label = fmt::format("none given: seeded skewed matrix (Zipf(1) receivers, seed {})",
                                 opt.seed);
  }
  if (p.num_ranks < 2 || p.num_ranks > num_ranks)
    return Status::Usage(fmt::format("{} ranks, but the topology has {} {} (need 2..{})",
                                     p.num_ranks, num_ranks, noun, num_ranks));
  if (p.gpus_per_thread == 0) p.gpus_per_thread = p.num_ranks;  // one process of every rank
  return p;
}

// The schedule of one size, and the size and count nccl-tests would print
// for it.
proto::Schedule ScheduleFor(const BenchPlan& p, uint64_t size, uint64_t seed,
                            report::BenchRow* row) {
  const uint32_t n = p.num_ranks;
  const uint64_t t = p.type.bytes;
  row->bytes = size / t * t;
  row->count = size / t;
  if (plan::IsRingCollective(p.op)) {
    const plan::CollectiveSize c = plan::RingCollectiveSize(p.op, n, size, t);
    row->bytes = c.printed_bytes;
    row->count = c.count;
    return plan::RingSchedule(p.op, n, size, t);
  }
  if (p.op == plan::BenchOp::kSendRecv) return plan::SendRecvSchedule(n, row->bytes);
  if (p.op == plan::BenchOp::kAllToAll) {
    proto::Schedule s = plan::AllToAllSchedule(n, size, t);
    row->bytes = s.phases(0).send_bytes(1) * n;  // rounded to whole elements per pair
    row->count = row->bytes / t;
    return s;
  }
  const std::vector<uint64_t> m = p.matrix.For(n, size, seed, t);
  uint64_t total = 0;
  for (uint64_t b : m) total += b;  // before the diagonal is dropped: bytes per rank
  row->bytes = total / n;
  row->count = row->bytes / t;
  return plan::AllToAllvSchedule(m, n);
}

// The console's metric line for the ring collectives: the busbw factor and
// which buffer the size column is (nccl-tests' conventions).
std::string MetricsOf(plan::BenchOp op) {
  switch (op) {
    case plan::BenchOp::kAllReduce:
      return "algbw = size / time, busbw = algbw x 2(n-1)/n; size = the buffer each rank "
             "reduces (GB = 1e9 B)";
    case plan::BenchOp::kAllGather:
      return "algbw = size / time, busbw = algbw x (n-1)/n; size = the output, n x count "
             "elements per rank (GB = 1e9 B)";
    case plan::BenchOp::kReduceScatter:
      return "algbw = size / time, busbw = algbw x (n-1)/n; size = the input, n x count "
             "elements per rank (GB = 1e9 B)";
    default: return "";  // the report layer's all-to-all(v) / sendrecv line
  }
}

std::string AlgorithmOf(plan::BenchOp op, uint32_t n) {
  return fmt::format(
      "ring in rank order (r -> r+1 mod n), {} steps of size/{} per rank, each after the "
      "rank's receive of the step before, the protocol's base latency once (steps "
      "pipelined); reduction not charged; tree not modelled",
      plan::RingSteps(op, n), n);
}

Result<plan::SizeSweep> SweepOf(const BenchOptions& opt) {
  plan::SizeSweep sw;
  EPSIM_ASSIGN_OR_RETURN(sw.min_bytes, plan::ParseSize(opt.min_bytes));
  EPSIM_ASSIGN_OR_RETURN(sw.max_bytes, plan::ParseSize(opt.max_bytes));
  EPSIM_ASSIGN_OR_RETURN(sw.step_bytes, plan::ParseSize(opt.step_bytes));
  sw.step_factor = opt.step_factor;
  return sw;
}

report::RunInfo InfoOf(const BenchOptions& opt, const proto::Topology& topo,
                       const std::string& topology_file, const BenchPlan& p,
                       const std::vector<std::pair<std::string, std::string>>& settings) {
  report::RunInfo info;
  info.command = "bench " + opt.op;
  const std::string sizes =
      p.matrix.mode == MatrixMode::kFactor
          ? "one: the matrix's bytes (-b/-e not used)"
          : fmt::format("-b {} -e {} -f {} -i {}", opt.min_bytes, opt.max_bytes, opt.step_factor,
                        opt.step_bytes);
  info.inputs = {{"topology", topo.name()},
                 {"topology file", DisplayPath(topology_file)},
                 {"ranks", fmt::format("{} (rank r = {} r of the topology)", p.num_ranks,
                                       topology::RankNoun(topology::RankKind(topo)))},
                 {"sizes", sizes},
                 {"type", fmt::format("{} ({} B)", p.type.name, p.type.bytes)}};
  if (plan::IsRingCollective(p.op))
    info.inputs.push_back({"algorithm", AlgorithmOf(p.op, p.num_ranks)});
  if (!p.matrix.label.empty()) info.inputs.push_back({"matrix", p.matrix.label});
  info.settings = settings;
  return info;
}

// nccl-tests' `# nThread` line and device block for the simulated launch:
// rank r is process r / (t x g), on its topology host, the host's k-th rank.
report::BenchLaunch LaunchOf(const BenchOptions& opt, const plan::SizeSweep& sw,
                             const proto::Topology& topo, const BenchPlan& p,
                             const std::vector<report::BenchRow>& rows) {
  report::BenchLaunch l;
  l.threads = opt.nccl.threads;
  l.gpus_per_thread = p.gpus_per_thread;
  l.min_bytes = rows.front().bytes;
  l.max_bytes = rows.back().bytes;
  if (p.matrix.mode != MatrixMode::kFactor) {
    l.min_bytes = sw.min_bytes;
    l.max_bytes = sw.max_bytes;
  }
  l.step_is_factor = sw.step_factor > 1;
  l.step = l.step_is_factor ? sw.step_factor : sw.step_bytes;
  l.warmup_iters = opt.nccl.warmup_iters;
  l.iters = opt.nccl.iters;
  l.agg_iters = opt.nccl.agg_iters;
  std::map<uint32_t, uint32_t> on_host;
  for (const proto::Component& node : topo.nodes()) {
    if (!topology::IsRankNode(node) || l.ranks.size() == p.num_ranks) continue;
    const auto r = static_cast<uint32_t>(l.ranks.size());
    l.ranks.push_back({r, r / (l.threads * l.gpus_per_thread), fmt::format("host{}", node.host()),
                       on_host[node.host()]++, node.name(), topo.gpu().name()});
  }
  return l;
}

// The redop column: -o for the ops that reduce, "none" for the others.
std::string RedopOf(const BenchOptions& opt, plan::BenchOp op) {
  return std::string(plan::BenchRedOp(op)) == "sum" ? opt.nccl.redop : "none";
}

void PrintNotes(const BenchOptions& opt, const BenchPlan& p) {
  std::vector<std::string> notes = Notes(opt.nccl);
  if (Given(opt.nccl, 'o') && RedopOf(opt, p.op) == "none")
    notes.push_back(fmt::format("-o {}: ignored: {} has no reduction (redop none)",
                                opt.nccl.redop, opt.op));
  if (p.matrix.mode == MatrixMode::kFactor &&
      (opt.sizes_given[0]->count() > 0 || opt.sizes_given[1]->count() > 0))
    notes.push_back(fmt::format("-b/-e: not used: --matrix-scale {} replays {}, one size",
                                opt.matrix_scale,
                                opt.matrix_scale == "none" ? "the matrix's own bytes"
                                                           : "the matrix's bytes x " +
                                                                 opt.matrix_scale));
  for (const std::string& note : notes) std::cerr << "epsim: note: " << note << "\n";
}

Status Run(const BenchOptions& opt, const std::vector<std::string>& simgrid_args) {
  EPSIM_ASSIGN_OR_RETURN(report::Format format, report::ParseFormat(opt.format));
  EPSIM_ASSIGN_OR_RETURN(plan::SizeSweep sweep, SweepOf(opt));
  EPSIM_ASSIGN_OR_RETURN(std::vector<uint64_t> sizes, plan::SweepSizes(sweep));
  EPSIM_ASSIGN_OR_RETURN(const std::string topology_file,
                         ResolveDataFile("topologies", opt.topology));
  EPSIM_ASSIGN_OR_RETURN(proto::Topology topo, topology::LoadTopology(topology_file));
  const auto num_ranks = static_cast<uint32_t>(topology::RankNames(topo).size());
  EPSIM_ASSIGN_OR_RETURN(
      BenchPlan p, MakePlan(opt, num_ranks, topology::RankNoun(topology::RankKind(topo), true)));
  if (p.matrix.mode == MatrixMode::kFactor) sizes.resize(1);  // the matrix's own size
  PrintNotes(opt, p);
  std::vector<proto::Schedule> schedules;
  report::BenchTable table;
  table.show_max_rank = p.op == plan::BenchOp::kAllToAllv;
  table.type = p.type.name;
  table.redop = RedopOf(opt, p.op);
  table.metrics = MetricsOf(p.op);
  for (uint64_t size : sizes) {
    report::BenchRow row;
    schedules.push_back(ScheduleFor(p, size, opt.seed, &row));
    row.max_rank_bytes = plan::MaxRankBytes(schedules.back());
    table.rows.push_back(row);
  }
  table.launch = LaunchOf(opt, sweep, topo, p, table.rows);
  EPSIM_ASSIGN_OR_RETURN(engine::SimOptions sim_options, SimOptionsOf(opt.network, simgrid_args));
  EPSIM_ASSIGN_OR_RETURN(engine::SimResult result, engine::Simulate(topo, schedules, sim_options));
  for (size_t i = 0; i < table.rows.size(); ++i) {
    report::BenchRow& row = table.rows[i];
    // From the first step's start to the last arrival of any step.
    const proto::Report& r = result.reports[i];
    row.time_s = r.total_time_s() - r.phases(0).start_s();
    row.algbw_gbps = plan::AlgBwGbps(row.bytes, row.time_s);
    row.busbw_gbps =
        plan::BusBwGbps(p.op, p.num_ranks, row.bytes, row.max_rank_bytes, row.time_s);
  }
  report::WriteBench(std::cout, format, InfoOf(opt, topo, topology_file, p, result.settings), table);
  return Status::Ok();
}

}  // namespace

Runner AddBenchCommand(CLI::App& app, const std::vector<std::string>* simgrid_args) {
  auto opt = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "bench",
      "Simulated nccl-tests-style microbenchmark: sendrecv, alltoall, alltoallv, allreduce, "
      "allgather or reducescatter");
  cmd->add_option("op", opt->op,
                  "sendrecv, alltoall, alltoallv, allreduce, allgather or reducescatter")
      ->required()
      ->check(CLI::IsMember(
          {"sendrecv", "alltoall", "alltoallv", "allreduce", "allgather", "reducescatter"}));
  cmd->add_option("--topology", opt->topology, "Topology name (topologies/) or file")
      ->capture_default_str();
  opt->sizes_given[0] =
      cmd->add_option("-b,--minbytes", opt->min_bytes, "Smallest size per rank (K/M/G = 2^10/20/30)")
          ->capture_default_str();
  opt->sizes_given[1] =
      cmd->add_option("-e,--maxbytes", opt->max_bytes, "Largest size per rank")
          ->capture_default_str();
  cmd->add_option("-f,--stepfactor", opt->step_factor, "Multiply the size by this (if > 1)")
      ->capture_default_str();
  cmd->add_option("-i,--stepbytes", opt->step_bytes, "Else add this to the size")
      ->capture_default_str();
  cmd->add_option("-g,--ngpus", opt->ranks,
                  "GPUs per thread, as in nccl-tests (one thread: per process); ranks = --np x "
                  "-t x -g are ranks 0.. of the topology; 0 = all ranks (or the --matrix size) "
                  "when --np and -t are 1, else 1 as in nccl-tests")
      ->capture_default_str();
  cmd->add_option("--np", opt->processes,
                  "Processes, as mpirun -np would launch nccl-tests (ranks = np x t x g)")
      ->check(CLI::Range(1u, 1u << 20))
      ->capture_default_str();
  cmd->add_option("--matrix", opt->matrix,
                  "alltoallv: traffic matrix file (as `epsim trace matrix` writes: bytes, "
                  "fractions or ucc); default a seeded skewed matrix");
  cmd->add_option("--matrix-format", opt->matrix_format,
                  "auto (from the text), bytes, fractions or ucc (sim/plan/matrix_file.h)")
      ->check(CLI::IsMember({"auto", "bytes", "fractions", "ucc"}))
      ->capture_default_str();
  opt->scale_given = cmd->add_option(
                             "--matrix-scale", opt->matrix_scale,
                             "mean: scaled so the mean bytes per rank = each size of the sweep; "
                             "none: the file's own bytes, one size (real size); X: bytes x X")
                         ->capture_default_str();
  cmd->add_option("--algo", opt->algo,
                  "allreduce, allgather, reducescatter: NCCL algorithm; only ring is modelled "
                  "(default ring)")
      ->check(CLI::IsMember({"ring"}));
  cmd->add_option("--seed", opt->seed, "Seed of the skewed alltoallv matrix")
      ->capture_default_str();
  cmd->add_option("--format", opt->format, "Output on stdout: console, csv or json")
      ->check(CLI::IsMember({"console", "csv", "json"}))
      ->capture_default_str();
  AddNetworkFlags(cmd, &opt->network);
  AddNcclTestsFlags(cmd, &opt->nccl);
  cmd->footer(
      "size = bytes per rank (allgather: the output, reducescatter: the input, n x count).\n"
      "algbw = size / time; busbw = algbw x 2(n-1)/n for allreduce, x (n-1)/n for alltoall,\n"
      "allgather and reducescatter, = algbw for sendrecv (nccl-tests' definitions, GB = 1e9 B);\n"
      "alltoallv: busbw = maxrank / time, the most-loaded rank's bytes over links.\n"
      "nccl-tests flags: -t -d -o are simulated; -n -w -m -N -c -a are accepted with no effect\n"
      "(deterministic, no data); the others are ignored; each given one is noted on stderr.\n"
      "Collectives run NCCL's ring in rank order, one phase per step. SimGrid flags\n"
      "(--cfg=..., --log=...) pass through to the simulation engine.");
  return [opt, simgrid_args]() { return Run(*opt, *simgrid_args); };
}

}  // namespace epsim::cli
