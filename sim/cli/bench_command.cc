// epsim bench sendrecv|alltoall|alltoallv|allreduce|allgather|reducescatter:
// nccl-tests-shaped microbenchmarks on a simulated topology (the collectives
// as NCCL's ring, sim/plan/bench_schedule.h). Every size of the sweep
// becomes one schedule and all of them are replayed in one Simulate() call
// (one SimGrid run).
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "sim/base/file_util.h"
#include "sim/cli/commands.h"
#include "sim/base/data_paths.h"
#include "sim/cli/inputs.h"
#include "sim/engine/simulator.h"
#include "sim/topology/topology.h"
#include "sim/plan/bench_schedule.h"
#include "sim/plan/job.h"
#include "sim/report/bench_output.h"

namespace epsim::cli {
namespace {

struct BenchOptions {
  NetworkFlags network;  // --max-inflight, --p2p, --granularity
  std::string op;
  std::string topology = "a6000-x4-pcie-gen4";
  std::string min_bytes = "32M";
  std::string max_bytes = "32M";
  uint64_t step_factor = 1;
  std::string step_bytes = "1M";
  // nccl-tests' launch shape: --np processes (mpirun -np) of -g GPUs each;
  // ranks = np x g. g = 0: every rank of the topology (or the matrix's size).
  uint32_t ranks = 0;  // -g
  uint32_t processes = 1;  // --np
  std::string matrix;
  std::string algo;  // collectives: "ring" (the only one modelled); empty = ring
  uint64_t seed = 1;
  std::string format = "console";
};

// What the sweep replays: the op, its ranks, and for alltoallv the matrix
// shape each size scales (from --matrix, else seeded and skewed).
struct BenchPlan {
  plan::BenchOp op;
  uint32_t num_ranks = 0;
  std::vector<uint64_t> matrix;  // alltoallv with --matrix only
  std::string matrix_label;
};

Result<BenchPlan> MakePlan(const BenchOptions& opt, uint32_t num_ranks, const char* noun) {
  BenchPlan p;
  EPSIM_ASSIGN_OR_RETURN(p.op, plan::ParseBenchOp(opt.op));
  const uint32_t asked = opt.ranks * opt.processes;
  if (opt.ranks == 0 && opt.processes != 1)
    return Status::Usage("--np needs -g (GPUs per process): ranks = np x g");
  p.num_ranks = asked == 0 ? num_ranks : asked;
  if (!opt.algo.empty() && !plan::IsRingCollective(p.op))
    return Status::Usage("--algo is for allreduce, allgather and reducescatter");
  if (!opt.matrix.empty()) {
    if (p.op != plan::BenchOp::kAllToAllv) return Status::Usage("--matrix is for alltoallv only");
    EPSIM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(opt.matrix));
    uint32_t n = 0;
    auto matrix = plan::ParseMatrixText(text, &n);
    if (!matrix.ok()) return matrix.status().WithContext(opt.matrix);
    if (asked != 0 && asked != n)
      return Status::Usage(fmt::format("--np {} x -g {} = {} ranks but {} is {} x {}",
                                       opt.processes, opt.ranks, asked, opt.matrix, n, n));
    p.num_ranks = n;
    p.matrix = std::move(*matrix);
    p.matrix_label = opt.matrix + ", scaled so the mean bytes per rank = size";
  } else if (p.op == plan::BenchOp::kAllToAllv) {
    p.matrix_label = fmt::format("none given: seeded skewed matrix (Zipf(1) receivers, seed {})",
                                 opt.seed);
  }
  if (p.num_ranks < 2 || p.num_ranks > num_ranks)
    return Status::Usage(fmt::format("{} ranks, but the topology has {} {} (need 2..{})",
                                     p.num_ranks, num_ranks, noun, num_ranks));
  return p;
}

// The schedule of one size, and the size and count nccl-tests would print
// for it.
proto::Schedule ScheduleFor(const BenchPlan& p, uint64_t size, uint64_t seed,
                            report::BenchRow* row) {
  const uint32_t n = p.num_ranks;
  row->bytes = size;
  row->count = size / plan::kBenchTypeBytes;
  if (plan::IsRingCollective(p.op)) {
    const plan::CollectiveSize c = plan::RingCollectiveSize(p.op, n, size);
    row->bytes = c.printed_bytes;
    row->count = c.count;
    return plan::RingSchedule(p.op, n, size);
  }
  if (p.op == plan::BenchOp::kSendRecv) return plan::SendRecvSchedule(n, size);
  if (p.op == plan::BenchOp::kAllToAll) {
    proto::Schedule s = plan::AllToAllSchedule(n, size);
    row->bytes = s.phases(0).send_bytes(1) * n;  // rounded to whole elements per pair
    row->count = row->bytes / plan::kBenchTypeBytes;
    return s;
  }
  std::vector<uint64_t> m = p.matrix.empty() ? plan::SkewedMatrix(n, size, seed)
                                             : plan::ScaleMatrix(p.matrix, n, size);
  uint64_t total = 0;
  for (uint64_t b : m) total += b;  // before the diagonal is dropped: bytes per rank
  row->bytes = total / n;
  row->count = row->bytes / plan::kBenchTypeBytes;
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
    default: return "";  // the report layer's all-to-all / sendrecv line
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
  info.inputs = {{"topology", topo.name()},
                 {"topology file", DisplayPath(topology_file)},
                 {"ranks", fmt::format("{} (rank r = {} r of the topology)", p.num_ranks,
                                       topology::RankNoun(topology::RankKind(topo)))},
                 {"sizes", fmt::format("-b {} -e {} -f {} -i {}", opt.min_bytes, opt.max_bytes,
                                       opt.step_factor, opt.step_bytes)},
                 {"type", "float (4 B)"}};
  if (plan::IsRingCollective(p.op))
    info.inputs.push_back({"algorithm", AlgorithmOf(p.op, p.num_ranks)});
  if (!p.matrix_label.empty()) info.inputs.push_back({"matrix", p.matrix_label});
  info.settings = settings;
  return info;
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
  std::vector<proto::Schedule> schedules;
  report::BenchTable table;
  table.show_max_rank = p.op == plan::BenchOp::kAllToAllv;
  table.redop = plan::BenchRedOp(p.op);
  table.metrics = MetricsOf(p.op);
  for (uint64_t size : sizes) {
    report::BenchRow row;
    schedules.push_back(ScheduleFor(p, size, opt.seed, &row));
    row.max_rank_bytes = plan::MaxRankBytes(schedules.back());
    table.rows.push_back(row);
  }
  EPSIM_ASSIGN_OR_RETURN(engine::SimOptions sim_options, SimOptionsOf(opt.network, simgrid_args));
  EPSIM_ASSIGN_OR_RETURN(engine::SimResult result, engine::Simulate(topo, schedules, sim_options));
  for (size_t i = 0; i < table.rows.size(); ++i) {
    report::BenchRow& row = table.rows[i];
    // From the first step's start to the last arrival of any step.
    const proto::Report& r = result.reports[i];
    row.time_s = r.total_time_s() - r.phases(0).start_s();
    row.algbw_gbps = plan::AlgBwGbps(row.bytes, row.time_s);
    row.busbw_gbps = row.algbw_gbps * plan::BusBwFactor(p.op, p.num_ranks);
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
  cmd->add_option("-b,--minbytes", opt->min_bytes, "Smallest size per rank (K/M/G = 2^10/20/30)")
      ->capture_default_str();
  cmd->add_option("-e,--maxbytes", opt->max_bytes, "Largest size per rank")->capture_default_str();
  cmd->add_option("-f,--stepfactor", opt->step_factor, "Multiply the size by this (if > 1)")
      ->capture_default_str();
  cmd->add_option("-i,--stepbytes", opt->step_bytes, "Else add this to the size")
      ->capture_default_str();
  cmd->add_option("-g,--ngpus", opt->ranks,
                  "GPUs per process, as in nccl-tests; ranks = --np x -g are ranks 0.. of the "
                  "topology; 0 = all ranks, or the --matrix size")
      ->capture_default_str();
  cmd->add_option("--np", opt->processes,
                  "Processes, as mpirun -np would launch nccl-tests (ranks = np x g)")
      ->check(CLI::Range(1u, 1u << 20))
      ->capture_default_str();
  cmd->add_option("--matrix", opt->matrix,
                  "alltoallv: rank x rank byte matrix file (as `epsim trace matrix` writes); "
                  "default a seeded skewed matrix");
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
  cmd->footer(
      "size = bytes per rank (allgather: the output, reducescatter: the input, n x count).\n"
      "algbw = size / time; busbw = algbw x 2(n-1)/n for allreduce, x (n-1)/n for alltoall(v),\n"
      "allgather and reducescatter, = algbw for sendrecv (nccl-tests' definitions, GB = 1e9 B).\n"
      "Collectives run NCCL's ring in rank order, one phase per step. SimGrid flags\n"
      "(--cfg=..., --log=...) pass through to the simulation engine.");
  return [opt, simgrid_args]() { return Run(*opt, *simgrid_args); };
}

}  // namespace epsim::cli
