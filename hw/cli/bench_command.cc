// epsim-hw bench: nccl-tests-shaped microbenchmarks measured for real, with
// the flags and columns of `epsim bench` so the two can be diffed, and a
// GEMM sweep over tokens per expert (the curve that sets expert time).
//   sendrecv|alltoall|alltoallv: the same one-phase schedules epsim bench
//     simulates (sim/plan/bench_schedule.h), executed by the backend's
//     all-to-all-v. time = mean over -n back-to-back iterations (timed as
//     one batch, as nccl-tests does), max over ranks.
//   gemm: one SwiGLU expert FFN of --model's shape per size (tokens).
#include <algorithm>
#include <cstring>
#include <iostream>

#include <fmt/format.h>

#include "hw/cli/commands.h"
#include "hw/common/data.h"
#include "sim/base/check.h"
#include "sim/base/data_paths.h"
#include "sim/base/file_util.h"
#include "sim/plan/bench_schedule.h"
#include "sim/plan/model.h"
#include "sim/report/bench_output.h"

namespace epsim::hw::cli {
namespace {

struct BenchOptions {
  BackendFlags backend;
  std::string op;
  std::string min_bytes = "32M", max_bytes = "32M", step_bytes = "1M";
  uint64_t step_factor = 1;
  uint32_t iters = 20, warmup = 5;
  uint32_t check = 0;  // -c N: nccl-tests' check count; any N > 0 checks once per size
  std::string matrix;
  uint64_t seed = 1;
  std::string model = "tiny-moe";
  std::string format = "console";
};

proto::Schedule ScheduleFor(plan::BenchOp op, uint32_t n, uint64_t bytes,
                            const std::vector<uint64_t>& matrix) {
  switch (op) {
    case plan::BenchOp::kSendRecv: return plan::SendRecvSchedule(n, bytes);
    case plan::BenchOp::kAllToAll: return plan::AllToAllSchedule(n, bytes);
    case plan::BenchOp::kAllToAllv:
      return plan::AllToAllvSchedule(matrix.empty() ? plan::SkewedMatrix(n, bytes, 1)
                                                    : plan::ScaleMatrix(matrix, n, bytes),
                                     n);
    default:
      // Ring collectives are not among epsim-hw bench's ops (--op's choices):
      // nccl-tests measures them.
      EPSIM_CHECK(!plan::IsRingCollective(op));
      return {};
  }
}

// Rows of 4-byte elements per peer for this rank.
AllToAllSpec SpecOf(const proto::Phase& p, uint32_t n, uint32_t r) {
  std::vector<uint64_t> send, recv;
  for (uint32_t q = 0; q < n; ++q) {
    send.push_back(p.send_bytes(r * n + q) / plan::kBenchTypeBytes);
    recv.push_back(p.send_bytes(q * n + r) / plan::kBenchTypeBytes);
  }
  return AllToAllSpec::FromRows(std::move(send), std::move(recv));
}

// Element i sent from `src` to `dst`: distinct, exactly representable.
float Pattern(uint32_t src, uint32_t dst, uint64_t i) {
  return static_cast<float>((src * 131 + dst * 31 + i) % 65521);
}

Result<int64_t> CheckOnce(Backend* b, const AllToAllSpec& s, const Buffer& send,
                          const Buffer& recv, double timeout) {
  const uint32_t r = b->rank(), n = b->num_ranks();
  std::vector<float> host(s.SendTotal());
  for (uint32_t q = 0; q < n; ++q)
    for (uint64_t i = 0; i < s.send_rows[q]; ++i) host[s.send_offset[q] + i] = Pattern(r, q, i);
  EPSIM_RETURN_IF_ERROR(b->Upload(send, host.data(), host.size() * 4));
  EPSIM_RETURN_IF_ERROR(b->AllToAllV(send, recv, s, 4, Backend::NowS() + timeout));
  std::vector<float> got(s.RecvTotal());
  EPSIM_RETURN_IF_ERROR(b->Download(got.data(), recv, got.size() * 4));
  int64_t wrong = 0;
  for (uint32_t q = 0; q < n; ++q)
    for (uint64_t i = 0; i < s.recv_rows[q]; ++i)
      wrong += got[s.recv_offset[q] + i] != Pattern(q, r, i);
  EPSIM_ASSIGN_OR_RETURN(auto sum, b->AllReduceSum({static_cast<double>(wrong)},
                                                   Backend::NowS() + timeout));
  return static_cast<int64_t>(sum[0]);
}

Result<report::BenchRow> MeasureSize(const BenchOptions& opt, Backend* b, plan::BenchOp op,
                                     uint64_t bytes, const std::vector<uint64_t>& matrix) {
  const uint32_t n = b->num_ranks(), r = b->rank();
  const proto::Schedule sched = ScheduleFor(op, n, bytes, matrix);
  const AllToAllSpec spec = SpecOf(sched.phases(0), n, r);
  EPSIM_ASSIGN_OR_RETURN(Buffer send, b->Alloc(std::max<uint64_t>(spec.SendTotal(), 1) * 4));
  EPSIM_ASSIGN_OR_RETURN(Buffer recv, b->Alloc(std::max<uint64_t>(spec.RecvTotal(), 1) * 4));
  const double timeout = opt.backend.timeout_s;
  for (uint32_t i = 0; i < opt.warmup; ++i)
    EPSIM_RETURN_IF_ERROR(b->AllToAllV(send, recv, spec, 4, Backend::NowS() + timeout));
  EPSIM_RETURN_IF_ERROR(b->Barrier(Backend::NowS() + timeout));
  EPSIM_ASSIGN_OR_RETURN(double per_call, TimePerCall(b, opt.iters, [&] {
    return b->AllToAllV(send, recv, spec, 4, Backend::NowS() + timeout);
  }));
  EPSIM_ASSIGN_OR_RETURN(auto all, b->GatherToRoot({per_call}, Backend::NowS() + timeout));
  report::BenchRow row;
  row.bytes = bytes;
  row.count = bytes / plan::kBenchTypeBytes;
  for (const auto& v : all) row.time_s = std::max(row.time_s, v[0]);
  row.algbw_gbps = plan::AlgBwGbps(bytes, row.time_s);
  row.max_rank_bytes = plan::MaxRankBytes(sched);
  row.busbw_gbps = plan::BusBwGbps(op, n, bytes, row.max_rank_bytes, row.time_s);
  if (opt.check) {
    EPSIM_ASSIGN_OR_RETURN(row.wrong, CheckOnce(b, spec, send, recv, timeout));
  }
  return row;
}

report::RunInfo InfoOf(const std::string& what, Backend* b, const BenchOptions& opt) {
  report::RunInfo info;
  info.command = "epsim-hw bench " + what;
  info.inputs = {{"ranks", std::to_string(b->num_ranks())},
                 {"iterations", fmt::format("{} warm-up, {} timed", opt.warmup, opt.iters)}};
  if (!opt.matrix.empty()) info.inputs.push_back({"matrix", opt.matrix});
  info.settings = b->Describe();
  return info;
}

Status RunComm(const BenchOptions& opt, Backend* b) {
  EPSIM_ASSIGN_OR_RETURN(plan::BenchOp op, plan::ParseBenchOp(opt.op));
  if (b->num_ranks() < 2) return Status::Usage("epsim-hw bench needs at least 2 ranks (mpirun -np)");
  plan::SizeSweep sweep;
  EPSIM_ASSIGN_OR_RETURN(sweep.min_bytes, plan::ParseSize(opt.min_bytes));
  EPSIM_ASSIGN_OR_RETURN(sweep.max_bytes, plan::ParseSize(opt.max_bytes));
  EPSIM_ASSIGN_OR_RETURN(sweep.step_bytes, plan::ParseSize(opt.step_bytes));
  sweep.step_factor = opt.step_factor;
  EPSIM_ASSIGN_OR_RETURN(std::vector<uint64_t> sizes, plan::SweepSizes(sweep));
  std::vector<uint64_t> matrix;
  if (!opt.matrix.empty()) {
    EPSIM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(opt.matrix));
    uint32_t n = 0;
    auto m = plan::ParseMatrixText(text, &n);
    if (!m.ok()) return m.status().WithContext(opt.matrix);
    if (n != b->num_ranks())
      return Status::BadInput(fmt::format("{} is {} x {} but {} ranks were launched", opt.matrix,
                                          n, n, b->num_ranks()));
    matrix = *m;
  }
  report::BenchTable table;
  table.source = "measured";
  table.show_max_rank = op == plan::BenchOp::kAllToAllv;
  // nccl-tests' `# nThread` line: one thread per MPI process.
  report::BenchLaunch launch;
  launch.gpus_per_thread = opt.backend.gpus_per_process;
  launch.min_bytes = sweep.min_bytes;
  launch.max_bytes = sweep.max_bytes;
  launch.step_is_factor = sweep.step_factor > 1;
  launch.step = launch.step_is_factor ? sweep.step_factor : sweep.step_bytes;
  launch.warmup_iters = opt.warmup;
  launch.iters = opt.iters;
  launch.validation = opt.check > 0 ? 1 : 0;
  table.launch = launch;
  for (uint64_t bytes : sizes) {
    EPSIM_ASSIGN_OR_RETURN(report::BenchRow row, MeasureSize(opt, b, op, bytes, matrix));
    table.rows.push_back(row);
  }
  EPSIM_ASSIGN_OR_RETURN(report::Format format, report::ParseFormat(opt.format));
  if (b->rank() == 0) report::WriteBench(std::cout, format, InfoOf(opt.op, b, opt), table);
  if (opt.check)
    for (const report::BenchRow& r : table.rows)
      if (r.wrong > 0) return Status::Verification(fmt::format("{} B: {} elements wrong", r.bytes, r.wrong));
  return Status::Ok();
}

Status RunGemm(const BenchOptions& opt, Backend* b) {
  EPSIM_ASSIGN_OR_RETURN(const std::string model_file, ResolveDataFile("models", opt.model));
  EPSIM_ASSIGN_OR_RETURN(proto::Model model, plan::LoadModel(model_file));
  plan::SizeSweep sweep{1, 4096, 2, 1};
  EPSIM_ASSIGN_OR_RETURN(sweep.min_bytes, plan::ParseSize(opt.min_bytes));
  EPSIM_ASSIGN_OR_RETURN(sweep.max_bytes, plan::ParseSize(opt.max_bytes));
  sweep.step_factor = opt.step_factor;
  EPSIM_ASSIGN_OR_RETURN(std::vector<uint64_t> sizes, plan::SweepSizes(sweep));
  const uint32_t h = model.hidden(), f = model.moe_intermediate();
  const FfnWeights w = SeededData(opt.seed).Ffn(0, h, f);
  EPSIM_ASSIGN_OR_RETURN(Buffer ffn, b->UploadFfn(w.gate, w.up, w.down, h, f));
  const uint64_t max_n = sizes.back();
  EPSIM_ASSIGN_OR_RETURN(Buffer x, b->Alloc(max_n * h * 4));
  EPSIM_ASSIGN_OR_RETURN(Buffer y, b->Alloc(max_n * h * 4));
  EPSIM_ASSIGN_OR_RETURN(Buffer scratch, b->Alloc(3 * max_n * f * 4));
  std::vector<report::GemmRow> rows;
  for (uint64_t n : sizes) {
    for (uint32_t i = 0; i < opt.warmup; ++i)
      EPSIM_RETURN_IF_ERROR(b->SwigluFfn(ffn, x, n, scratch, y));
    EPSIM_ASSIGN_OR_RETURN(double per_call, TimePerCall(b, opt.iters, [&] {
      return b->SwigluFfn(ffn, x, n, scratch, y);
    }));
    rows.push_back({n, per_call, 6.0 * n * h * f});
  }
  EPSIM_ASSIGN_OR_RETURN(report::Format format, report::ParseFormat(opt.format));
  report::RunInfo info = InfoOf("gemm", b, opt);
  info.inputs.push_back({"model", fmt::format("{} (hidden {}, expert width {})", model.name(), h, f)});
  info.inputs.push_back({"model file", DisplayPath(model_file)});
  info.inputs.push_back({"rank", "each rank measures on its own; rank 0 prints"});
  if (b->rank() == 0) report::WriteGemmSweep(std::cout, format, info, rows);
  return Status::Ok();
}

Status Run(const BenchOptions& opt, MpiComm* mpi) {
  EPSIM_ASSIGN_OR_RETURN(std::unique_ptr<Backend> backend, MakeBackend(opt.backend, mpi));
  if (opt.op == "gemm") return RunGemm(opt, backend.get());
  return RunComm(opt, backend.get());
}

}  // namespace

Command AddBenchCommand(CLI::App& app) {
  auto opt = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Measured microbenchmarks: sendrecv, alltoall, alltoallv (nccl-tests flags and "
               "columns, as epsim bench) and gemm (expert FFN over tokens per expert)");
  cmd->add_option("op", opt->op, "sendrecv | alltoall | alltoallv | gemm")
      ->required()
      ->check(CLI::IsMember({"sendrecv", "alltoall", "alltoallv", "gemm"}));
  AddBackendFlags(cmd, &opt->backend);
  cmd->add_option("-b,--minbytes", opt->min_bytes,
                  "Smallest size (K/M/G suffixes); gemm: fewest tokens per expert")
      ->capture_default_str();
  cmd->add_option("-e,--maxbytes", opt->max_bytes, "Largest size; gemm: most tokens")
      ->capture_default_str();
  cmd->add_option("-f,--stepfactor", opt->step_factor, "Multiply the size by this each step")
      ->capture_default_str();
  cmd->add_option("-i,--stepbytes", opt->step_bytes, "Else add this each step")
      ->capture_default_str();
  cmd->add_option("-n,--iters", opt->iters, "Timed iterations per size")
      ->check(CLI::Range(1u, 1000000u))
      ->capture_default_str();
  cmd->add_option("-w,--warmup_iters", opt->warmup, "Untimed iterations first")
      ->capture_default_str();
  cmd->add_option("-c,--check", opt->check,
                  "Verify received data (#wrong): -c or -c N > 0 (nccl-tests' -c 1) checks once "
                  "per size, -c 0 not")
      ->expected(0, 1)
      ->default_str("1");
  cmd->add_option("--matrix", opt->matrix, "alltoallv: rank x rank byte matrix (epsim trace matrix)");
  cmd->add_option("--model", opt->model, "gemm: the model whose expert FFN is swept")
      ->capture_default_str();
  cmd->add_option("--format", opt->format, "console, csv or json")->check(CLI::IsMember({"console", "csv", "json"}))
      ->capture_default_str();
  return [opt](MpiComm* mpi) { return Run(*opt, mpi); };
}

}  // namespace epsim::hw::cli
