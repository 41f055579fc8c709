// Chrome trace event format (the JSON array form with metadata events), read
// by chrome://tracing and ui.perfetto.dev. Each report is a process; rank r
// has thread ids 2r (compute) and 2r+1 (communication), so the GPUs appear in
// rank order with compute above comm. Times are microseconds.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

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

// The backward pass's kinds (ATTENTION_BACKWARD and after).
bool IsBackwardKind(proto::PhaseKind kind) { return kind >= proto::ATTENTION_BACKWARD; }

// Per rank, a "block L<layer>" slice (" backward" in the backward pass)
// around each run of consecutive compute ops of one block, so that the
// phases nest in their block. Compute ops never overlap on a rank, so the
// runs are disjoint and every op lies inside its run's slice.
void AppendBlocks(const proto::Report& report,
                  const std::map<uint32_t, const proto::PhaseTiming*>& phases, int pid,
                  Json* events) {
  std::vector<std::vector<const proto::OpTiming*>> compute(report.num_ranks());
  for (const proto::OpTiming& op : report.ops())
    if (!IsCommunicationKind(phases.at(op.phase())->kind())) compute[op.rank()].push_back(&op);
  for (uint32_t r = 0; r < report.num_ranks(); ++r) {
    std::vector<const proto::OpTiming*>& ops = compute[r];
    std::stable_sort(ops.begin(), ops.end(), [](const auto* a, const auto* b) {
      return a->start_s() < b->start_s();
    });
    for (size_t i = 0; i < ops.size();) {
      const proto::PhaseTiming& first = *phases.at(ops[i]->phase());
      const bool backward = IsBackwardKind(first.kind());
      size_t j = i + 1;
      double end = ops[i]->end_s();
      while (j < ops.size()) {
        const proto::PhaseTiming& next = *phases.at(ops[j]->phase());
        if (next.layer() != first.layer() || IsBackwardKind(next.kind()) != backward) break;
        end = std::max(end, ops[j]->end_s());
        ++j;
      }
      events->push_back(Json{
          {"name", "block L" + std::to_string(first.layer()) + (backward ? " backward" : "")},
          {"cat", "block"},
          {"ph", "X"},
          {"pid", pid},
          {"tid", ThreadId(r, false)},
          {"ts", ToUs(ops[i]->start_s())},
          {"dur", ToUs(end - ops[i]->start_s())},
          {"args", {{"layer", first.layer()}, {"phases", j - i}}}});
      i = j;
    }
  }
}

// Flow arrows of one all-to-all phase: from the sender's op (at its start)
// to the receiver's op (just before its end, inside it) for every pair the
// plan sends bytes between.
void AppendFlows(const proto::Phase& planned, const proto::PhaseTiming& phase,
                 const std::vector<const proto::OpTiming*>& op_of_rank, int pid, uint64_t* id,
                 Json* events) {
  const size_t d = op_of_rank.size();
  if (static_cast<size_t>(planned.send_bytes_size()) != d * d) return;
  const std::string name = std::string(PhaseName(phase.kind())) + " L" + std::to_string(phase.layer());
  for (size_t s = 0; s < d; ++s)
    for (size_t t = 0; t < d; ++t) {
      const uint64_t bytes = planned.send_bytes(static_cast<int>(s * d + t));
      const proto::OpTiming* from = op_of_rank[s];
      const proto::OpTiming* to = op_of_rank[t];
      if (s == t || bytes == 0 || from == nullptr || to == nullptr) continue;
      const double to_dur = to->end_s() - to->start_s();
      if (to_dur <= 0) continue;
      ++*id;
      events->push_back(Json{{"name", name}, {"cat", "flow"}, {"ph", "s"}, {"id", *id},
                             {"pid", pid}, {"tid", ThreadId(static_cast<uint32_t>(s), true)},
                             {"ts", ToUs(from->start_s())}, {"args", {{"bytes", bytes}}}});
      events->push_back(Json{{"name", name}, {"cat", "flow"}, {"ph", "f"}, {"bp", "e"},
                             {"id", *id}, {"pid", pid},
                             {"tid", ThreadId(static_cast<uint32_t>(t), true)},
                             {"ts", ToUs(to->end_s() - to_dur / 1000)}});
    }
}

Status AppendReport(const proto::Report& report, const proto::Schedule* schedule, int pid,
                    uint64_t* flow_id, Json* events) {
  std::map<uint32_t, const proto::PhaseTiming*> phases;
  for (const proto::PhaseTiming& phase : report.phases()) phases[phase.phase()] = &phase;
  AppendNames(report, pid, events);
  std::map<uint32_t, std::vector<const proto::OpTiming*>> comm_ops;  // phase -> op per rank
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
    if (IsCommunicationKind(found->second->kind())) {
      auto& per_rank = comm_ops[op.phase()];
      per_rank.resize(report.num_ranks(), nullptr);
      per_rank[op.rank()] = &op;
    }
  }
  AppendBlocks(report, phases, pid, events);
  if (schedule == nullptr || report.num_ranks() > kMaxFlowRanks) return Status::Ok();
  for (const auto& [phase_id, per_rank] : comm_ops) {
    if (phase_id >= static_cast<uint32_t>(schedule->phases_size()) ||
        schedule->phases(static_cast<int>(phase_id)).id() != phase_id)
      return Status::Internal(ReportName(report) + ": phase " + std::to_string(phase_id) +
                              " is not in the schedule the timeline was given");
    AppendFlows(schedule->phases(static_cast<int>(phase_id)), *phases.at(phase_id), per_rank, pid,
                flow_id, events);
  }
  return Status::Ok();
}

}  // namespace

Status WriteChromeTrace(const std::string& path, const std::vector<proto::Report>& reports,
                        const std::vector<proto::Schedule>* schedules) {
  if (schedules != nullptr && schedules->size() != reports.size())
    return Status::Internal("timeline: " + std::to_string(reports.size()) + " reports but " +
                            std::to_string(schedules->size()) + " schedules");
  Json events = Json::array();
  uint64_t flow_id = 0;
  for (size_t i = 0; i < reports.size(); ++i)
    EPSIM_RETURN_IF_ERROR(AppendReport(reports[i], schedules ? &(*schedules)[i] : nullptr,
                                       static_cast<int>(i) + 1, &flow_id, &events));
  Json doc{{"traceEvents", events}, {"displayTimeUnit", "ns"}};
  return WriteFileAtomically(path, doc.dump(1) + "\n");
}

}  // namespace epsim::report
