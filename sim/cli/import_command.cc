// epsim import FILE... -o OUT.trace
#include <iostream>

#include <fmt/format.h>

#include "sim/base/output_file.h"
#include "sim/cli/commands.h"
#include "sim/base/data_paths.h"
#include "sim/plan/model.h"
#include "sim/trace/importer.h"
#include "sim/trace/progress.h"
#include "sim/trace/reader.h"

namespace epsim::cli {
namespace {

// Lines on stderr saying what was written (stdout stays for results): the
// trace, then tokens that lack layers and rows skipped, when there are any.
Status PrintSummary(const OutputFile& out, const trace::ImportSummary& s) {
  EPSIM_ASSIGN_OR_RETURN(auto reader, trace::TraceReader::Open(out.path()));
  const proto::TraceHeader& h = reader->header();
  uint64_t rows = 0;
  for (const proto::LayerInfo& l : h.layers()) rows += l.num_tokens();
  std::cerr << fmt::format("epsim: wrote {}: {} layers ({}..{}), {} token rows, top-{} of {} experts\n",
                           out.label(), h.num_layers(), h.layers(0).layer(),
                           h.layers(h.layers_size() - 1).layer(), rows, h.num_topk(),
                           h.num_experts());
  if (s.steps > 1)
    std::cerr << fmt::format(
        "epsim: {} forward steps, route rows per step: min {}, median {}, max {}\n", s.steps,
        s.min_step_rows, s.median_step_rows, s.max_step_rows);
  if (s.scores_absent)
    std::cerr << "epsim: the log has expert ids only (no scores): strategies that rank experts "
                 "by score (pruned:N:score, node-limited, c2r) refuse this trace\n";
  if (s.incomplete_tokens > 0)
    std::cerr << fmt::format(
        "epsim: {} of {} tokens lack some layers (first: token {} lacks layer {})\n",
        s.incomplete_tokens, s.tokens, s.first_incomplete_token, s.first_missing_layer);
  if (s.skipped_rows > 0)
    std::cerr << fmt::format("epsim: skipped {} route rows (the first {} of each layer)\n",
                             s.skipped_rows, s.skip_rows_per_layer);
  return Status::Ok();
}

void AddFieldOptions(CLI::App* cmd, trace::ImportOptions* opt) {
  cmd->add_option("--shape", opt->jsonl_shape,
                  "JSON-lines shape: auto (from the first route row's fields), mixtral, vllm or "
                  "routed (a request's [tokens][layers][k] routed_experts)")
      ->check(CLI::IsMember({"auto", "mixtral", "vllm", "routed"}))
      ->capture_default_str();
  cmd->add_option("--repeats", opt->repeats,
                  "vllm shape: a (req_id, token_idx) repeated in a layer starts the next forward "
                  "step (step), or is an error (error)")
      ->check(CLI::IsMember({"step", "error"}))
      ->capture_default_str();
  cmd->add_option("--threads", opt->threads,
                  "JSON lines: parsing threads (0 = one per core); the trace is the same for any")
      ->capture_default_str();
  cmd->add_option("--layer-field", opt->layer_field, "JSON field of the layer (default: layer)");
  cmd->add_option("--ids-field", opt->ids_field,
                  "JSON field of the expert ids (default: experts / topk_ids)");
  cmd->add_option("--scores-field", opt->scores_field,
                  "JSON field of the gate scores (default: gating_probs / topk_weights)");
  cmd->add_option("--token-field", opt->token_field,
                  "JSON field of the token position (default: token_pos / token_idx)");
  cmd->add_option("--sequence-field", opt->sequence_field,
                  "JSON field of the sequence / request (default: problem_id / req_id)");
}

}  // namespace

Runner AddImportCommand(CLI::App& app) {
  auto opt = std::make_shared<trace::ImportOptions>();
  auto model = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("import", "Convert routing logs into an epsim trace");
  cmd->add_option("files", opt->inputs,
                  "Routing logs: .jsonl (one file, or one per layer), or .csv (dense one per "
                  "layer, or plain); gzip or zstd compressed too; - reads standard input")
      ->required();
  cmd->add_option("-o,--output", opt->output, "Trace file to write ('-': stdout, not a terminal)")
      ->required();
  cmd->add_option("--model", *model, "Model name or file; sets the number of experts");
  cmd->add_option("--num-experts", opt->num_experts,
                  "Routed experts per layer (without --model or a JSON meta line)");
  cmd->add_option("--format", opt->format, "auto, jsonl, dense-csv or plain-csv")
      ->check(CLI::IsMember({"auto", "jsonl", "dense-csv", "plain-csv"}))
      ->capture_default_str();
  cmd->add_option("--skip-rows", opt->skip_rows,
                  "Drop the first N route rows of each layer (warm-up rows)")
      ->capture_default_str();
  AddFieldOptions(cmd, opt.get());
  return [opt, model]() -> Status {
    EPSIM_ASSIGN_OR_RETURN(OutputFile out,
                           OutputFile::Open("-o", opt->output, OutputFile::Dash::kBinary));
    if (!model->empty()) {
      EPSIM_ASSIGN_OR_RETURN(const std::string model_file, ResolveDataFile("models", *model));
      EPSIM_ASSIGN_OR_RETURN(proto::Model m, plan::LoadModel(model_file));
      std::cerr << "epsim: model file: " << DisplayPath(model_file) << "\n";
      if (opt->num_experts != 0 && opt->num_experts != m.num_experts())
        return Status::Usage("--num-experts " + std::to_string(opt->num_experts) +
                             " contradicts model " + m.name() + " (" +
                             std::to_string(m.num_experts()) + " experts)");
      opt->num_experts = m.num_experts();
      opt->model = m.name();
    }
    // Progress bar: stderr is a terminal, or EPSIM_PROGRESS=1 (progress.h).
    if (trace::ProgressWanted()) opt->progress = &std::cerr;
    trace::ImportOptions options = *opt;
    options.output = out.path();
    EPSIM_ASSIGN_OR_RETURN(const trace::ImportSummary summary, trace::Import(options));
    EPSIM_RETURN_IF_ERROR(PrintSummary(out, summary));
    return out.Finish();
  };
}

}  // namespace epsim::cli
