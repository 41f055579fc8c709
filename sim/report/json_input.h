// Reads back the json format of WriteSimulation (`epsim simulate --format
// json`, `epsim-hw run --json`): the input of `epsim diff`.
//
// The reader is strict, because a comparison built on a silently defaulted
// field is wrong without saying so. Every key it reads must be there with
// its type, and every number must be finite (a NaN or infinity arrives as
// null, a string or an out-of-range literal, each refused); the first
// failure is a Status::BadInput naming the file and the JSON path:
//   sim.json: records[12].busy_max_us: missing
//   hw.json: context.runs[0].iterations: expected an unsigned integer, got string
//   hw.json: records[3].busy_mean_us: expected a number, got null (a NaN or
//            infinity is written as null)
//   sim.json: not valid JSON: parse error at line 40, column 1: ...
//   sim.json: not valid JSON: number overflow parsing '1e999'
// A record must belong to a run of context.runs, and (strategy, placement)
// names at most one run.
// Keys it does not read (totals, unknown extras) are ignored.
#ifndef EPSIM_SIM_REPORT_JSON_INPUT_H_
#define EPSIM_SIM_REPORT_JSON_INPUT_H_

#include <string>
#include <utility>
#include <vector>

#include "sim/base/status.h"
#include "sim/proto/report.pb.h"

namespace epsim::report {

// One json file as Reports. Each context.runs[] entry becomes a Report with
// its fields (times converted to seconds) and, as its phases in file order,
// the records of the same (strategy, placement) with phase = their index in
// that report. Ops, routing and the record's time_us are not kept (time_us
// is end - start and must only be a finite number).
struct ReportFile {
  std::string path;     // as given; names the file in messages and headers
  std::string version;  // context.version of the writer
  std::string command;  // context.command, e.g. "simulate"
  // context.inputs (optional; every value a string), in file order.
  std::vector<std::pair<std::string, std::string>> inputs;
  std::vector<proto::Report> reports;
};

// Parses `text` (the contents of `path`, which only names it).
Result<ReportFile> ParseReportJson(const std::string& text, const std::string& path);

// Reads and parses the file at `path`.
Result<ReportFile> ReadReportJson(const std::string& path);

// The inverse of PhaseName: "dispatch" -> proto::DISPATCH. Returns false for
// a name PhaseName never writes.
bool PhaseKindFromName(const std::string& name, proto::PhaseKind* kind);

}  // namespace epsim::report

#endif  // EPSIM_SIM_REPORT_JSON_INPUT_H_
