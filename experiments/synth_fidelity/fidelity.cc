// synth_fidelity: how close does a fitted synthetic trace get to the real one?
//
//   synth_fidelity trace REAL.trace [SEQ_LEN]   fit (like `epsim synth --like`),
//       generate the real token count and 10x, and print one markdown row per
//       trace (real, fitted 1x, fitted 10x, uniform 1x) with: mean over layers
//       of per-expert load max/mean and CV, mean C_T at D = 4 and 8
//       (contiguous placement), mean over layers of the off-diagonal
//       correlation of the co-activation matrix with the real one, affinity
//       concentration, sequence lift and top-1 score share.
//   synth_fidelity aggregate LOAD_JSON LOAD_KEY|- COACT_JSON|- E K LAYERS TOKENS
//       fit to aggregate targets only, generate TOKENS tokens, and compare
//       load max/mean and CV (and co-activation) on the layers that have data.
//   synth_fidelity time PARAMS.json TOKENS     time GenerateModelTrace.
//
// Sequence lift and top-1 share are defined in sim/synth/fit.h, the
// rest in sim/trace/trace_stats.h and sim/plan/routing_stats.h.
#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>

#include <fmt/format.h>

#include "sim/plan/routing_stats.h"
#include "sim/trace/reader.h"
#include "sim/synth/uniform.h"
#include "sim/synth/fit.h"
#include "sim/synth/model.h"
#include "sim/trace/trace_stats.h"
#include "sim/trace/writer.h"

namespace {

using namespace epsim;  // NOLINT: a one-file study program

struct Row {
  double imbalance = 0, cv = 0, ct4 = 0, ct8 = 0, coact_corr = 0, affinity = 0, lift = 0, top1 = 0;
};

double MeanCt(const std::string& path, uint32_t d) {
  auto s = plan::ComputeRoutingStats(path, d, "contiguous");
  if (!s.ok()) return -1;
  return s->mean.ct_mean;
}

Row Measure(const trace::Trace& t, const trace::TraceStats* real, const std::string& tmp,
            uint64_t seq_len) {
  Row r;
  const trace::TraceStats s = trace::ComputeTraceStats(t);
  double n_aff = 0, n_lift = 0;
  for (size_t i = 0; i < s.layers.size(); ++i) {
    r.imbalance += trace::Imbalance(s.layers[i].load) / s.layers.size();
    r.cv += trace::CoefficientOfVariation(s.layers[i].load) / s.layers.size();
    if (real != nullptr) r.coact_corr += trace::OffDiagonalCorrelation(real->layers[i].coact, s.layers[i].coact) / s.layers.size();
    if (s.layers[i].affinity.n > 0) r.affinity += trace::AffinityConcentration(s.layers[i].affinity), ++n_aff;
    const double lift = synth::SequenceLift(t.layers[i], seq_len);
    if (lift > 0) r.lift += lift, ++n_lift;
  }
  r.affinity = n_aff > 0 ? r.affinity / n_aff : 0;
  r.lift = n_lift > 0 ? r.lift / n_lift : 0;
  r.top1 = synth::TopOneShare(t);
  if (!tmp.empty() && trace::WriteTrace(tmp, t).ok()) {
    r.ct4 = MeanCt(tmp, 4);
    r.ct8 = MeanCt(tmp, 8);
    std::filesystem::remove(tmp);
  }
  return r;
}

void Print(const std::string& name, const std::string& what, uint64_t tokens, const Row& r, bool corr) {
  std::cout << fmt::format("| {} | {} | {} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {} | {:.3f} | {} | {:.3f} |\n",
                           name, what, tokens, r.imbalance, r.cv, r.ct4, r.ct8,
                           corr ? fmt::format("{:.3f}", r.coact_corr) : std::string("1"), r.affinity,
                           r.lift > 0 ? fmt::format("{:.3f}", r.lift) : std::string("n/a"), r.top1);
}

int FitTrace(const std::string& path, uint64_t seq_len) {
  auto real = trace::ReadTrace(path);
  if (!real.ok()) return std::cerr << real.status().ToString() << "\n", 2;
  auto targets = synth::TargetsFromTrace(*real, seq_len);
  if (!targets.ok()) return std::cerr << targets.status().ToString() << "\n", 2;
  targets->source = std::filesystem::path(path).filename().string();
  synth::FitOptions fit;
  fit.sequence_strength = 0;  // as `epsim synth --like`: no sequence ids, no sequence structure
  const auto t0 = std::chrono::steady_clock::now();
  auto model = synth::FitRoutingModel(*targets, fit);
  if (!model.ok()) return std::cerr << model.status().ToString() << "\n", 2;
  const double fit_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string name = std::filesystem::path(path).stem().string();
  const std::string tmp = (std::filesystem::temp_directory_path() / ("fidelity_" + name + ".trace")).string();
  const trace::TraceStats real_stats = trace::ComputeTraceStats(*real);
  Print(name, "real", targets->num_tokens, Measure(*real, &real_stats, tmp, seq_len), true);
  const uint64_t tps = targets->tokens_per_sequence > 0 ? targets->tokens_per_sequence : 2048;
  for (uint64_t scale : {1, 10}) {
    synth::GenerateOptions g{targets->num_tokens * scale, tps, 0, 42};
    auto synth = synth::GenerateModelTrace(*model, g);
    if (!synth.ok()) return std::cerr << synth.status().ToString() << "\n", 2;
    Print(name, fmt::format("fitted {}x", scale), g.num_tokens, Measure(*synth, &real_stats, tmp, tps), true);
  }
  synth::UniformTraceOptions u;
  u.num_experts = targets->num_experts;
  u.num_topk = targets->num_topk;
  for (const auto& l : real->layers) u.layers.push_back(l.layer);
  u.num_tokens = targets->num_tokens;
  u.tokens_per_sequence = tps;
  u.seed = 42;
  auto uniform = synth::GenerateUniformTrace(u);
  Print(name, "uniform 1x", u.num_tokens, Measure(*uniform, &real_stats, tmp, tps), true);
  std::cerr << fmt::format("{}: fit took {:.2f} s\n", name, fit_s);
  return 0;
}

int FitAggregate(char** argv) {
  synth::TargetFiles files;
  if (std::string(argv[0]) != "-") files.load_paths = {argv[0]};
  files.load_key = std::string(argv[1]) == "-" ? "" : argv[1];
  files.coact_path = std::string(argv[2]) == "-" ? "" : argv[2];
  const uint32_t e = std::stoul(argv[3]), k = std::stoul(argv[4]), num_layers = std::stoul(argv[5]);
  const uint64_t tokens = std::stoull(argv[6]);
  std::vector<uint32_t> layers;
  for (uint32_t l = 0; l < num_layers; ++l) layers.push_back(l);
  auto targets = synth::TargetsFromFiles(files, "aggregate", e, k, layers);
  if (!targets.ok()) return std::cerr << targets.status().ToString() << "\n", 2;
  // The recipe of models/olmoe-1b-7b.routing.json (README): strengths the
  // aggregates cannot tell, borrowed from the FLAME-MoE fit.
  synth::FitOptions fit;
  fit.sequence_strength = 0.35;
  fit.carry_strength = 2.0;
  fit.score_sharpness = 0.18;
  auto model = synth::FitRoutingModel(*targets, fit);
  if (!model.ok()) return std::cerr << model.status().ToString() << "\n", 2;
  auto synth = synth::GenerateModelTrace(*model, synth::GenerateOptions{tokens, 2048, 0, 42});
  const trace::TraceStats s = trace::ComputeTraceStats(*synth);
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& t = targets->layers[i];
    if (t.coact.empty() && i != 0 && i != 7 && i != 15) continue;  // OLMoE: the measured layers
    std::vector<uint64_t> real_load(t.load.begin(), t.load.end());
    std::string corr = "n/a";
    if (!t.coact.empty()) {
      trace::CountMatrix m;
      m.Resize(e);
      for (size_t x = 0; x < t.coact.size(); ++x) m.values[x] = static_cast<uint64_t>(t.coact[x]);
      corr = fmt::format("{:.3f}", trace::OffDiagonalCorrelation(m, s.layers[i].coact));
    }
    std::cout << fmt::format("| {} | {:.3f} / {:.3f} | {:.3f} / {:.3f} | {} |\n", layers[i],
                             trace::Imbalance(real_load), trace::Imbalance(s.layers[i].load),
                             trace::CoefficientOfVariation(real_load),
                             trace::CoefficientOfVariation(s.layers[i].load), corr);
  }
  return 0;
}

int Time(const std::string& params, uint64_t tokens) {
  auto model = synth::LoadRoutingModel(params);
  if (!model.ok()) return std::cerr << model.status().ToString() << "\n", 2;
  // Process CPU time as well as wall time: the machine may be shared.
  double best_wall = 1e9, best_cpu = 1e9;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    auto t = synth::GenerateModelTrace(*model, synth::GenerateOptions{tokens, 2048, 0, 1});
    best_cpu = std::min(best_cpu, double(std::clock() - c0) / CLOCKS_PER_SEC);
    best_wall = std::min(best_wall, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::cout << fmt::format("{} layers x {} tokens: {:.3f} s wall, {:.3f} s CPU (best of 5)\n",
                           model->layers.size(), tokens, best_wall, best_cpu);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "trace" && argc >= 3) return FitTrace(argv[2], argc > 3 ? std::stoull(argv[3]) : 0);
  if (mode == "aggregate" && argc == 9) return FitAggregate(argv + 2);
  if (mode == "time" && argc == 4) return Time(argv[2], std::stoull(argv[3]));
  std::cerr << "usage: synth_fidelity trace REAL.trace [SEQ_LEN] | aggregate LOAD KEY COACT E K LAYERS TOKENS"
               " | time PARAMS.json TOKENS\n";
  return 1;
}
