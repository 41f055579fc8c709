#include "sim/calibrate/measurements.h"

#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "sim/base/file_util.h"
#include "sim/dispatch/strategy.h"
#include "sim/measure/nccl_tests_log.h"
#include "sim/measure/p2p_matrix.h"
#include "sim/plan/bench_schedule.h"
#include "sim/plan/job.h"
#include "sim/plan/plan_file.h"
#include "sim/report/json_input.h"
#include "sim/report/report.h"
#include "sim/report/summary.h"

namespace epsim::calibrate {
namespace {

std::string InputOf(const report::ReportFile& file, const std::string& key) {
  for (const auto& [k, v] : file.inputs)
    if (k == key) return v;
  return "";
}

// The schedule a measured report ran: its plan file, else its job planned again.
Result<proto::Schedule> ScheduleOf(const report::ReportFile& file, const std::string& topology) {
  const std::string plan_path = InputOf(file, "plan");
  if (!plan_path.empty()) {
    std::string path = plan_path;
    if (!std::filesystem::exists(path)) {
      const std::string beside =
          (std::filesystem::path(file.path).parent_path() / plan_path).string();
      if (std::filesystem::exists(beside)) path = beside;
    }
    EPSIM_ASSIGN_OR_RETURN(proto::Plan plan, plan::ReadPlan(path));
    return plan.schedule();
  }
  const std::string job_text = InputOf(file, "job");
  if (job_text.empty())
    return Status::BadInput(
        "context.inputs names neither a plan file (\"plan\") nor a job (\"job\"): it was not "
        "written by epsim-hw run of this version, so the run cannot be planned again");
  EPSIM_ASSIGN_OR_RETURN(plan::JobSpec job, plan::ParseJobArgs(job_text));
  job.flags.topology = topology;
  EPSIM_ASSIGN_OR_RETURN(auto strategy, dispatch::MakeStrategy(job.dispatch));
  EPSIM_ASSIGN_OR_RETURN(plan::RunInputs in, plan::LoadRunInputs(job.flags));
  EPSIM_ASSIGN_OR_RETURN(placement::LayerPlacements placements,
                         plan::PlacementFor(job.flags, in, job.placement));
  plan::ProfileCache profiles(job.flags, in);
  return plan::PlanFor(in, placements, *strategy, &profiles);
}

uint64_t TokensOf(const proto::Schedule& s) {
  // Tokens per layer: the attention rows of the first layer over all ranks.
  uint64_t tokens = 0;
  for (const proto::Phase& phase : s.phases()) {
    if (phase.kind() != proto::ATTENTION) continue;
    for (const proto::RankWork& w : phase.work())
      for (const proto::Kernel& k : w.kernels()) tokens += k.rows();
    break;
  }
  return tokens;
}

// SHA-256 of `bytes` (the contents of `path`, which names it), lowercase hex.
Result<std::string> Sha256Hex(const std::string& bytes, const std::string& path) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1)
    return Status::Internal(path + ": SHA-256 failed");
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

}  // namespace

Result<std::string> Sha256OfFile(const std::string& path) {
  EPSIM_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  return Sha256Hex(bytes, path);
}

Status AddMeasuredReport(const std::string& path, const std::string& topology,
                         MeasurementSet* set) {
  EPSIM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  EPSIM_ASSIGN_OR_RETURN(report::ReportFile file, report::ParseReportJson(text, path));
  auto bad = [&path](const std::string& what) { return Status::BadInput(path + ": " + what); };
  if (file.reports.size() != 1)
    return bad(fmt::format("{} runs; a measured report of epsim-hw run has one",
                           file.reports.size()));
  const proto::Report& measured = file.reports.front();
  if (measured.source() != "measured")
    return bad(fmt::format("context.runs[0].source is '{}', not 'measured'", measured.source()));
  Result<proto::Schedule> schedule = ScheduleOf(file, topology);
  if (!schedule.ok()) return schedule.status().WithContext(path);
  if (schedule->num_ranks() != measured.num_ranks())
    return bad(fmt::format("the run has {} ranks but its plan {}", measured.num_ranks(),
                           schedule->num_ranks()));
  if (static_cast<int>(schedule->phases_size()) != measured.phases_size())
    return bad(fmt::format("the run has {} phases but its plan {}: not the plan it ran",
                           measured.phases_size(), schedule->phases_size()));
  for (int i = 0; i < measured.phases_size(); ++i) {
    if (schedule->phases(i).kind() != measured.phases(i).kind())
      return bad(fmt::format("records[{}] is {} but phase {} of the plan is {}: not the plan it ran",
                             i, report::PhaseName(measured.phases(i).kind()), i,
                             report::PhaseName(schedule->phases(i).kind())));
  }
  EPSIM_ASSIGN_OR_RETURN(std::string sha, Sha256Hex(text, path));
  set->files.push_back({path, sha});

  const size_t index = set->schedules.size();
  const uint64_t tokens = TokensOf(*schedule);
  set->schedules.push_back(std::move(*schedule));
  Observation base;
  base.file = path;
  base.schedule = index;
  base.num_ranks = measured.num_ranks();
  base.strategy = measured.strategy();
  base.size = tokens;
  base.series = fmt::format("{} {} ranks", measured.strategy(), measured.num_ranks());
  const std::string where =
      fmt::format("{}, {} rank{}, {} tokens", measured.strategy(), measured.num_ranks(),
                  measured.num_ranks() == 1 ? "" : "s", tokens);
  std::map<int, double> busy;  // by phase kind, in enum order
  for (const proto::PhaseTiming& p : measured.phases()) busy[p.kind()] += p.busy_max_s();
  for (const auto& [kind, seconds] : busy) {
    Observation o = base;
    o.quantity = Quantity::kPhaseBusy;
    o.phase = static_cast<proto::PhaseKind>(kind);
    o.kind = report::PhaseName(o.phase);
    o.where = where;
    o.measured_s = seconds;
    // One rank moves nothing: its all-to-all phases time only the loop.
    if (report::IsCommunicationKind(o.phase) && measured.num_ranks() == 1) continue;
    if (!(seconds > 0)) continue;
    set->observations.push_back(o);
  }
  Observation pass = base;
  pass.quantity = Quantity::kTotal;
  pass.kind = "pass";
  pass.where = where;
  pass.measured_s = measured.total_time_s();
  pass.fitted = false;
  set->observations.push_back(pass);
  return Status::Ok();
}

namespace {

// Every table of the nccl-tests (or epsim bench) log `text` of `path`.
Status AddNcclTables(const std::string& text, const std::string& path, const std::string& test,
                     uint32_t max_ranks, int table_number, MeasurementSet* set) {
  std::optional<measure::NcclTest> override_test;
  if (!test.empty()) {
    override_test = measure::NcclTestFromName(test);
    if (!override_test)
      return Status::Usage(fmt::format("--test '{}' is not an nccl-tests test", test));
  }
  EPSIM_ASSIGN_OR_RETURN(std::vector<measure::NcclTestsTable> tables,
                         measure::ParseNcclTestsLog(text, path, override_test));
  if (tables.empty()) return Status::BadInput(path + ": no nccl-tests table in it");
  if (table_number > 0) {
    if (static_cast<size_t>(table_number) > tables.size())
      return Status::Usage(fmt::format("--table {}: {} has {} nccl-tests tables", table_number,
                                       path, tables.size()));
    tables = {tables[static_cast<size_t>(table_number) - 1]};
  }
  for (const measure::NcclTestsTable& table : tables) {
    const std::string name = measure::NcclTestName(table.test);
    const int line = table.header_line > 0 ? table.header_line : table.columns_line;
    std::optional<plan::BenchOp> op;
    switch (table.test) {
      case measure::NcclTest::kAllReduce: op = plan::BenchOp::kAllReduce; break;
      case measure::NcclTest::kAllGather: op = plan::BenchOp::kAllGather; break;
      case measure::NcclTest::kReduceScatter: op = plan::BenchOp::kReduceScatter; break;
      case measure::NcclTest::kAllToAll: op = plan::BenchOp::kAllToAll; break;
      case measure::NcclTest::kSendRecv: op = plan::BenchOp::kSendRecv; break;
      default: break;
    }
    if (!op) {
      set->notes.push_back(fmt::format("{}:{}: {} table not used: the model has no {} schedule",
                                       path, line, name, name));
      continue;
    }
    // NCCL runs all-reduce on NVSwitch machines of the Hopper generation
    // and later with NVLS (in-switch reduction): no ring or tree model
    // describes it, so such a table is not fitted.
    bool nvls_class = false;
    for (const measure::NcclTestsRank& r : table.ranks)
      nvls_class |= r.device_name.find("H100") != std::string::npos ||
                    r.device_name.find("H200") != std::string::npos ||
                    r.device_name.find("H800") != std::string::npos ||
                    r.device_name.find("B200") != std::string::npos;
    if (nvls_class && table.test == measure::NcclTest::kAllReduce && table.num_ranks >= 4) {
      set->notes.push_back(fmt::format(
          "{}:{}: all_reduce on {} ranks of {}: NCCL uses NVLS (in-switch reduction) there, out "
          "of reach of the ring model: not fitted", path, line, table.num_ranks,
          table.ranks.front().device_name));
      continue;
    }
    if (table.rows.empty()) {
      set->notes.push_back(fmt::format("{}:{}: {} run failed (line {}): no rows", path, line, name,
                                       table.failure_line));
      continue;
    }
    if (table.num_ranks < 2) {
      set->notes.push_back(fmt::format("{}:{}: {} on {} rank: nothing crosses a link", path, line,
                                       name, table.num_ranks));
      continue;
    }
    if (static_cast<uint32_t>(table.num_ranks) > max_ranks)
      return Status::BadInput(fmt::format("{}:{}: the table has {} ranks, the topology {}", path,
                                          line, table.num_ranks, max_ranks));
    const auto n = static_cast<uint32_t>(table.num_ranks);
    for (const measure::NcclTestsRow& row : table.rows) {
      if (row.size_bytes == 0 || !(row.time_us[0] > 0)) continue;
      proto::Schedule schedule = plan::IsRingCollective(*op)
                                     ? plan::RingSchedule(*op, n, row.size_bytes)
                                     : (*op == plan::BenchOp::kSendRecv
                                            ? plan::SendRecvSchedule(n, row.size_bytes)
                                            : plan::AllToAllSchedule(n, row.size_bytes));
      Observation o;
      o.file = path;
      o.where = fmt::format("line {}, {} ranks, {} B", row.line, n, row.size_bytes);
      o.kind = name;
      o.schedule = set->schedules.size();
      o.quantity = Quantity::kTotal;
      o.measured_s = row.time_us[0] * 1e-6;
      o.series = fmt::format("{}:{}", path, line);
      o.size = row.size_bytes;
      o.num_ranks = n;
      o.strategy = name;
      set->schedules.push_back(std::move(schedule));
      set->observations.push_back(std::move(o));
    }
  }
  return Status::Ok();
}

}  // namespace

Status AddLogFile(const std::string& path, const std::string& test, uint32_t max_ranks,
                  int table, MeasurementSet* set) {
  EPSIM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  EPSIM_ASSIGN_OR_RETURN(std::string sha, Sha256Hex(text, path));
  const bool has_matrices = text.find("P2P=") != std::string::npos &&
                            text.find("Matrix") != std::string::npos;
  if (has_matrices) {
    EPSIM_ASSIGN_OR_RETURN(std::vector<measure::P2pRun> runs,
                           measure::ParseP2pBandwidthLatencyLog(text, path));
    for (const measure::P2pRun& run : runs) {
      const size_t ceilings_before = set->pcie_ceilings.size();
      // Only direct peer copies bound a link: where peers cannot access
      // each other, "P2P=Enabled" is host-staged too (two copies through
      // host memory, slower than one link, and slower than NCCL's SHM).
      const measure::P2pMatrix* access = nullptr;
      for (const measure::P2pMatrix& m : run.matrices)
        if (m.kind == measure::P2pMatrixKind::kConnectivity) access = &m;
      for (const measure::P2pMatrix& m : run.matrices) {
        if (m.kind != measure::P2pMatrixKind::kBandwidth || m.bidirectional || !m.p2p_enabled)
          continue;
        double best = 0;
        for (int i = 0; i < m.num_devices; ++i)
          for (int j = 0; j < m.num_devices; ++j)
            if (i != j && (access == nullptr || access->At(i, j) > 0))
              best = std::max(best, m.At(i, j));
        if (best > 0) set->pcie_ceilings.push_back({fmt::format("{}:{}", path, m.title_line), best});
      }
      if (set->pcie_ceilings.size() == ceilings_before)
        set->notes.push_back(fmt::format(
            "{}:{}: p2pBandwidthLatencyTest without direct peer access: no link ceiling from it",
            path, run.line));
    }
  }
  // A matrices-only log (no nccl-tests or epsim bench header or columns).
  const bool has_tables = text.find("# nThread") != std::string::npos ||
                          text.find("out-of-place") != std::string::npos ||
                          text.find("#wrong") != std::string::npos;
  if (!has_matrices || has_tables)
    EPSIM_RETURN_IF_ERROR(AddNcclTables(text, path, test, max_ranks, table, set));
  set->files.push_back({path, sha});
  return Status::Ok();
}

double SimulatedSeconds(const Observation& obs, const proto::Report& report) {
  if (obs.quantity == Quantity::kTotal) return report.total_time_s();
  double seconds = 0;
  for (const proto::PhaseTiming& p : report.phases())
    if (p.kind() == obs.phase) seconds += p.busy_max_s();
  return seconds;
}

}  // namespace epsim::calibrate
