// epsim synth: write a synthetic routing trace.
#include <iostream>

#include <fmt/format.h>

#include "sim/cli/commands.h"
#include "sim/cli/data_paths.h"
#include "sim/plan/model.h"
#include "sim/trace/synth.h"
#include "sim/trace/writer.h"

namespace epsim::cli {
namespace {

struct SynthOptions {
  std::string model = "olmoe-1b-7b";
  std::string output;
  uint64_t tokens = 16384;
  uint64_t tokens_per_sequence = 2048;
  uint64_t seed = 1;
};

Status Run(const SynthOptions& opt) {
  EPSIM_ASSIGN_OR_RETURN(proto::Model model,
                         plan::LoadModel(ResolveDataFile("models", opt.model)));
  trace::UniformTraceOptions synth;
  synth.model = model.name();
  synth.num_experts = model.num_experts();
  synth.num_topk = model.num_topk();
  for (uint32_t l = model.num_dense_layers(); l < model.num_layers(); ++l) synth.layers.push_back(l);
  synth.num_tokens = opt.tokens;
  synth.tokens_per_sequence = opt.tokens_per_sequence;
  synth.seed = opt.seed;
  EPSIM_ASSIGN_OR_RETURN(trace::Trace trace, trace::GenerateUniformTrace(synth));
  EPSIM_RETURN_IF_ERROR(trace::WriteTrace(opt.output, trace));
  std::cerr << fmt::format("epsim: wrote {}: {} layers x {} tokens, uniform routing, seed {}\n",
                           opt.output, trace.layers.size(), opt.tokens, opt.seed);
  return Status::Ok();
}

}  // namespace

Runner AddSynthCommand(CLI::App& app) {
  auto opt = std::make_shared<SynthOptions>();
  CLI::App* cmd = app.add_subcommand("synth", "Generate a synthetic routing trace");
  cmd->add_option("-o,--output", opt->output, "Trace file to write")->required();
  cmd->add_option("--model", opt->model, "Model name (models/) or file")->capture_default_str();
  cmd->add_option("--tokens", opt->tokens, "Tokens per layer")
      ->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  cmd->add_option("--tokens-per-sequence", opt->tokens_per_sequence, "Sequence length")
      ->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  cmd->add_option("--seed", opt->seed, "Random seed")->capture_default_str();
  return [opt]() { return Run(*opt); };
}

}  // namespace epsim::cli
