// epsim trace show|validate|matrix|export: look inside a trace file, check
// it, export a layer's traffic for NCCL benchmarks, or write it back as a log.
#include <iostream>

#include <fmt/format.h>

#include <algorithm>

#include "sim/base/file_util.h"
#include "sim/base/output_file.h"
#include "sim/cli/commands.h"
#include "sim/base/data_paths.h"
#include "sim/dispatch/strategy.h"
#include "sim/placement/placement.h"
#include "sim/plan/layer_traffic.h"
#include "sim/plan/model.h"
#include "sim/plan/schedule_builder.h"
#include "sim/report/trace_output.h"
#include "sim/trace/export.h"
#include "sim/trace/reader.h"
#include "sim/trace/validate.h"

namespace epsim::cli {
namespace {

struct TraceOptions {
  std::string path;
  uint32_t records = 2;
  uint32_t tokens = 4;
  // matrix
  uint32_t ep = 4;
  int64_t layer = -1;  // -1: the first traced layer
  std::string dispatch = "dedup";
  std::string model;
  std::string unit = "B";
  std::string output;
  std::string export_format = "jsonl";
};

// One layer's dispatch bytes [src][dst] under a strategy, as the planner
// counts them: rows x hidden x dispatch bytes per element.
Status Matrix(const TraceOptions& opt) {
  EPSIM_ASSIGN_OR_RETURN(OutputFile out, OutputFile::Open("-o", opt.output, OutputFile::Dash::kText));
  EPSIM_ASSIGN_OR_RETURN(trace::Trace trace, trace::ReadTrace(opt.path));
  const std::string model_name = opt.model.empty() ? trace.header.model() : opt.model;
  if (model_name.empty()) return Status::Usage(opt.path + ": trace names no model; give --model");
  EPSIM_ASSIGN_OR_RETURN(const std::string model_file, ResolveDataFile("models", model_name));
  EPSIM_ASSIGN_OR_RETURN(proto::Model model, plan::LoadModel(model_file));
  // stdout is the bare matrix (a benchmark's input): the file read is noted on stderr.
  std::cerr << "epsim: model file: " << DisplayPath(model_file) << "\n";
  EPSIM_ASSIGN_OR_RETURN(auto strategy, dispatch::MakeStrategy(opt.dispatch));
  EPSIM_ASSIGN_OR_RETURN(placement::Placement placement,
                         placement::MakePlacement("contiguous", model.num_experts(), opt.ep));
  if (trace.layers.empty()) return Status::BadInput(opt.path + ": trace has no layers");
  const trace::LayerRouting* layer = &trace.layers.front();
  if (opt.layer >= 0) {
    auto it = std::find_if(trace.layers.begin(), trace.layers.end(),
                           [&](const trace::LayerRouting& l) { return l.layer == opt.layer; });
    if (it == trace.layers.end())
      return Status::BadInput(fmt::format("{}: no layer {} in the trace", opt.path, opt.layer));
    layer = &*it;
  }
  const placement::LayerPlacements placements(std::move(placement));
  const dispatch::ClusterMap cluster = dispatch::ClusterMap::SingleHost(opt.ep);
  const plan::PlanInputs in{trace, model, placements, *strategy, cluster};
  EPSIM_RETURN_IF_ERROR(plan::CheckCompatible(in));
  EPSIM_ASSIGN_OR_RETURN(dispatch::RouteContext ctx, plan::ContextFor(in, layer->layer));
  const plan::LayerTraffic traffic = plan::CountLayer(*layer, ctx, *strategy);
  std::vector<uint64_t> bytes(traffic.rows.size(), 0);
  const uint64_t row_bytes = uint64_t{model.hidden()} * model.dispatch_bytes();
  for (uint32_t s = 0; s < opt.ep; ++s)
    for (uint32_t d = 0; d < opt.ep; ++d)
      if (s != d) bytes[s * opt.ep + d] = traffic.rows[s * opt.ep + d] * row_bytes;
  const std::string text =
      report::TrafficMatrixText(bytes, opt.ep, opt.unit == "KiB" ? 1024 : 1);
  if (!out.given()) {
    std::cout << text;
    return Status::Ok();
  }
  EPSIM_RETURN_IF_ERROR(WriteFileAtomically(out.path(), text));
  return out.Finish();
}

Status Export(const TraceOptions& opt) {
  EPSIM_ASSIGN_OR_RETURN(OutputFile out, OutputFile::Open("-o", opt.output, OutputFile::Dash::kText));
  EPSIM_RETURN_IF_ERROR(trace::ExportTrace(opt.path, out.path(), opt.export_format));
  return out.Finish();
}

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
  CLI::App* matrix = cmd->add_subcommand(
      "matrix", "One layer's dispatch traffic as a rank x rank byte matrix (alltoallv input)");
  matrix->add_option("trace", opt->path, "Trace file")->required();
  matrix->add_option("--ep", opt->ep, "Expert-parallel size")
      ->check(CLI::Range(1, 1 << 16))
      ->capture_default_str();
  matrix->add_option("--layer", opt->layer, "Layer; default the first traced layer");
  matrix->add_option("--dispatch", opt->dispatch, "Dispatch strategy")->capture_default_str();
  matrix->add_option("--model", opt->model, "Model name or file; default the trace's model");
  matrix->add_option("--unit", opt->unit, "Entries in B or KiB (rounded up)")
      ->check(CLI::IsMember({"B", "KiB"}))
      ->capture_default_str();
  matrix->add_option("-o,--output", opt->output, "Write to this file instead of stdout ('-': stdout)");
  matrix->footer(
      "Row = sending rank, column = receiving rank; entry = bytes that dispatch sends over\n"
      "links in that layer (rows x hidden x dispatch bytes per element; diagonal 0).\n"
      "Combine moves the transpose. Feed it to an all-to-all-v benchmark that reads a\n"
      "traffic matrix file to replay the same pattern with NCCL.");
  CLI::App* exporter = cmd->add_subcommand(
      "export", "Write the trace back as a routing log (vLLM-style JSON lines or plain CSV)");
  exporter->add_option("trace", opt->path, "Trace file")->required();
  exporter->add_option("-o,--output", opt->output, "Log file to write ('-': stdout)")->required();
  exporter->add_option("--format", opt->export_format, "jsonl or csv")
      ->check(CLI::IsMember({"jsonl", "csv"}))
      ->capture_default_str();
  exporter->footer("`epsim import` reads both back to the same trace (token and sequence ids,\n"
                   "experts and scores bit for bit).");
  return [opt, show, validate, matrix, exporter]() -> Status {
    if (show->parsed()) return Show(*opt);
    if (validate->parsed()) return Validate(*opt);
    if (matrix->parsed()) return Matrix(*opt);
    if (exporter->parsed()) return Export(*opt);
    return Status::Usage("trace: give show, validate, matrix or export");
  };
}

}  // namespace epsim::cli
