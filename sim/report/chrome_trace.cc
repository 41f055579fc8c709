// Chrome trace event format (the JSON array form with metadata events), read
// by chrome://tracing and ui.perfetto.dev. Each report is a process; rank r
// has thread ids 2r (compute) and 2r+1 (communication), so the GPUs appear in
// rank order with compute above comm. Times are microseconds.
#include <nlohmann/json.hpp>

#include <map>
#include <string>

#include "sim/base/file_util.h"
#include "sim/report/report.h"
#include "sim/report/summary.h"

namespace epsim::report {

namespace {

using Json = nlohmann::ordered_json;


uint32_t ThreadId(uint32_t rank, bool comm) { return 2 * rank + (comm ? 1 : 0); }

Json Metadata(const char* name, int pid, uint32_t tid, const std::string& value) {
  return Json{{"name", name}, {"ph", "M"}, {"pid", pid}, {"tid", tid},
              {"args", {{"name", value}}}};
}

void AppendNames(const proto::Report& report, int pid, Json* events) {
  events->push_back(Metadata("process_name", pid, 0, ReportName(report)));
  for (uint32_t r = 0; r < report.num_ranks(); ++r) {
    events->push_back(Metadata("thread_name", pid, ThreadId(r, false),
                               "GPU " + std::to_string(r) + " compute"));
    events->push_back(Metadata("thread_name", pid, ThreadId(r, true),
                               "GPU " + std::to_string(r) + " comm"));
  }
}

Json OpEvent(const proto::OpTiming& op, const proto::PhaseTiming& phase, int pid) {
  const bool comm = IsCommunicationKind(phase.kind());
  return Json{{"name", std::string(PhaseName(phase.kind())) + " L" + std::to_string(phase.layer())},
              {"cat", comm ? "comm" : "compute"},
              {"ph", "X"},
              {"pid", pid},
              {"tid", ThreadId(op.rank(), comm)},
              {"ts", ToUs(op.start_s())},
              {"dur", ToUs(op.end_s() - op.start_s())},
              {"args",
               {{"bytes", op.bytes()},
                {"layer", phase.layer()},
                {"phase", op.phase()},
                {"wait_us", ToUs(op.wait_s())},
                {"critical_path", op.critical()}}}};
}

Status AppendReport(const proto::Report& report, int pid, Json* events) {
  std::map<uint32_t, const proto::PhaseTiming*> phases;
  for (const proto::PhaseTiming& phase : report.phases()) phases[phase.phase()] = &phase;
  AppendNames(report, pid, events);
  for (const proto::OpTiming& op : report.ops()) {
    auto found = phases.find(op.phase());
    if (found == phases.end())
      return Status::BadInput(ReportName(report) + ": op on rank " + std::to_string(op.rank()) +
                              " names phase " + std::to_string(op.phase()) +
                              " that has no PhaseTiming");
    if (op.rank() >= report.num_ranks())
      return Status::BadInput(ReportName(report) + ": op rank " + std::to_string(op.rank()) +
                              " >= num_ranks " + std::to_string(report.num_ranks()));
    events->push_back(OpEvent(op, *found->second, pid));
  }
  return Status::Ok();
}

}  // namespace

Status WriteChromeTrace(const std::string& path, const std::vector<proto::Report>& reports) {
  Json events = Json::array();
  for (size_t i = 0; i < reports.size(); ++i)
    EPSIM_RETURN_IF_ERROR(AppendReport(reports[i], static_cast<int>(i) + 1, &events));
  Json doc{{"traceEvents", events}, {"displayTimeUnit", "ns"}};
  return WriteFileAtomically(path, doc.dump(1) + "\n");
}

}  // namespace epsim::report
