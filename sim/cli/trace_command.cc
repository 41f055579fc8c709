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
#include "sim/report/matrix_file_output.h"
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
  std::string layer;  // "": the first traced layer; "all"; or a layer number
  std::string dispatch = "dedup";
  std::string model;
  std::string unit = "B";
  std::string matrix_format = "bytes";
  std::string output;
  std::string export_format = "jsonl";
};

// One layer's matrix and its label.
struct LayerMatrix {
  int64_t layer = 0;
  std::vector<uint64_t> bytes;  // [src * ep + dst]
};

// The layers --layer picks: the first, one by number, or every one.
Result<std::vector<const trace::LayerRouting*>> PickLayers(const TraceOptions& opt,
                                                           const trace::Trace& trace) {
  if (trace.layers.empty()) return Status::BadInput(opt.path + ": trace has no layers");
  std::vector<const trace::LayerRouting*> picked;
  if (opt.layer == "all") {
    for (const trace::LayerRouting& l : trace.layers) picked.push_back(&l);
    return picked;
  }
  if (opt.layer.empty()) return std::vector<const trace::LayerRouting*>{&trace.layers.front()};
  if (opt.layer.find_first_not_of("0123456789") != std::string::npos || opt.layer.size() > 9)
    return Status::Usage("--layer " + opt.layer + ": want a layer number or all");
  const int64_t want = std::stoll(opt.layer);
  for (const trace::LayerRouting& l : trace.layers)
    if (l.layer == want) return std::vector<const trace::LayerRouting*>{&l};
  return Status::BadInput(fmt::format("{}: no layer {} in the trace", opt.path, want));
}

// Each picked layer's dispatch bytes [src][dst] under a strategy, as the
// planner counts them: rows x hidden x dispatch bytes per element.
Result<std::vector<LayerMatrix>> LayerMatrices(const TraceOptions& opt, uint64_t* element_bytes) {
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
  EPSIM_ASSIGN_OR_RETURN(std::vector<const trace::LayerRouting*> layers, PickLayers(opt, trace));
  const placement::LayerPlacements placements(std::move(placement));
  const dispatch::ClusterMap cluster = dispatch::ClusterMap::SingleHost(opt.ep);
  const plan::PlanInputs in{trace, model, placements, *strategy, cluster};
  EPSIM_RETURN_IF_ERROR(plan::CheckCompatible(in));
  const uint64_t row_bytes = uint64_t{model.hidden()} * model.dispatch_bytes();
  *element_bytes = model.dispatch_bytes();
  std::vector<LayerMatrix> out;
  // Luffy: sequences move layer by layer, so a layer's matrix depends on
  // the layers before it; they are counted in trace order from the first.
  plan::SequenceHomes homes{{}, model.hidden(), model.num_shared_experts() > 0};
  if (strategy->luffy() != nullptr && opt.layer != "all")
    for (const trace::LayerRouting& l : trace.layers) {
      if (&l == layers.front()) break;
      EPSIM_ASSIGN_OR_RETURN(dispatch::RouteContext ctx, plan::ContextFor(in, l.layer));
      plan::CountLayer(l, ctx, *strategy, &homes);
    }
  for (const trace::LayerRouting* layer : layers) {
    EPSIM_ASSIGN_OR_RETURN(dispatch::RouteContext ctx, plan::ContextFor(in, layer->layer));
    const plan::LayerTraffic traffic = plan::CountLayer(*layer, ctx, *strategy, &homes);
    LayerMatrix m{layer->layer, std::vector<uint64_t>(traffic.rows.size(), 0)};
    for (uint32_t s = 0; s < opt.ep; ++s)
      for (uint32_t d = 0; d < opt.ep; ++d)
        if (s != d) m.bytes[s * opt.ep + d] = traffic.rows[s * opt.ep + d] * row_bytes;
    out.push_back(std::move(m));
  }
  return out;
}

// UCC's name for the model's dispatch element (bf16 activations: bfloat16).
std::string UccTypeOf(uint64_t element_bytes) {
  switch (element_bytes) {
    case 1: return "int8";
    case 2: return "bfloat16";
    case 4: return "float32";
    default: return "float64";
  }
}

// One matrix in bytes or fractions; a fractions file names its size on stderr.
std::string MatrixText(const TraceOptions& opt, const LayerMatrix& m) {
  if (opt.matrix_format == "fractions") {
    const uint64_t size = report::LargestRowBytes(m.bytes, opt.ep);
    std::cerr << fmt::format(
        "epsim: note: layer {}: fractions of {} B (the most one rank sends): replay at its real "
        "size with -b {} -e {}\n",
        m.layer, size, size, size);
    return report::FractionsText(m.bytes, opt.ep, size);
  }
  return report::TrafficMatrixText(m.bytes, opt.ep, opt.unit == "KiB" ? 1024 : 1);
}

// FILE.txt -> FILE.layer3.txt (one file per layer).
std::string LayerPath(const std::string& path, int64_t layer) {
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  const bool ext = dot != std::string::npos && (slash == std::string::npos || dot > slash);
  return ext ? fmt::format("{}.layer{}{}", path.substr(0, dot), layer, path.substr(dot))
             : fmt::format("{}.layer{}", path, layer);
}

// To stdout when no -o was given; else atomically to the output (or its
// scratch file, copied to stdout or a device by Finish()).
Status Emit(OutputFile& out, const std::string& text) {
  if (!out.given()) {
    std::cout << text;
    return Status::Ok();
  }
  EPSIM_RETURN_IF_ERROR(WriteFileAtomically(out.path(), text));
  return out.Finish();
}

Status Matrix(const TraceOptions& opt) {
  if (opt.unit != "B" && opt.matrix_format != "bytes")
    return Status::Usage("--unit is for --format bytes");
  EPSIM_ASSIGN_OR_RETURN(OutputFile out, OutputFile::Open("-o", opt.output, OutputFile::Dash::kText));
  uint64_t element_bytes = 1;
  EPSIM_ASSIGN_OR_RETURN(std::vector<LayerMatrix> layers, LayerMatrices(opt, &element_bytes));
  if (opt.matrix_format == "ucc") {
    std::vector<std::vector<uint64_t>> matrices;
    std::vector<std::string> labels;
    for (const LayerMatrix& m : layers) {
      matrices.push_back(m.bytes);
      labels.push_back(fmt::format("layer {}", m.layer));
    }
    EPSIM_ASSIGN_OR_RETURN(std::string text,
                           report::UccPatternText(matrices, labels, opt.ep,
                                                  UccTypeOf(element_bytes), element_bytes));
    return Emit(out, text);
  }
  if (opt.layer != "all") return Emit(out, MatrixText(opt, layers.front()));
  if (out.given() && !out.to_stdout()) {
    // One file per layer beside the output (its directory was checked).
    for (const LayerMatrix& m : layers)
      EPSIM_RETURN_IF_ERROR(
          WriteFileAtomically(LayerPath(opt.output, m.layer), MatrixText(opt, m)));
    return Status::Ok();
  }
  for (size_t i = 0; i < layers.size(); ++i)
    std::cout << (i > 0 ? "\n" : "") << "# layer " << layers[i].layer << "\n"
              << MatrixText(opt, layers[i]);
  return Status::Ok();
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
  std::cout << fmt::format("{}: valid: format version {}, {} layers, {} forward step{}, {} records, "
                           "{} token rows\n",
                           opt.path, s.version, s.layers, s.steps, s.steps == 1 ? "" : "s",
                           s.records, s.rows);
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
  matrix->add_option("--layer", opt->layer,
                     "Layer number, or all (see below); default the first traced layer");
  matrix->add_option("--dispatch", opt->dispatch, "Dispatch strategy")->capture_default_str();
  matrix->add_option("--model", opt->model, "Model name or file; default the trace's model");
  matrix->add_option("--unit", opt->unit, "bytes format: entries in B or KiB (rounded up)")
      ->check(CLI::IsMember({"B", "KiB"}))
      ->capture_default_str();
  matrix->add_option("--format", opt->matrix_format,
                     "bytes (nccl-tests alltoallv_perf), fractions (nccl-tests PR #157) or ucc "
                     "(UCC perftest --gen file:)")
      ->check(CLI::IsMember({"bytes", "fractions", "ucc"}))
      ->capture_default_str();
  matrix->add_option("-o,--output", opt->output, "Write to this file instead of stdout ('-': stdout)");
  matrix->footer(
      "Row = sending rank, column = receiving rank; entry = bytes that dispatch sends over\n"
      "links in that layer (rows x hidden x dispatch bytes per element; diagonal 0).\n"
      "Combine moves the transpose. Formats (sim/plan/matrix_file.h):\n"
      "  bytes      n lines of n byte counts: NCCL_TESTS_ALLTOALLV_MATRIX_FILE=FILE\n"
      "             alltoallv_perf -b S -e S (S >= the largest row), or epsim bench\n"
      "  fractions  n lines of n comma-separated fractions of the largest row sum S\n"
      "             (printed on stderr): entry x S = bytes at size S\n"
      "  ucc        UCC perftest pattern file, counts in dispatch elements (bf16:\n"
      "             -d bfloat16): ucc_perftest -c alltoallv -d bfloat16 --gen file:name=FILE\n"
      "--layer all: ucc writes one [collective] per layer into one file (UCC runs them in\n"
      "turn); bytes and fractions write one file per layer, -o m.txt -> m.layer0.txt ...,\n"
      "or without -o one block per layer on stdout, each after a '# layer L' line.");
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
