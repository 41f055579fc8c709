// epsim-hw topo: the machine it runs on as a topology file `epsim simulate`
// reads. Host backend: every rank is a PROCESS node joined to its host's CPU
// node by a MEMORY link, with figures measured here while every rank runs:
//   gpu.peak_flops        one rank's SGEMM rate (512^3, median of passes)
//   gpu.mem_bw_gb_per_s   one rank's copy rate (read + write bytes / time)
//   gpu.launch_us         the time of a 1 x 1 x 1 GEMM (per-kernel cost)
//   cpu.memory_gb_per_s   the sum of the ranks' copy rates (host memory)
//   link bw_gb_per_s      MPI bandwidth of ranks 0 and 1 exchanging 16 MiB
//   nccl "mpi" protocol   base latency = an 8-byte exchange; efficiency 1
// Efficiencies are 1: the peaks are the measured rates themselves.
// CUDA backend: nothing is measured; rank 0 reads its host's `nvidia-smi
// topo -m` and writes the topology sim/topology/smi_topo.h builds from it.
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <numeric>
#include <thread>

#include <fmt/format.h>
#include <google/protobuf/text_format.h>

#include "hw/cli/commands.h"
#include "sim/base/data_paths.h"
#include "sim/base/file_util.h"
#include "sim/base/output_file.h"
#include "sim/proto/topology.pb.h"
#include "sim/topology/smi_topo.h"
#include "sim/topology/topology.h"

namespace epsim::hw::cli {
namespace {

struct TopoOptions {
  BackendFlags backend;
  std::string output;
  std::string name = "measured-host";
  uint32_t passes = 5;
};

// Seconds per call of `op`, median over `passes` (each of `reps` calls).
template <typename Op>
Result<double> TimeOp(Backend* b, uint32_t passes, uint32_t reps, Op op) {
  std::vector<double> t;
  for (uint32_t p = 0; p < passes; ++p) {
    EPSIM_ASSIGN_OR_RETURN(double s, TimePerCall(b, reps, op));
    t.push_back(s);
  }
  return Median(t);
}

struct Figures {
  double gemm_flops = 0, copy_gbps = 0, launch_us = 0;
  double mpi_latency_us = 0, mpi_gbps = 0, host_memory_gbps = 0;
};

Result<Figures> Measure(Backend* b, const TopoOptions& opt) {
  Figures f;
  const size_t g = 512;
  EPSIM_ASSIGN_OR_RETURN(Buffer a, b->Alloc(g * g * 4));
  EPSIM_ASSIGN_OR_RETURN(Buffer bb, b->Alloc(g * g * 4));
  EPSIM_ASSIGN_OR_RETURN(Buffer c, b->Alloc(g * g * 4));
  EPSIM_ASSIGN_OR_RETURN(double gemm_s, TimeOp(b, opt.passes, 4, [&] { return b->Gemm(g, g, g, a, bb, c); }));
  f.gemm_flops = 2.0 * g * g * g / gemm_s;
  EPSIM_ASSIGN_OR_RETURN(double tiny_s, TimeOp(b, opt.passes, 100, [&] { return b->Gemm(1, 1, 1, a, bb, c); }));
  f.launch_us = tiny_s * 1e6;
  const size_t rows = 16384, hidden = 1024;
  std::vector<uint32_t> identity(rows);
  std::iota(identity.begin(), identity.end(), 0u);
  EPSIM_ASSIGN_OR_RETURN(Buffer idx, b->UploadIndex(identity));
  EPSIM_ASSIGN_OR_RETURN(Buffer src, b->Alloc(rows * hidden * 4));
  EPSIM_ASSIGN_OR_RETURN(Buffer dst, b->Alloc(rows * hidden * 4));
  EPSIM_ASSIGN_OR_RETURN(double copy_s, TimeOp(b, opt.passes, 1, [&] {
    return b->GatherRows(src, DType::kF32, idx, rows, hidden, dst, DType::kF32);
  }));
  f.copy_gbps = 2.0 * rows * hidden * 4 / copy_s / 1e9;
  // MPI: ranks 0 and 1 exchange; the others pass through with nothing to do.
  const uint32_t n = b->num_ranks(), r = b->rank();
  auto pair_time = [&](uint64_t elems) -> Result<double> {
    std::vector<uint64_t> rows(n, 0);
    if (r < 2) rows[1 - r] = elems;
    const AllToAllSpec s = AllToAllSpec::FromRows(rows, rows);
    EPSIM_RETURN_IF_ERROR(b->Barrier(Backend::NowS() + opt.backend.timeout_s));
    return TimeOp(b, opt.passes, 10, [&] {
      return b->AllToAllV(src, dst, s, 4, Backend::NowS() + opt.backend.timeout_s);
    });
  };
  EPSIM_ASSIGN_OR_RETURN(double small_s, pair_time(2));
  EPSIM_ASSIGN_OR_RETURN(double big_s, pair_time(4 << 20));
  f.mpi_latency_us = small_s * 1e6;
  f.mpi_gbps = (16.0 * 1024 * 1024) / std::max(big_s - small_s, 1e-9) / 1e9;
  // Agree on figures: rank 0's MPI pair, medians of the per-rank rates.
  EPSIM_ASSIGN_OR_RETURN(auto all, b->GatherToRoot({f.gemm_flops, f.copy_gbps, f.launch_us,
                                                    f.mpi_latency_us, f.mpi_gbps},
                                                   Backend::NowS() + opt.backend.timeout_s));
  if (r == 0) {
    std::vector<double> gemm, copy, launch;
    for (const auto& v : all) {
      gemm.push_back(v[0]);
      copy.push_back(v[1]);
      launch.push_back(v[2]);
      f.host_memory_gbps += v[1];
    }
    f.gemm_flops = Median(gemm);
    f.copy_gbps = Median(copy);
    f.launch_us = Median(launch);
  }
  return f;
}

proto::Topology TopologyOf(const TopoOptions& opt, const Figures& f, uint32_t n) {
  proto::Topology t;
  t.set_name(opt.name);
  t.set_description(fmt::format("{} CPU processes (epsim-hw host backend ranks) on one host, "
                                "figures measured by epsim-hw topo",
                                n));
  proto::GpuSpec* g = t.mutable_gpu();
  g->set_name("one CPU process (measured: FP32 SGEMM rate, copy bandwidth)");
  g->set_peak_flops(f.gemm_flops);
  g->set_mem_bw_gb_per_s(f.copy_gbps);
  g->set_compute_efficiency(1);
  g->set_memory_efficiency(1);
  g->set_launch_us(f.launch_us);
  proto::Component* cpu = t.add_nodes();
  cpu->set_name("cpu0");
  cpu->set_kind(proto::CPU);
  cpu->set_memory_gb_per_s(f.host_memory_gbps);
  for (uint32_t r = 0; r < n; ++r) {
    proto::Component* p = t.add_nodes();
    p->set_name(fmt::format("proc{}", r));
    p->set_kind(proto::PROCESS);
    proto::Link* l = t.add_links();
    l->set_name(fmt::format("proc{}-cpu0", r));
    l->set_a(p->name());
    l->set_b("cpu0");
    l->set_kind(proto::MEMORY);
    l->set_bw_gb_per_s(f.mpi_gbps);
    l->set_latency_us(0);
    l->set_source("measured: MPI exchange of 16 MiB between ranks 0 and 1");
  }
  proto::NcclProtocol* mpi = t.mutable_nccl()->add_protocols();
  mpi->set_name("mpi");
  mpi->set_base_latency_us(f.mpi_latency_us);
  mpi->set_payload_efficiency(1);
  t.mutable_nccl()->set_max_peers_in_flight(0);  // MPI_Isend to every peer at once
  return t;
}

// The output of `command` (stderr folded in); NotFound when it cannot run
// or fails, naming it and the first line it printed.
Result<std::string> RunTool(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return Status::NotFound(fmt::format("cannot run `{}`", command));
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, n);
  const int status = pclose(pipe);
  if (status == 0) return out;
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return Status::NotFound(fmt::format(
      "`{}` failed ({}): {}; epsim-hw topo --backend cuda needs NVIDIA's driver tools", command,
      code == 127 ? "nvidia-smi is not on PATH" : fmt::format("exit {}", code),
      out.substr(0, out.find('\n'))));
}

// No shipped topology knows the GPU: its datasheet figures are left to the
// user rather than guessed. The graph is built and checked with stand-in
// figures of 1, then written with every figure 0 (unknown), which every
// epsim command rejects (gpu.peak_flops 0 must be > 0) until someone fills
// them in: a made-up figure would be used silently.
proto::GpuSpec StandInSpec(const std::string& model, bool unknown) {
  proto::GpuSpec g;
  g.set_name(model);
  if (unknown) return g;
  g.set_peak_flops(1);
  g.set_mem_bw_gb_per_s(1);
  g.set_compute_efficiency(1);
  g.set_memory_efficiency(1);
  return g;
}

Status RunCuda(const TopoOptions& opt, MpiComm* mpi) {
  if (mpi->rank() != 0) return Status::Ok();  // one matrix: rank 0's host
  EPSIM_ASSIGN_OR_RETURN(OutputFile out, OutputFile::Open("-o", opt.output, OutputFile::Dash::kText));
  EPSIM_ASSIGN_OR_RETURN(std::string text, RunTool("nvidia-smi topo -m"));
  text = "$ nvidia-smi topo -m\n" + text;
  // Which pairs may use P2P (GeForce: none); optional, as older drivers lack it.
  if (Result<std::string> p2p = RunTool("nvidia-smi topo -p2p w"); p2p.ok())
    text += "\n$ nvidia-smi topo -p2p w\n" + *p2p;
  EPSIM_ASSIGN_OR_RETURN(topology::SmiMatrix m,
                         topology::ParseSmiTopo(text, "nvidia-smi on " + mpi->host()));
  EPSIM_ASSIGN_OR_RETURN(std::string names,
                         RunTool("nvidia-smi --query-gpu=name --format=csv,noheader"));
  m.gpu_model = names.substr(0, names.find('\n'));
  topology::SmiOptions so;
  so.name = opt.name == TopoOptions().name ? "smi-" + mpi->host() : opt.name;
  std::string from;
  Result<proto::GpuSpec> shipped = topology::FindDataGpuSpec(m.gpu_model, &from);
  so.gpu = shipped.ok() ? *shipped : StandInSpec(m.gpu_model, false);
  std::vector<std::string> notes;
  EPSIM_ASSIGN_OR_RETURN(proto::Topology t, topology::TopologyFromSmi(m, so, &notes));
  if (!shipped.ok()) {
    *t.mutable_gpu() = StandInSpec(m.gpu_model, true);
    t.set_description(t.description() + "; GPU figures unknown (0): fill in the gpu block");
    notes.push_back(fmt::format("no topology in topologies/ has a '{}': every gpu figure is 0 "
                                "(unknown); epsim rejects the file until the gpu block holds "
                                "the datasheet figures and efficiencies", m.gpu_model));
  }
  std::string body;
  google::protobuf::TextFormat::PrintToString(t, &body);
  const std::string header = topology::SmiTopologyHeader(
      m, t, notes, fmt::format("Written by `epsim-hw topo --backend cuda` on host {}; GPU spec {}.",
                               mpi->host(), shipped.ok() ? "from " + DisplayPath(from) : "unknown"));
  for (const std::string& note : notes) std::cerr << "epsim-hw: note: " << note << "\n";
  if (!out.given()) {
    std::cout << header << body;
    return Status::Ok();
  }
  EPSIM_RETURN_IF_ERROR(WriteFileAtomically(out.path(), header + body));
  EPSIM_RETURN_IF_ERROR(out.Finish());
  std::cerr << "epsim-hw: wrote " << out.label() << "\n";
  return Status::Ok();
}

Status Run(const TopoOptions& opt, MpiComm* mpi) {
  if (opt.backend.backend == "cuda") return RunCuda(opt, mpi);
  if (mpi->size() < 2) return Status::Usage("epsim-hw topo needs at least 2 ranks (mpirun -np)");
  OutputFile out;
  Status checked;
  if (mpi->rank() == 0) {
    Result<OutputFile> opened = OutputFile::Open("-o", opt.output, OutputFile::Dash::kText);
    if (opened.ok()) out = std::move(opened).value();
    checked = opened.status();
  }
  EPSIM_RETURN_IF_ERROR(AgreeWithRoot(mpi, checked, opt.backend.timeout_s));
  std::vector<std::string> hosts;
  EPSIM_ASSIGN_OR_RETURN(auto host_of_rank,
                         mpi->HostOfRank(&hosts, Backend::NowS() + opt.backend.timeout_s));
  if (hosts.size() > 1)
    return Status::Usage(fmt::format("ranks run on {} hosts; epsim-hw topo describes one host "
                                     "so far (run it on each host)",
                                     hosts.size()));
  EPSIM_ASSIGN_OR_RETURN(std::unique_ptr<Backend> backend, MakeBackend(opt.backend, mpi));
  EPSIM_ASSIGN_OR_RETURN(Figures f, Measure(backend.get(), opt));
  if (mpi->rank() != 0) return Status::Ok();
  const proto::Topology t = TopologyOf(opt, f, mpi->size());
  EPSIM_RETURN_IF_ERROR(topology::ValidateTopology(t));
  std::string text;
  google::protobuf::TextFormat::PrintToString(t, &text);
  const std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  const std::string header = fmt::format(
      "# proto-file: sim/proto/topology.proto\n# proto-message: epsim.proto.Topology\n#\n"
      "# Written by `epsim-hw topo` on host {} at {}, {} ranks ({} cores).\n"
      "# Every figure is measured there while all ranks run (see hw/cli/topo_command.cc):\n"
      "#   SGEMM {:.2f} GFLOP/s per rank, copy {:.2f} GB/s per rank, {:.2f} GB/s host memory,\n"
      "#   MPI 8 B exchange {:.2f} us, 16 MiB at {:.2f} GB/s, {:.2f} us per kernel call.\n",
      mpi->host(), date, mpi->size(), std::thread::hardware_concurrency(), f.gemm_flops / 1e9,
      f.copy_gbps, f.host_memory_gbps, f.mpi_latency_us, f.mpi_gbps, f.launch_us);
  if (!out.given()) {
    std::cout << header << text;
    return Status::Ok();
  }
  EPSIM_RETURN_IF_ERROR(WriteFileAtomically(out.path(), header + text));
  EPSIM_RETURN_IF_ERROR(out.Finish());
  std::cerr << "epsim-hw: wrote " << out.label() << "\n";
  return Status::Ok();
}

}  // namespace

Command AddTopoCommand(CLI::App& app) {
  auto opt = std::make_shared<TopoOptions>();
  CLI::App* cmd = app.add_subcommand(
      "topo", "Measure this machine's ranks and write them as a topology file for epsim");
  AddBackendFlags(cmd, &opt->backend);
  cmd->add_option("-o,--output", opt->output, "Topology file to write (default or '-': stdout)");
  cmd->add_option("--name", opt->name, "Topology name")->capture_default_str();
  cmd->add_option("--passes", opt->passes, "Timed passes per figure (median)")
      ->check(CLI::Range(1u, 1000u))
      ->capture_default_str();
  return [opt](MpiComm* mpi) { return Run(*opt, mpi); };
}

}  // namespace epsim::hw::cli
