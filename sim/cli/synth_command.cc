// epsim synth: write a synthetic routing trace, uniform or from the
// structured model of sim/synth/model.h, with its parameters given by
// hand, fitted to a real trace (--like) or to aggregate statistics (--load,
// --coact), or read from a saved model (--params, --routing fitted).
#include <iostream>

#include <fmt/format.h>

#include "sim/base/output_file.h"
#include "sim/cli/commands.h"
#include "sim/base/data_paths.h"
#include "sim/plan/model.h"
#include "sim/report/synth_output.h"
#include "sim/trace/reader.h"
#include "sim/synth/uniform.h"
#include "sim/synth/fit.h"
#include "sim/synth/model.h"
#include "sim/trace/writer.h"

namespace epsim::cli {
namespace {

struct SynthOptions {
  std::string model = "olmoe-1b-7b";
  std::string output;
  std::string routing = "uniform";
  uint64_t tokens = 16384;
  bool tokens_given = false;
  bool routing_given = false;  // --routing given on the command line
  bool sequence_strength_given = false;
  uint64_t tokens_per_sequence = 2048;
  uint64_t seed = 1;
  uint32_t candidates = 0;
  std::vector<uint32_t> layers;
  std::vector<std::string> load;  // one JSON file, or SGLang CSV dumps (summed)
  std::string like, load_key, coact, coact_key = "base", params, save_params;
  uint64_t like_sequence_length = 0;
  synth::StructuredModelOptions hand;  // model/experts/layers filled from --model
  synth::FitOptions fit;
};

struct Shape {
  std::string name;
  uint32_t num_experts = 0, num_topk = 0;
  std::vector<uint32_t> layers;
};

Result<Shape> ModelShape(const SynthOptions& opt) {
  EPSIM_ASSIGN_OR_RETURN(const std::string model_file, ResolveDataFile("models", opt.model));
  EPSIM_ASSIGN_OR_RETURN(proto::Model model, plan::LoadModel(model_file));
  std::cerr << "epsim: model file: " << DisplayPath(model_file) << "\n";
  Shape s{model.name(), model.num_experts(), model.num_topk(), opt.layers};
  if (s.layers.empty())
    for (uint32_t l = model.num_dense_layers(); l < model.num_layers(); ++l) s.layers.push_back(l);
  for (uint32_t l : s.layers)
    if (l < model.num_dense_layers() || l >= model.num_layers())
      return Status::Usage(fmt::format("--layers {}: model {} has MoE layers {}..{}", l,
                                       model.name(), model.num_dense_layers(),
                                       model.num_layers() - 1));
  return s;
}

Result<synth::RoutingModel> FitLike(SynthOptions* opt) {
  if (!opt->layers.empty()) return Status::Usage("--layers cannot be used with --like (the real trace's layers are fitted)");
  EPSIM_ASSIGN_OR_RETURN(trace::Trace real, trace::ReadTrace(opt->like));
  EPSIM_ASSIGN_OR_RETURN(synth::FitTargets targets, synth::TargetsFromTrace(real, opt->like_sequence_length));
  targets.source = opt->like;
  // No sequence ids in the real trace: no evidence of sequence structure, so
  // none is added unless asked for.
  if (!opt->sequence_strength_given) opt->fit.sequence_strength = 0;
  if (!opt->tokens_given) opt->tokens = targets.num_tokens;
  if (targets.tokens_per_sequence > 0) opt->tokens_per_sequence = targets.tokens_per_sequence;
  auto fitted = synth::FitRoutingModel(targets, opt->fit);
  if (!fitted.ok()) return fitted.status().WithContext(opt->like);
  return fitted;
}

// Fills `read` with what --like, --load and --coact held (for the header).
Result<synth::RoutingModel> MakeModel(SynthOptions* opt, report::SynthInputs* read) {
  if (!opt->params.empty()) return synth::LoadRoutingModel(opt->params);
  read->like = opt->like;
  if (!opt->like.empty()) return FitLike(opt);
  EPSIM_ASSIGN_OR_RETURN(Shape shape, ModelShape(*opt));
  if (opt->routing == "fitted") {
    EPSIM_ASSIGN_OR_RETURN(const std::string file,
                           FindDataFile("models/" + shape.name + ".routing.json"));
    std::cerr << "epsim: routing fit file: " << DisplayPath(file) << "\n";
    return synth::LoadRoutingModel(file);
  }
  if (!opt->load.empty() || !opt->coact.empty()) {
    synth::TargetFiles files{opt->load, opt->load_key, opt->coact, opt->coact_key, opt->fit.seed};
    EPSIM_ASSIGN_OR_RETURN(synth::FitTargets targets,
                           synth::TargetsFromFiles(files, shape.name, shape.num_experts, shape.num_topk, shape.layers));
    read->load = targets.load_read;
    read->coact = opt->coact;
    return synth::FitRoutingModel(targets, opt->fit);
  }
  opt->hand.model = shape.name;
  opt->hand.num_experts = shape.num_experts;
  opt->hand.num_topk = shape.num_topk;
  opt->hand.layers = shape.layers;
  return synth::BuildStructuredModel(opt->hand);
}

Result<trace::Trace> Uniform(const SynthOptions& opt) {
  EPSIM_ASSIGN_OR_RETURN(Shape shape, ModelShape(opt));
  synth::UniformTraceOptions synth;
  synth.model = shape.name;
  synth.num_experts = shape.num_experts;
  synth.num_topk = shape.num_topk;
  synth.layers = shape.layers;
  synth.num_tokens = opt.tokens;
  synth.tokens_per_sequence = opt.tokens_per_sequence;
  synth.seed = opt.seed;
  return synth::GenerateUniformTrace(synth);
}

bool Structured(const SynthOptions& opt) {
  return opt.routing != "uniform" || !opt.like.empty() || !opt.load.empty() || !opt.coact.empty() ||
         !opt.params.empty() || !opt.save_params.empty();
}

Status WriteTraceTo(OutputFile* out, const trace::Trace& trace) {
  EPSIM_RETURN_IF_ERROR(trace::WriteTrace(out->path(), trace));
  return out->Finish();
}

// Flags that would silently override each other.
Status CheckContradictions(const SynthOptions& opt, bool routing_given) {
  const std::pair<const char*, bool> sources[] = {{"--like", !opt.like.empty()},
                                                  {"--params", !opt.params.empty()},
                                                  {"--load", !opt.load.empty()},
                                                  {"--coact", !opt.coact.empty()}};
  const char* first = nullptr;
  for (const auto& [flag, given] : sources) {
    if (!given) continue;
    if (first != nullptr && !(std::string(first) == "--load" && std::string(flag) == "--coact"))
      return Status::Usage(fmt::format("{} and {} both give the routing to generate: give one",
                                       first, flag));
    if (first == nullptr) first = flag;
  }
  if (first != nullptr && routing_given)
    return Status::Usage(fmt::format("--routing {} and {}: {} decides the routing; drop --routing",
                                     opt.routing, first, first));
  return Status::Ok();
}

Status Run(SynthOptions opt) {
  if (opt.output.empty() && opt.save_params.empty()) return Status::Usage("synth: give -o and/or --save-params");
  EPSIM_RETURN_IF_ERROR(CheckContradictions(opt, opt.routing_given));
  EPSIM_ASSIGN_OR_RETURN(OutputFile out, OutputFile::Open("-o", opt.output, OutputFile::Dash::kBinary));
  EPSIM_ASSIGN_OR_RETURN(OutputFile params, OutputFile::Open("--save-params", opt.save_params,
                                                             OutputFile::Dash::kRefuse));
  if (!Structured(opt)) {
    if (opt.candidates != 0) return Status::Usage("--candidates needs the structured generator (--routing structured)");
    EPSIM_ASSIGN_OR_RETURN(trace::Trace trace, Uniform(opt));
    EPSIM_RETURN_IF_ERROR(WriteTraceTo(&out, trace));
    std::cerr << fmt::format("epsim: wrote {}: {} layers x {} tokens, uniform routing, seed {}\n",
                             out.label(), trace.layers.size(), opt.tokens, opt.seed);
    return Status::Ok();
  }
  report::SynthInputs read;
  EPSIM_ASSIGN_OR_RETURN(synth::RoutingModel model, MakeModel(&opt, &read));
  if (!read.like.empty() || !read.load.format.empty() || !read.coact.empty()) {
    read.model = model.model;
    for (const auto& layer : model.layers) read.layers.push_back(layer.layer);
    read.num_tokens = opt.tokens;
    read.seed = opt.seed;
    // With -o -, stdout holds the trace: the header goes to stderr.
    report::WriteSynthHeader(out.to_stdout() ? std::cerr : std::cout, read);
    std::cout.flush();  // before stderr's lines, in a 2>&1 log too
  }
  if (params.given()) {
    EPSIM_RETURN_IF_ERROR(synth::SaveRoutingModel(model, params.path()));
    EPSIM_RETURN_IF_ERROR(params.Finish());
    std::cerr << fmt::format("epsim: wrote {}: {} layers, {}\n", params.label(), model.layers.size(), model.description);
  }
  if (!out.given()) return Status::Ok();
  synth::GenerateOptions g{opt.tokens, opt.tokens_per_sequence, opt.candidates, opt.seed};
  EPSIM_ASSIGN_OR_RETURN(trace::Trace trace, synth::GenerateModelTrace(model, g));
  EPSIM_RETURN_IF_ERROR(WriteTraceTo(&out, trace));
  std::cerr << fmt::format("epsim: wrote {}: {} layers x {} tokens, structured routing ({}), seed {}\n",
                           out.label(), trace.layers.size(), opt.tokens, model.description, opt.seed);
  return Status::Ok();
}

// Returns the --sequence-strength option, to tell whether it was given.
CLI::Option* AddModelFlags(CLI::App* cmd, SynthOptions* opt) {
  synth::StructuredModelOptions& h = opt->hand;
  cmd->add_option("--skew", h.popularity_skew, "Structured: std dev of log expert popularity")->capture_default_str();
  cmd->add_option("--groups", h.num_groups, "Structured: co-activation groups per layer")->capture_default_str();
  cmd->add_option("--group-strength", h.group_strength, "Structured: log boost of a token's group")->capture_default_str();
  CLI::Option* seq = cmd->add_option("--sequence-strength", h.sequence_strength,
                                     "Structured: std dev of a sequence's log preference (also the fit's value "
                                     "where the target has none; --like without sequence ids: 0)")
                         ->capture_default_str();
  cmd->add_option("--carry-strength", h.carry_strength,
                  "Structured: log boost of the experts the previous layer's picks lead to")
      ->capture_default_str();
  cmd->add_option("--score-sharpness", h.score_sharpness, "Structured: softmax sharpness of the scores")
      ->capture_default_str();
  cmd->add_option("--model-seed", h.seed, "Structured: seed of popularity, groups and successor maps")
      ->capture_default_str();
  cmd->add_option("--fit-tokens", opt->fit.fit_tokens, "Fit: tokens per layer of each calibration run")
      ->check(CLI::Range(1, 1 << 24))
      ->capture_default_str();
  cmd->add_option("--fit-iterations", opt->fit.iterations, "Fit: calibration runs")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  return seq;
}

}  // namespace

Runner AddSynthCommand(CLI::App& app) {
  auto opt = std::make_shared<SynthOptions>();
  CLI::App* cmd = app.add_subcommand("synth", "Generate a synthetic routing trace");
  cmd->add_option("-o,--output", opt->output, "Trace file to write ('-': stdout, not a terminal)");
  cmd->add_option("--model", opt->model, "Model name (models/) or file")->capture_default_str();
  CLI::Option* tokens = cmd->add_option("--tokens", opt->tokens, "Tokens per layer (with --like: the real trace's)")
                            ->check(CLI::Range(1, 1 << 30))
                            ->capture_default_str();
  cmd->add_option("--tokens-per-sequence", opt->tokens_per_sequence, "Sequence length")
      ->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  cmd->add_option("--seed", opt->seed, "Random seed of the tokens")->capture_default_str();
  CLI::Option* routing = cmd->add_option("--routing", opt->routing,
                  "uniform, structured (hand parameters below), or fitted (models/<model>.routing.json)")
      ->check(CLI::IsMember({"uniform", "structured", "fitted"}))
      ->capture_default_str();
  cmd->add_option("--layers", opt->layers, "Layer ids to generate (default: the model's MoE layers)")->delimiter(',');
  cmd->add_option("--candidates", opt->candidates, "Experts listed per token (default: top-k)");
  cmd->add_option("--like", opt->like, "Fit the structured model to this real trace");
  cmd->add_option("--like-sequence-length", opt->like_sequence_length,
                  "With --like, when the trace has one sequence id: treat runs of N tokens as sequences");
  cmd->add_option("--load", opt->load,
                  "Fit to per-expert loads: JSON {layers, load} or expert_counts.json, or SGLang "
                  "expert_distribution_rank*.csv dumps, summed (repeat the flag or separate by commas)")
      ->delimiter(',');
  cmd->add_option("--load-key", opt->load_key, "Entry of --load to use (e.g. olmoe__expert_counts__c4)");
  cmd->add_option("--coact", opt->coact, "Fit to co-activation matrices: JSON {layers, coact} or coactivation.json");
  cmd->add_option("--coact-key", opt->coact_key, "Entry of --coact's \"matrices\"")->capture_default_str();
  cmd->add_option("--params", opt->params, "Generate from a saved routing model (JSON)");
  cmd->add_option("--save-params", opt->save_params, "Write the routing model (fitted or built) as JSON");
  CLI::Option* seq = AddModelFlags(cmd, opt.get());
  return [opt, tokens, seq, routing]() {
    SynthOptions o = *opt;
    o.tokens_given = tokens->count() > 0;
    o.routing_given = routing->count() > 0;
    o.sequence_strength_given = seq->count() > 0;
    o.fit.num_groups = o.hand.num_groups;
    o.fit.group_strength = o.hand.group_strength;
    o.fit.sequence_strength = o.hand.sequence_strength;
    o.fit.carry_strength = o.hand.carry_strength;
    o.fit.score_sharpness = o.hand.score_sharpness;
    o.fit.seed = o.hand.seed;
    return Run(std::move(o));
  };
}

}  // namespace epsim::cli
