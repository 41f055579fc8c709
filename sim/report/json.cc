// The json format: the csv records as objects plus the run's context, for
// tools that want types (numbers stay numbers, full double precision).
// Keys keep insertion order (ordered_json), so the output is deterministic.
#include <nlohmann/json.hpp>

#include <map>
#include <string>

#include "sim/report/formats.h"
#include "sim/report/summary.h"
#include "sim/report/version.h"

namespace epsim::report {

namespace {

using Json = nlohmann::ordered_json;

Json Pairs(const std::vector<std::pair<std::string, std::string>>& pairs) {
  Json object = Json::object();
  for (const auto& [key, value] : pairs) object[key] = value;
  return object;
}

// One entry per report: what it was and its own settings.
Json Run(const proto::Report& report) {
  const CommunicationShare communication = CommunicationOf(report);
  Json settings = Json::object();
  std::map<std::string, std::string> sorted(report.settings().begin(), report.settings().end());
  for (const auto& [key, value] : sorted) settings[key] = value;
  return Json{{"strategy", report.strategy()},
              {"placement", report.placement()},
              {"source", report.source()},
              {"model", report.model()},
              {"topology", report.topology()},
              {"num_ranks", report.num_ranks()},
              {"total_time_us", ToUs(report.total_time_s())},
              {"total_time_min_us", ToUs(report.total_time_min_s())},
              {"total_time_max_us", ToUs(report.total_time_max_s())},
              {"iterations", report.iterations()},
              {"warmup", report.warmup()},
              {"checked", report.checked()},
              {"wrong", report.wrong()},
              {"communication_us", ToUs(communication.busy_s)},
              {"communication_hidden_us", ToUs(communication.hidden_s)},
              {"communication_hidden_share", communication.hidden},
              {"settings", settings}};
}

Json Context(const RunInfo& info, const std::vector<proto::Report>& reports) {
  Json runs = Json::array();
  for (const proto::Report& report : reports) runs.push_back(Run(report));
  Json context{{"version", kEpsimVersion},
               {"command", info.command},
               {"inputs", Pairs(info.inputs)},
               {"settings", Pairs(info.settings)},
               {"runs", runs}};
  if (!info.notes.empty()) context["notes"] = info.notes;
  return context;
}

Json Record(const proto::Report& report, const proto::PhaseTiming& phase) {
  return Json{{"strategy", report.strategy()},       {"placement", report.placement()},
              {"layer", phase.layer()},              {"phase", PhaseName(phase.kind())},
              {"bytes", phase.bytes()},              {"rows", phase.rows()},
              {"time_us", ToUs(PhaseTime(phase))},   {"start_us", ToUs(phase.start_s())},
              {"end_us", ToUs(phase.end_s())},       {"max_rank", phase.max_rank()},
              {"busy_max_us", ToUs(phase.busy_max_s())},
              {"busy_mean_us", ToUs(phase.busy_mean_s())},
              {"critical_us", ToUs(phase.critical_s())},
              {"wait_max_us", ToUs(phase.wait_max_s())},
              {"wait_mean_us", ToUs(phase.wait_mean_s())}};
}

Json Total(const proto::Report& report, const std::string& phase, uint64_t bytes,
           uint64_t rows, double time_s) {
  return Json{{"strategy", report.strategy()}, {"placement", report.placement()},
              {"phase", phase},                {"bytes", bytes},
              {"rows", rows},                  {"time_us", ToUs(time_s)}};
}

// Per phase kind summed over layers, then "total" with the report's time
// (and no busy times: those of different phases overlap; its critical-path
// time is the pass time).
void AppendTotals(const proto::Report& report, Json* totals) {
  uint64_t bytes = 0, rows = 0;
  for (const KindTotal& t : TotalsByKind(report)) {
    Json total = Total(report, PhaseName(t.kind), t.bytes, t.rows, t.time_s);
    total["busy_max_us"] = ToUs(t.busy_max_s);
    total["busy_mean_us"] = ToUs(t.busy_mean_s);
    total["critical_us"] = ToUs(t.critical_s);
    total["wait_max_us"] = ToUs(t.wait_max_s);
    total["wait_mean_us"] = ToUs(t.wait_mean_s);
    totals->push_back(std::move(total));
    bytes += t.bytes;
    rows += t.rows;
  }
  Json total = Total(report, "total", bytes, rows, report.total_time_s());
  total["critical_us"] = ToUs(report.total_time_s());
  totals->push_back(std::move(total));
}

}  // namespace

void WriteJson(std::ostream& out, const RunInfo& info, const std::vector<proto::Report>& reports) {
  Json records = Json::array();
  Json totals = Json::array();
  for (const proto::Report& report : reports) {
    for (const proto::PhaseTiming& phase : report.phases())
      records.push_back(Record(report, phase));
    AppendTotals(report, &totals);
  }
  Json doc{{"context", Context(info, reports)}, {"records", records}, {"totals", totals}};
  out << doc.dump(2) << "\n";
}

}  // namespace epsim::report
