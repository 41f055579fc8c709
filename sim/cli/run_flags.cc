#include "sim/cli/run_flags.h"

#include <string>

namespace epsim::cli {

void AddRunFlags(CLI::App* cmd, plan::RunFlags* f) {
  cmd->add_option("--trace", f->trace,
                  "Trace file; without it a seeded synthetic trace is generated");
  cmd->add_option("--model", f->model,
                  "Model name (models/) or file; default: the trace's model, or " +
                      std::string(plan::kDefaultModel));
  cmd->add_option("--topology", f->topology, "Topology name (topologies/) or file")
      ->capture_default_str();
  cmd->add_option("--ep", f->ep, "Expert-parallel size; 0 = every GPU of the topology")
      ->capture_default_str();
  cmd->add_option("--tokens", f->tokens, "Tokens per layer of the synthetic trace")
      ->check(CLI::Range(1, 1 << 30))
      ->each([f](const std::string&) { f->tokens_given = true; })
      ->capture_default_str();
  cmd->add_option("--seed", f->seed, "Seed of the synthetic trace")->capture_default_str();
  cmd->add_option("--profile", f->profile,
                  "Trace to profile for c2r partners and pruning similarity (default: the "
                  "replayed trace)");
  cmd->add_option("--similarity", f->similarity,
                  "Expert similarity JSON for pruned:N:similarity (default: estimated from "
                  "the profile trace's scores)");
  cmd->add_option("--pass", f->pass,
                  "prefill: every traced token once; decode: each forward step of the trace "
                  "in turn, one new token per sequence over a KV cache (--context); train: "
                  "forward, backward and the gradient all-reduce")
      ->check(CLI::IsMember({"prefill", "decode", "train"}))
      ->capture_default_str();
  cmd->add_flag("--recompute", f->recompute,
                "Train: recompute each block's activations before its backward");
  cmd->add_option("--context", f->context,
                  "Decode: KV-cache tokens per sequence before the trace's first step")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 30))
      ->capture_default_str();
  cmd->add_option("--overlap", f->overlap,
                  "What runs under the dispatch all-to-all: none, shared-expert (the "
                  "shared experts, as DeepSeek and Qwen run them), or scmoe (ScMoE's "
                  "shortcut: each MoE block's dispatch under the previous block's rest "
                  "and its own attention), or micro-batches (DeepSeek-V3: two micro-batches, "
                  "one's all-to-all under the other's compute)")
      ->check(CLI::IsMember({"none", "shared-expert", "scmoe", "micro-batches"}))
      ->capture_default_str();
}

void AddLayoutFlag(CLI::App* cmd, plan::RunFlags* f) {
  cmd->add_option("--ranks-per-host", f->ranks_per_host,
                  "Plan as if rank r were on host r / K (e.g. hierarchical dispatch on a 2 x 2 "
                  "layout); 0 = the topology's hosts")
      ->capture_default_str();
}

}  // namespace epsim::cli
