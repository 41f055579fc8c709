// epsim trace show|validate: look inside a trace file and check it.
#include <iostream>

#include <fmt/format.h>

#include "sim/cli/commands.h"
#include "sim/report/trace_output.h"
#include "sim/trace/reader.h"
#include "sim/trace/validate.h"

namespace epsim::cli {
namespace {

struct TraceOptions {
  std::string path;
  uint32_t records = 2;
  uint32_t tokens = 4;
};

Status Show(const TraceOptions& opt) {
  EPSIM_ASSIGN_OR_RETURN(auto reader, trace::TraceReader::Open(opt.path));
  report::WriteTraceHeader(std::cout, opt.path, reader->header());
  proto::LayerRecord record;
  for (uint32_t r = 1; r <= opt.records; ++r) {
    EPSIM_ASSIGN_OR_RETURN(bool more, reader->Next(&record));
    if (!more) break;
    report::WriteTraceRecord(std::cout, reader->header(), record, r, opt.tokens);
  }
  return Status::Ok();
}

Status Validate(const TraceOptions& opt) {
  EPSIM_ASSIGN_OR_RETURN(trace::ValidationSummary s, trace::ValidateTrace(opt.path));
  std::cout << fmt::format("{}: valid: {} layers, {} records, {} token rows\n", opt.path,
                           s.layers, s.records, s.rows);
  return Status::Ok();
}

}  // namespace

Runner AddTraceCommand(CLI::App& app) {
  auto opt = std::make_shared<TraceOptions>();
  CLI::App* cmd = app.add_subcommand("trace", "Inspect, validate and export trace files");
  cmd->require_subcommand(1);
  CLI::App* show = cmd->add_subcommand("show", "Print the header and the first records");
  show->add_option("trace", opt->path, "Trace file")->required();
  show->add_option("--records", opt->records, "Records to print")->capture_default_str();
  show->add_option("--tokens", opt->tokens, "Tokens to print per record")->capture_default_str();
  CLI::App* validate = cmd->add_subcommand(
      "validate", "Check every invariant; exit 2 naming the first violation");
  validate->add_option("trace", opt->path, "Trace file")->required();
  return [opt, show, validate]() -> Status {
    if (show->parsed()) return Show(*opt);
    if (validate->parsed()) return Validate(*opt);
    return Status::Usage("trace: give show or validate");
  };
}

}  // namespace epsim::cli
