// The executor core against hand-checkable and generated plans, on the
// fake backend (threads, roofline clock): exact layouts, verified outputs,
// wire bytes against the schedule, timings in the measured report.
#include <gtest/gtest.h>

#include <cmath>

#include "hw/common/layout.h"
#include "hw/common/measured_report.h"
#include "hw/common/runner.h"
#include "hw/common/verify.h"
#include "sim/dispatch/profile.h"
#include "sim/dispatch/strategies.h"
#include "sim/plan/model.h"
#include "sim/base/file_util.h"
#include "sim/plan/plan_file.h"
#include "sim/synth/uniform.h"
#include "tests/hw/common/fake_backend.h"

namespace epsim::hw {
namespace {

using testing::RunRanks;

proto::Model SmallModel(uint32_t hidden, uint32_t experts, uint32_t topk, uint32_t width,
                        uint32_t layers) {
  proto::Model m;
  m.set_name("test-moe");
  m.set_num_layers(layers);
  m.set_hidden(hidden);
  m.set_num_heads(2);
  m.set_num_kv_heads(2);
  m.set_attention(proto::MHA);
  m.set_num_experts(experts);
  m.set_num_topk(topk);
  m.set_moe_intermediate(width);
  m.set_activation_bytes(2);
  EXPECT_TRUE(plan::ValidateModel(&m).ok());
  return m;
}

// 2 ranks, 4 experts (0, 1 on rank 0; 2, 3 on rank 1), top-2, 4 tokens.
trace::Trace HandTrace() {
  trace::Trace t;
  t.header.set_num_experts(4);
  t.header.set_num_topk(2);
  t.header.set_num_candidates(2);
  t.header.set_model("test-moe");
  trace::LayerRouting l;
  l.layer = 0;
  l.num_topk = 2;
  l.num_candidates = 2;
  const uint32_t ids[4][2] = {{0, 2}, {1, 0}, {3, 1}, {2, 0}};
  const float w[4][2] = {{0.6f, 0.3f}, {0.5f, 0.4f}, {0.7f, 0.2f}, {0.5f, 0.1f}};
  for (uint32_t i = 0; i < 4; ++i) l.Append(i, 0, ids[i], w[i]);
  t.layers.push_back(l);
  return t;
}

proto::Plan MakePlan(const trace::Trace& trace, const proto::Model& model, const std::string& spec,
                     const dispatch::ClusterMap& cluster, uint32_t ranks,
                     plan::Pass pass = plan::Pass::kPrefill, bool recompute = false,
                     plan::Overlap overlap = plan::Overlap::kNone) {
  auto strategy = dispatch::MakeStrategy(spec);
  EXPECT_TRUE(strategy.ok()) << spec;
  const placement::LayerPlacements placements(*placement::Contiguous(model.num_experts(), ranks));
  const auto profiles = dispatch::BuildProfiles(trace);
  plan::PlanInputs in{trace, model, placements, **strategy, cluster, &profiles};
  in.pass = pass;
  in.recompute = recompute;
  in.overlap = overlap;
  auto plan = plan::BuildPlan(in);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return *plan;
}

// Uniformly routed layers of 16 experts, top-4 (the trace's model: test-moe).
trace::Trace UniformTrace(std::vector<uint32_t> layers, uint64_t num_tokens, uint64_t seed) {
  synth::UniformTraceOptions opt;
  opt.model = "test-moe";
  opt.num_experts = 16;
  opt.num_topk = 4;
  opt.layers = std::move(layers);
  opt.num_tokens = num_tokens;
  opt.seed = seed;
  auto trace = synth::GenerateUniformTrace(opt);
  EXPECT_TRUE(trace.ok()) << trace.status().ToString();
  return trace.ok() ? *trace : trace::Trace{};
}

// Runs the plan on its ranks; returns rank 0's result and every status.
struct Outcome {
  std::vector<Status> status;
  RunResult result;
};
Outcome RunPlan(const proto::Plan& plan, bool check, uint32_t iterations = 1) {
  Outcome out;
  std::mutex mu;
  out.status = RunRanks(plan.schedule().num_ranks(), [&](Backend* b) -> Status {
    RunOptions o;
    o.warmup = 0;
    o.iterations = iterations;
    o.check = check;
    Runner runner(plan, b, o);
    EPSIM_RETURN_IF_ERROR(runner.Setup());
    EPSIM_ASSIGN_OR_RETURN(RunResult r, runner.Run());
    if (b->rank() == 0) {
      std::lock_guard<std::mutex> lock(mu);
      out.result = r;
    }
    return Status::Ok();
  });
  return out;
}

TEST(LayoutTest, ClassicalHandCaseSendsOneRowPerExpert) {
  const proto::Plan plan = MakePlan(HandTrace(), SmallModel(8, 4, 2, 4, 1), "classical",
                                    dispatch::ClusterMap::SingleHost(2), 2);
  auto r0 = BuildLayouts(plan, 0);
  auto r1 = BuildLayouts(plan, 1);
  ASSERT_TRUE(r0.ok() && r1.ok());
  const LayerLayout& a = (*r0)[0];
  const LayerLayout& b = (*r1)[0];
  // Rank 0 holds t0, t1: t0 -> e0 (local), e2 (rank 1); t1 -> e1, e0 (local).
  EXPECT_EQ(a.dispatch.send_rows, (std::vector<uint64_t>{3, 1}));
  EXPECT_EQ(a.permute, (std::vector<uint32_t>{0, 1, 1, 0}));
  // Rank 1 holds t2, t3: t2 -> e3 (local), e1 (rank 0); t3 -> e2 (local), e0.
  EXPECT_EQ(b.dispatch.send_rows, (std::vector<uint64_t>{2, 2}));
  EXPECT_EQ(a.dispatch.recv_rows, (std::vector<uint64_t>{3, 2}));
  // Rank 0's experts: e0 gets t0, t1 (local) and t3; e1 gets t1 and t2.
  ASSERT_EQ(a.experts.size(), 2u);
  EXPECT_EQ(a.experts[0].expert, 0u);
  EXPECT_EQ(a.experts[0].rows, (std::vector<uint32_t>{0, 2, 4}));
  EXPECT_EQ(a.experts[1].rows, (std::vector<uint32_t>{1, 3}));
  // Un-permute on rank 0: t0 = 0.6 * row0 + 0.3 * row3; t1 = 0.5 * row1 + 0.4 * row2.
  EXPECT_EQ(a.unpermute.offsets, (std::vector<uint32_t>{0, 2, 4}));
  EXPECT_EQ(a.unpermute.idx, (std::vector<uint32_t>{0, 3, 1, 2}));
  EXPECT_EQ(a.unpermute.coef, (std::vector<float>{0.6f, 0.3f, 0.5f, 0.4f}));
}

TEST(LayoutTest, DedupHandCaseReducesOnTheDestination) {
  const proto::Plan plan = MakePlan(HandTrace(), SmallModel(8, 4, 2, 4, 1), "dedup",
                                    dispatch::ClusterMap::SingleHost(2), 2);
  auto r0 = BuildLayouts(plan, 0);
  ASSERT_TRUE(r0.ok());
  const LayerLayout& a = (*r0)[0];
  // t1's two experts share rank 0: one row, stage-1 reduced with its weights.
  EXPECT_EQ(a.dispatch.send_rows, (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(a.dispatch.recv_rows, (std::vector<uint64_t>{2, 2}));
  // Source coefficients: t0's single-expert rows carry their weights, t1's
  // reduced row 1.
  EXPECT_EQ(a.unpermute.coef, (std::vector<float>{0.6f, 0.3f, 1.0f}));
  // The combine pack of t1's row sums e0 and e1 with their gate weights.
  bool found = false;
  for (size_t o = 0; o < a.combine_pack.num_out(); ++o) {
    if (a.combine_pack.offsets[o + 1] - a.combine_pack.offsets[o] != 2) continue;
    found = true;
    std::vector<float> c(a.combine_pack.coef.begin() + a.combine_pack.offsets[o],
                         a.combine_pack.coef.begin() + a.combine_pack.offsets[o + 1]);
    std::sort(c.begin(), c.end());
    EXPECT_EQ(c, (std::vector<float>{0.4f, 0.5f}));
  }
  EXPECT_TRUE(found);
}

TEST(RunnerTest, HandCaseOutputsMatchTheReference) {
  for (const char* spec : {"classical", "dedup"}) {
    const proto::Plan plan = MakePlan(HandTrace(), SmallModel(8, 4, 2, 4, 1), spec,
                                      dispatch::ClusterMap::SingleHost(2), 2);
    const Outcome o = RunPlan(plan, true);
    for (const Status& s : o.status) ASSERT_TRUE(s.ok()) << spec << ": " << s.ToString();
    EXPECT_EQ(o.result.checked, 4u * 8u) << spec;
    EXPECT_EQ(o.result.wrong, 0u) << spec << ": " << o.result.first_wrong;
  }
}

TEST(RunnerTest, EveryStrategyVerifiesAndMovesTheSchedulesBytes) {
  // 4 ranks on 2 hosts, 16 experts, top-4, 2 layers of 256 uniform tokens.
  const trace::Trace trace = UniformTrace({0, 1}, 256, 7);
  ASSERT_EQ(trace.layers.size(), 2u);
  const proto::Model model = SmallModel(32, 16, 4, 16, 2);
  const dispatch::ClusterMap cluster{{0, 0, 1, 1}, 2};
  for (const char* spec : {"classical", "dedup", "pruned:2:score", "c2r:3", "node-limited:1",
                           "hierarchical"}) {
    const proto::Plan plan = MakePlan(trace, model, spec, cluster, 4);
    // The runner checks every all-to-all's per-peer bytes against the
    // schedule before the call: a run that ends ok moved exactly them.
    const Outcome o = RunPlan(plan, true);
    for (const Status& s : o.status) ASSERT_TRUE(s.ok()) << spec << ": " << s.ToString();
    EXPECT_EQ(o.result.checked, 512u * 32u) << spec;
    EXPECT_EQ(o.result.wrong, 0u) << spec << ": " << o.result.first_wrong;
  }
}

TEST(RunnerTest, LayersWithDifferentTokenCountsVerify) {
  // Real traces lack tokens in some layers (the Mixtral sample): each
  // layer's block of tokens on a rank then starts elsewhere.
  trace::Trace trace = UniformTrace({0}, 301, 1);
  const trace::Trace second = UniformTrace({1}, 258, 2);
  ASSERT_TRUE(trace.layers.size() == 1 && second.layers.size() == 1);
  trace.layers.push_back(second.layers[0]);
  const proto::Plan plan = MakePlan(trace, SmallModel(32, 16, 4, 16, 2), "dedup",
                                    dispatch::ClusterMap::SingleHost(4), 4);
  const Outcome o = RunPlan(plan, true);
  for (const Status& st : o.status) ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(o.result.checked, (301u + 258u) * 32u);
  EXPECT_EQ(o.result.wrong, 0u) << o.result.first_wrong;
}

TEST(RunnerTest, MisSizedScheduleFailsLoudly) {
  proto::Plan plan = MakePlan(HandTrace(), SmallModel(8, 4, 2, 4, 1), "classical",
                              dispatch::ClusterMap::SingleHost(2), 2);
  for (proto::Phase& p : *plan.mutable_schedule()->mutable_phases())
    if (p.kind() == proto::DISPATCH) p.set_send_bytes(0 * 2 + 1, p.send_bytes(1) + 16);
  const Outcome o = RunPlan(plan, false);
  for (const Status& s : o.status) {
    EXPECT_EQ(s.code(), Status::Code::kBadInput);
    EXPECT_NE(s.message().find("wire bytes differ from the schedule"), std::string::npos)
        << s.message();
  }
  EXPECT_NE(o.status[0].message().find("rank 0 -> 1 sends 16 B (schedule 32 B)"),
            std::string::npos)
      << o.status[0].message();
}

TEST(RunnerTest, PlanForMoreRanksThanLaunchedIsBadInput) {
  const proto::Plan plan = MakePlan(HandTrace(), SmallModel(8, 4, 2, 4, 1), "dedup",
                                    dispatch::ClusterMap::SingleHost(2), 2);
  const std::vector<Status> st = RunRanks(1, [&](Backend* b) {
    Runner runner(plan, b, RunOptions{});
    return runner.Setup();
  });
  EXPECT_EQ(st[0].code(), Status::Code::kBadInput);
  EXPECT_NE(st[0].message().find("plan is for 2 ranks but 1 were launched"), std::string::npos);
}

TEST(RunnerTest, FakeClockTimingsReachTheMeasuredReport) {
  // Classical hand case: rank 0 computes e0 on 3 rows and e1 on 2, rank 1
  // e2 on 2 and e3 on 1 (H = 8, F = 4): 6 n H F / 1e12 s each.
  const proto::Plan plan = MakePlan(HandTrace(), SmallModel(8, 4, 2, 4, 1), "classical",
                                    dispatch::ClusterMap::SingleHost(2), 2);
  const Outcome o = RunPlan(plan, false, 3);
  for (const Status& s : o.status) ASSERT_TRUE(s.ok()) << s.ToString();
  RunOptions ro;
  ro.warmup = 0;
  ro.iterations = 3;
  const proto::Report report = MeasuredReport(plan, o.result, ro, "fake");
  EXPECT_EQ(report.source(), "measured");
  EXPECT_EQ(report.iterations(), 3u);
  for (const proto::PhaseTiming& p : report.phases()) {
    if (p.kind() == proto::EXPERT) {
      // (Marks are differences of a running clock: equal to 1e-6 relative.)
      EXPECT_NEAR(p.busy_max_s(), 6.0 * 5 * 8 * 4 / 1e12, 1e-21);
      EXPECT_NEAR(p.busy_mean_s(), (6.0 * 5 * 8 * 4 + 6.0 * 3 * 8 * 4) / 2 / 1e12, 1e-21);
    }
    // Dispatch: rank 0 sends 1 row and receives 2, rank 1 the reverse, 16 B
    // a row (H = 8 BF16): 48 B at 1 GB/s on each rank.
    if (p.kind() == proto::DISPATCH) {
      EXPECT_NEAR(p.busy_max_s(), 48 / 1e9, 1e-18);
    }
  }
  EXPECT_GT(report.total_time_s(), 0);
  EXPECT_EQ(report.total_time_min_s(), report.total_time_max_s());
}

TEST(RunnerTest, TrainPassVerifiesForwardOutputsAndInputGradients) {
  // The backward's exchanges mirror every forward one (hierarchical: the
  // relay's too) and must move exactly the schedule's bytes; the input
  // gradients match the reference (verify.h).
  const trace::Trace trace = UniformTrace({0, 1}, 256, 7);
  proto::Model model = SmallModel(32, 16, 4, 16, 2);
  const dispatch::ClusterMap cluster{{0, 0, 1, 1}, 2};
  for (const char* spec : {"classical", "dedup", "pruned:2:score", "hierarchical"}) {
    const proto::Plan plan = MakePlan(trace, model, spec, cluster, 4, plan::Pass::kTrain);
    const Outcome o = RunPlan(plan, true);
    for (const Status& s : o.status) ASSERT_TRUE(s.ok()) << spec << ": " << s.ToString();
    EXPECT_EQ(o.result.checked, 2u * 512u * 32u) << spec;  // outputs and input gradients
    EXPECT_EQ(o.result.wrong, 0u) << spec << ": " << o.result.first_wrong;
  }
  // Shared experts (stand-ins in both directions), recomputation, and the
  // shared expert under the dispatch.
  model.set_num_shared_experts(1);
  model.set_shared_intermediate(24);
  for (plan::Overlap overlap : {plan::Overlap::kNone, plan::Overlap::kSharedExpert}) {
    const proto::Plan plan =
        MakePlan(trace, model, "dedup", cluster, 4, plan::Pass::kTrain, true, overlap);
    const Outcome o = RunPlan(plan, true);
    for (const Status& s : o.status) ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(o.result.wrong, 0u) << o.result.first_wrong;
  }
}

TEST(RunnerTest, EveryBlockOfTheScheduleHasItsRoutes) {
  // A decode trace with three forward steps (each its own routes, replayed
  // in turn) and two micro-batches per block (each half its own routes),
  // prefill, decode and train: every block verified.
  const trace::Trace uniform = UniformTrace({0, 1}, 96, 5);
  trace::Trace stepped = uniform;
  for (trace::LayerRouting& layer : stepped.layers) {
    trace::LayerRouting out;
    out.layer = layer.layer;
    out.num_topk = out.num_candidates = layer.num_topk;
    for (size_t row = 0; row < layer.num_tokens(); ++row) {
      out.BeginStep(row / 32);
      out.Append(row, row % 32, layer.topk(row), layer.weights(row));
    }
    layer = std::move(out);
  }
  const proto::Model model = SmallModel(32, 16, 4, 16, 2);
  const dispatch::ClusterMap cluster{{0, 0, 1, 1}, 2};
  struct Case {
    const trace::Trace* trace;
    plan::Pass pass;
    plan::Overlap overlap;
    int blocks;
  };
  for (const Case& c : {Case{&stepped, plan::Pass::kDecode, plan::Overlap::kNone, 6},
                        Case{&uniform, plan::Pass::kPrefill, plan::Overlap::kMicroBatches, 4},
                        Case{&stepped, plan::Pass::kDecode, plan::Overlap::kMicroBatches, 12},
                        Case{&uniform, plan::Pass::kTrain, plan::Overlap::kMicroBatches, 4}}) {
    for (const char* spec : {"dedup", "hierarchical"}) {
      const proto::Plan plan = MakePlan(*c.trace, model, spec, cluster, 4, c.pass, false, c.overlap);
      ASSERT_EQ(plan.layers_size(), c.blocks) << spec;
      ASSERT_TRUE(plan::ValidatePlan(plan).ok()) << plan::ValidatePlan(plan).ToString();
      const Outcome o = RunPlan(plan, true);
      for (const Status& s : o.status) ASSERT_TRUE(s.ok()) << spec << ": " << s.ToString();
      const uint64_t elements = 2 * 96 * 32;  // every row of both layers once
      EXPECT_EQ(o.result.checked, (c.pass == plan::Pass::kTrain ? 2 : 1) * elements) << spec;
      EXPECT_EQ(o.result.wrong, 0u) << spec << ": " << o.result.first_wrong;
    }
  }
}

TEST(VerifyTest, InputGradientReferenceIsTheDerivativeOfTheForward) {
  // Classical hand case: every row holds one expert, so expert e of token t
  // gets dy = bf16(w_e g_t). The input gradient is then the derivative of
  // L(x) = sum_e <FFN_e(x), bf16(w_e g_t)>, taken here by central
  // differences of the forward in double.
  const proto::Model model = SmallModel(8, 4, 2, 4, 1);
  const proto::Plan plan =
      MakePlan(HandTrace(), model, "classical", dispatch::ClusterMap::SingleHost(2), 2);
  const proto::LayerRoutes& routes = plan.layers(0);
  const SeededData data(1);
  std::vector<float> dx(4 * 8);
  for (uint32_t t = 0; t < 4; ++t) {
    std::vector<float> x(8), g(8);
    data.TokenRow(t, 8, x.data());
    data.GradRow(t, 8, g.data());
    const auto loss = [&](const std::vector<double>& at) {
      double l = 0;
      for (uint32_t j = routes.expert_offsets(t); j < routes.expert_offsets(t + 1); ++j) {
        const FfnWeights w = data.Ffn(routes.experts(j), 8, 4);
        for (uint32_t f = 0; f < 4; ++f) {
          double a = 0, b = 0;
          for (uint32_t k = 0; k < 8; ++k) {
            a += at[k] * w.gate[k * 4 + f];
            b += at[k] * w.up[k * 4 + f];
          }
          const double act = a / (1 + std::exp(-a)) * b;
          for (uint32_t k = 0; k < 8; ++k)
            l += act * w.down[f * 8 + k] * RoundBf16(routes.weights(j) * g[k]);
        }
      }
      return l;
    };
    for (uint32_t k = 0; k < 8; ++k) {
      std::vector<double> plus(x.begin(), x.end()), minus = plus;
      plus[k] += 1e-5;
      minus[k] -= 1e-5;
      dx[t * 8 + k] = static_cast<float>((loss(plus) - loss(minus)) / 2e-5);
    }
  }
  const LayerCheck ok = CheckLayerInputGradients(model, routes, data, 0, 4, dx.data(), 0x1p-24);
  EXPECT_EQ(ok.checked, 32u);
  EXPECT_EQ(ok.wrong, 0u) << ok.first_wrong;
  EXPECT_LT(ok.max_ratio, 0.01);  // the reference agrees far inside the tolerance
  dx[2 * 8 + 5] += 0.05f;  // token 2, element 5
  const LayerCheck bad = CheckLayerInputGradients(model, routes, data, 0, 4, dx.data(), 0x1p-24);
  EXPECT_EQ(bad.wrong, 1u);
  EXPECT_NE(bad.first_wrong.find("layer 0 token 2 element 5 of the input gradient"),
            std::string::npos)
      << bad.first_wrong;
}

TEST(RunnerTest, TrainPassFakeClockTimesTheBackward) {
  // Classical hand case (H = 8, F = 4): the expert backward is the SwiGLU
  // backward, 12 n H F FLOPs at 1e12/s, on rank 0's 5 rows; the gradient
  // all-reduce of attention and router weights moves 2 (n - 1) / n of its
  // bytes each way at 1e9 B/s.
  const proto::Model model = SmallModel(8, 4, 2, 4, 1);
  const proto::Plan plan = MakePlan(HandTrace(), model, "classical",
                                    dispatch::ClusterMap::SingleHost(2), 2, plan::Pass::kTrain);
  const Outcome o = RunPlan(plan, true, 2);
  for (const Status& s : o.status) ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(o.result.wrong, 0u) << o.result.first_wrong;
  RunOptions ro;
  ro.warmup = 0;
  ro.iterations = 2;
  const proto::Report report = MeasuredReport(plan, o.result, ro, "fake");
  uint64_t allreduce_bytes = 0;
  for (const proto::Phase& p : plan.schedule().phases())
    if (p.kind() == proto::GRADIENT_ALLREDUCE) allreduce_bytes = p.allreduce_bytes();
  ASSERT_GT(allreduce_bytes, 0u);
  bool expert = false, allreduce = false;
  for (const proto::PhaseTiming& p : report.phases()) {
    if (p.kind() == proto::EXPERT_BACKWARD) {
      expert = true;
      EXPECT_NEAR(p.busy_max_s(), 12.0 * 5 * 8 * 4 / 1e12, 1e-20);
    }
    if (p.kind() == proto::GRADIENT_ALLREDUCE) {
      allreduce = true;
      EXPECT_NEAR(p.busy_max_s(), 2.0 * 2.0 * 1 / 2 * allreduce_bytes / 1e9, 1e-15);
    }
  }
  EXPECT_TRUE(expert && allreduce);
}

TEST(VerifyTest, CountsAnElementOutsideTolerance) {
  const proto::Model model = SmallModel(8, 4, 2, 4, 1);
  const proto::Plan plan =
      MakePlan(HandTrace(), model, "classical", dispatch::ClusterMap::SingleHost(2), 2);
  const proto::LayerRoutes& routes = plan.layers(0);
  const SeededData data(1);
  // The definition, written out once more: token 0 = 0.6 FFN_0(x) + 0.3 FFN_2(x).
  std::vector<float> x(8);
  data.TokenRow(0, 8, x.data());
  std::vector<float> out(2 * 8, 0.0f);
  for (uint32_t i = 0; i < 2; ++i) {
    const uint32_t t = i;
    data.TokenRow(t, 8, x.data());
    for (uint32_t j = routes.expert_offsets(t); j < routes.expert_offsets(t + 1); ++j) {
      const FfnWeights w = data.Ffn(routes.experts(j), 8, 4);
      for (uint32_t h = 0; h < 8; ++h) {
        double y = 0;
        for (uint32_t f = 0; f < 4; ++f) {
          double g = 0, u = 0;
          for (uint32_t k = 0; k < 8; ++k) {
            g += x[k] * w.gate[k * 4 + f];
            u += x[k] * w.up[k * 4 + f];
          }
          y += g / (1 + std::exp(-g)) * u * w.down[f * 8 + h];
        }
        out[t * 8 + h] += static_cast<float>(routes.weights(j) * y);
      }
    }
  }
  LayerCheck ok = CheckLayerOutputs(model, routes, data, 0, 2, out.data(), 0x1p-24);
  EXPECT_EQ(ok.wrong, 0u) << ok.first_wrong;
  EXPECT_EQ(ok.checked, 16u);
  out[8 + 3] += 0.05f;  // token 1, element 3
  LayerCheck bad = CheckLayerOutputs(model, routes, data, 0, 2, out.data(), 0x1p-24);
  EXPECT_EQ(bad.wrong, 1u);
  EXPECT_NE(bad.first_wrong.find("layer 0 token 1 element 3"), std::string::npos)
      << bad.first_wrong;
}

TEST(PlanFileTest, RoundTripsAndRejectsDamage) {
  const proto::Plan plan = MakePlan(HandTrace(), SmallModel(8, 4, 2, 4, 1), "dedup",
                                    dispatch::ClusterMap::SingleHost(2), 2);
  const std::string path = ::testing::TempDir() + "/hand.plan";
  ASSERT_TRUE(plan::WritePlan(path, plan).ok());
  auto back = plan::ReadPlan(path);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->SerializeAsString(), plan.SerializeAsString());
  // Truncated.
  std::string bytes = plan.SerializeAsString();
  ASSERT_TRUE(WriteFileAtomically(path, bytes.substr(0, bytes.size() / 2)).ok());
  auto cut = plan::ReadPlan(path);
  EXPECT_EQ(cut.status().code(), Status::Code::kBadInput);
  EXPECT_NE(cut.status().message().find(path), std::string::npos);
  // An expert id out of range names layer and token.
  proto::Plan broken = plan;
  broken.mutable_layers(0)->set_experts(2, 9);
  const Status st = plan::ValidatePlan(broken);
  EXPECT_EQ(st.code(), Status::Code::kBadInput);
  EXPECT_NE(st.message().find("layer 0: token 1: expert 9 >= num_experts 4"), std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace epsim::hw
