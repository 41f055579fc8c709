#include "sim/calibrate/measurements.h"

#include <openssl/evp.h>

#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "sim/base/file_util.h"
#include "sim/dispatch/strategy.h"
#include "sim/plan/job.h"
#include "sim/plan/plan_file.h"
#include "sim/report/json_input.h"
#include "sim/report/report.h"

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

}  // namespace

Result<std::string> Sha256OfFile(const std::string& path) {
  EPSIM_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1)
    return Status::Internal(path + ": SHA-256 failed");
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

Status AddMeasuredReport(const std::string& path, const std::string& topology,
                         MeasurementSet* set) {
  EPSIM_ASSIGN_OR_RETURN(report::ReportFile file, report::ReadReportJson(path));
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
  EPSIM_ASSIGN_OR_RETURN(std::string sha, Sha256OfFile(path));
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
      fmt::format("{}, {} ranks, {} tokens", measured.strategy(), measured.num_ranks(), tokens);
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
    const bool moves = o.phase == proto::DISPATCH || o.phase == proto::COMBINE ||
                       o.phase == proto::DISPATCH_FORWARD || o.phase == proto::COMBINE_GATHER;
    if (moves && measured.num_ranks() == 1) continue;
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

double SimulatedSeconds(const Observation& obs, const proto::Report& report) {
  if (obs.quantity == Quantity::kTotal) return report.total_time_s();
  double seconds = 0;
  for (const proto::PhaseTiming& p : report.phases())
    if (p.kind() == obs.phase) seconds += p.busy_max_s();
  return seconds;
}

}  // namespace epsim::calibrate
