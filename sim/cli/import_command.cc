// epsim import FILE... -o OUT.trace
#include <iostream>

#include <fmt/format.h>

#include "sim/cli/commands.h"
#include "sim/cli/data_paths.h"
#include "sim/plan/model.h"
#include "sim/trace/importer.h"
#include "sim/trace/reader.h"

namespace epsim::cli {
namespace {

// One line on stderr saying what was written (stdout stays for results).
Status PrintSummary(const std::string& path) {
  EPSIM_ASSIGN_OR_RETURN(auto reader, trace::TraceReader::Open(path));
  const proto::TraceHeader& h = reader->header();
  uint64_t rows = 0;
  for (const proto::LayerInfo& l : h.layers()) rows += l.num_tokens();
  std::cerr << fmt::format("epsim: wrote {}: {} layers ({}..{}), {} token rows, top-{} of {} experts\n",
                           path, h.num_layers(), h.layers(0).layer(),
                           h.layers(h.layers_size() - 1).layer(), rows, h.num_topk(),
                           h.num_experts());
  return Status::Ok();
}

}  // namespace

Runner AddImportCommand(CLI::App& app) {
  auto opt = std::make_shared<trace::ImportOptions>();
  auto model = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("import", "Convert routing logs into an epsim trace");
  cmd->add_option("files", opt->inputs, "Routing logs (.jsonl, or dense .csv one per layer)")
      ->required();
  cmd->add_option("-o,--output", opt->output, "Trace file to write")->required();
  cmd->add_option("--model", *model, "Model name or file; sets the number of experts");
  cmd->add_option("--num-experts", opt->num_experts, "Routed experts per layer (without --model)");
  cmd->add_option("--format", opt->format, "auto, jsonl or dense-csv")
      ->check(CLI::IsMember({"auto", "jsonl", "dense-csv"}))
      ->capture_default_str();
  return [opt, model]() -> Status {
    if (!model->empty()) {
      EPSIM_ASSIGN_OR_RETURN(proto::Model m, plan::LoadModel(ResolveDataFile("models", *model)));
      if (opt->num_experts != 0 && opt->num_experts != m.num_experts())
        return Status::Usage("--num-experts " + std::to_string(opt->num_experts) +
                             " contradicts model " + m.name() + " (" +
                             std::to_string(m.num_experts()) + " experts)");
      opt->num_experts = m.num_experts();
      opt->model = m.name();
    }
    if (opt->num_experts == 0) return Status::Usage("give --model or --num-experts");
    EPSIM_RETURN_IF_ERROR(trace::Import(*opt));
    return PrintSummary(opt->output);
  };
}

}  // namespace epsim::cli
