// The calibration loop on generated measurements: the simulator's own
// predictions on a topology with known parameters are the "measurements",
// and the fit must recover those parameters from the stock topology
// exactly (noise-free) or within its standard errors (seeded noise); the
// held-out rules, the refusals, and the calibrated file's round trip.
#include "sim/calibrate/calibration.h"

#include <google/protobuf/text_format.h>

#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "sim/base/file_util.h"
#include "sim/calibrate/evaluate.h"
#include "sim/calibrate/parameters.h"
#include "sim/dispatch/strategy.h"
#include "sim/plan/job.h"
#include "sim/report/calibration_output.h"
#include "sim/topology/topology.h"

namespace epsim::calibrate {
namespace {

const std::string kHost =
    std::string(EPSIM_SOURCE_DIR) + "/experiments/hw/vm-2core-2ranks/host.textproto";

proto::Topology Host() {
  Result<proto::Topology> t = topology::LoadTopology(kHost);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return *t;
}

proto::Schedule Plan(const std::string& dispatch, uint64_t tokens, uint32_t ep) {
  plan::RunFlags f;
  f.topology = kHost;
  f.model = "tiny-moe";
  f.tokens = tokens;
  f.ep = ep;
  Result<plan::RunInputs> in = plan::LoadRunInputs(f);
  EXPECT_TRUE(in.ok()) << in.status().ToString();
  auto strategy = dispatch::MakeStrategy(dispatch);
  EXPECT_TRUE(strategy.ok());
  Result<placement::LayerPlacements> placements = plan::PlacementFor(f, *in, "contiguous");
  EXPECT_TRUE(placements.ok());
  plan::ProfileCache profiles(f, *in);
  Result<proto::Schedule> s = plan::PlanFor(*in, *placements, **strategy, &profiles);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

// The truth: what calibration should find.
proto::Topology Truth() {
  proto::Topology t = Host();
  t.mutable_gpu()->set_peak_flops(t.gpu().peak_flops() * 0.7);
  t.mutable_gpu()->set_gemm_half_rows(24);
  t.mutable_gpu()->set_permute_row_ns(250);
  t.mutable_gpu()->set_reduce_row_ns(400);
  return t;
}

const std::vector<std::string> kFitted = {"gpu.peak_flops", "gpu.gemm_half_rows",
                                          "gpu.permute_row_ns", "gpu.reduce_row_ns"};

// Measurements of every phase kind and the pass, simulated on `truth`,
// times (1 + noise) with a seeded normal noise of `sigma`.
MeasurementSet Generated(const proto::Topology& truth, double sigma) {
  MeasurementSet set;
  for (uint32_t ep : {1u, 2u})
    for (uint64_t tokens : {128u, 256u, 512u, 1024u}) set.schedules.push_back(Plan("dedup", tokens, ep));
  Result<std::vector<proto::Report>> reports = SimulateInChild(truth, set.schedules, {});
  EXPECT_TRUE(reports.ok()) << reports.status().ToString();
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0, sigma);
  for (size_t s = 0; s < set.schedules.size(); ++s) {
    const proto::Report& r = (*reports)[s];
    const uint64_t tokens = 128u << (s % 4);
    for (proto::PhaseKind kind : {proto::ATTENTION, proto::GATE_PERMUTE, proto::EXPERT,
                                  proto::UNPERMUTE_REDUCE}) {
      Observation o;
      o.file = "generated";
      o.where = std::to_string(tokens);
      o.kind = proto::PhaseKind_Name(kind);
      o.schedule = s;
      o.quantity = Quantity::kPhaseBusy;
      o.phase = kind;
      o.measured_s = SimulatedSeconds(o, r) * (1 + (sigma > 0 ? noise(rng) : 0));
      o.series = "dedup " + std::to_string(r.num_ranks());
      o.size = tokens;
      o.num_ranks = r.num_ranks();
      o.strategy = "dedup";
      set.observations.push_back(o);
    }
  }
  return set;
}

HoldoutRule Rule(HoldoutRule::Kind kind, uint32_t num_ranks = 0) {
  HoldoutRule r;
  r.kind = kind;
  r.num_ranks = num_ranks;
  return r;
}

const report::CalibrationParameter& ParamOf(const Calibration& c, const std::string& name) {
  for (const report::CalibrationParameter& p : c.view.parameters)
    if (p.name == name) return p;
  ADD_FAILURE() << "no parameter " << name;
  static report::CalibrationParameter none;
  return none;
}

TEST(CalibrationTest, RecoversKnownParametersFromExactMeasurements) {
  const proto::Topology truth = Truth();
  CalibrateOptions options;
  options.holdout = {Rule(HoldoutRule::Kind::kEveryOtherSize)};
  options.holdout_text = "sizes";
  options.fit = kFitted;
  Result<Calibration> c = Calibrate(Host(), kHost, Generated(truth, 0), options);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_NEAR(ParamOf(*c, "gpu.peak_flops").after / truth.gpu().peak_flops(), 1, 1e-4);
  EXPECT_NEAR(ParamOf(*c, "gpu.gemm_half_rows").after, 24, 24e-4);
  EXPECT_NEAR(ParamOf(*c, "gpu.permute_row_ns").after, 250, 250e-4);
  EXPECT_NEAR(ParamOf(*c, "gpu.reduce_row_ns").after, 400, 400e-4);
  EXPECT_EQ(ParamOf(*c, "gpu.permute_row_ns").state, "fitted");
  EXPECT_EQ(ParamOf(*c, "links.MEMORY.bw_gb_per_s").state, "fixed");
  // Held out and fitted alike are predicted exactly after; not before.
  for (bool held_out : {false, true}) {
    EXPECT_LT(report::StatsOf(c->view.points, held_out, true).max_abs, 1e-4);
    EXPECT_GT(report::StatsOf(c->view.points, held_out, false).mape, 0.1);
    EXPECT_GT(report::StatsOf(c->view.points, held_out, true).count, 0u);
  }
  EXPECT_EQ(c->calibrated.name(), Host().name() + "-calibrated");
}

TEST(CalibrationTest, NoisyMeasurementsRecoverParametersWithinTheirErrors) {
  const proto::Topology truth = Truth();
  CalibrateOptions options;
  options.holdout = {Rule(HoldoutRule::Kind::kEveryOtherSize)};
  options.fit = kFitted;
  Result<Calibration> c = Calibrate(Host(), kHost, Generated(truth, 0.02), options);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::vector<std::pair<std::string, double>> expected = {
      {"gpu.peak_flops", truth.gpu().peak_flops()}, {"gpu.gemm_half_rows", 24},
      {"gpu.permute_row_ns", 250}, {"gpu.reduce_row_ns", 400}};
  for (const auto& [name, value] : expected) {
    const report::CalibrationParameter& p = ParamOf(*c, name);
    ASSERT_TRUE(std::isfinite(p.sigma)) << name;
    EXPECT_LT(std::fabs(p.after - value), 4 * p.sigma + 1e-9 * value) << name;
    EXPECT_LT(std::fabs(p.after - value), 0.25 * value) << name;
  }
  EXPECT_LT(report::StatsOf(c->view.points, true, true).mape, 0.05);
}

TEST(CalibrationTest, UnmeasuredParametersStayAtStock) {
  // Only compute phases measured: no link or protocol parameter moves them.
  CalibrateOptions options;
  options.holdout = {Rule(HoldoutRule::Kind::kNone)};
  options.fix = {"gpu.mem_bw_gb_per_s", "gpu.launch_us"};
  Result<Calibration> c = Calibrate(Host(), kHost, Generated(Truth(), 0), options);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(ParamOf(*c, "links.MEMORY.bw_gb_per_s").state, "not measured");
  EXPECT_EQ(ParamOf(*c, "nccl.mpi.base_latency_us").state, "not measured");
  EXPECT_DOUBLE_EQ(ParamOf(*c, "links.MEMORY.bw_gb_per_s").after,
                   ParamOf(*c, "links.MEMORY.bw_gb_per_s").before);
  EXPECT_EQ(ParamOf(*c, "gpu.launch_us").state, "fixed");
}

TEST(CalibrationTest, CalibratedFileRoundTripsWithItsProvenance) {
  CalibrateOptions options;
  options.holdout = {Rule(HoldoutRule::Kind::kEveryOtherSize)};
  options.holdout_text = "sizes";
  options.fit = kFitted;
  MeasurementSet set = Generated(Truth(), 0);
  set.files.push_back({"generated.json", "00ff"});
  Result<Calibration> c = Calibrate(Host(), kHost, set, options);
  ASSERT_TRUE(c.ok());
  const std::string text = report::CalibratedTopologyText(c->view, c->calibrated);
  EXPECT_NE(text.find("#   00ff  generated.json"), std::string::npos);
  EXPECT_NE(text.find("# Held out: sizes"), std::string::npos);
  EXPECT_NE(text.find("gpu.permute_row_ns 0 -> 250"), std::string::npos) << text;
  proto::Topology back;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &back));
  EXPECT_EQ(back.SerializeAsString(), c->calibrated.SerializeAsString());
  EXPECT_EQ(back.name(), "measured-host-calibrated");
  EXPECT_TRUE(topology::ValidateTopology(back).ok());
  // Deterministic: the same inputs give the same file.
  Result<Calibration> again = Calibrate(Host(), kHost, set, options);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(report::CalibratedTopologyText(again->view, again->calibrated), text);
}

TEST(CalibrationTest, HoldoutRules) {
  std::vector<Observation> obs;
  for (uint32_t ranks : {1u, 2u})
    for (uint64_t size : {100u, 200u, 300u, 400u})
      for (const char* s : {"dedup", "classical"}) {
        Observation o;
        o.series = std::string(s) + std::to_string(ranks);
        o.size = size;
        o.num_ranks = ranks;
        o.strategy = s;
        obs.push_back(o);
      }
  std::vector<bool> held = HeldOut(obs, {Rule(HoldoutRule::Kind::kEveryOtherSize)});
  for (size_t i = 0; i < obs.size(); ++i)
    EXPECT_EQ(held[i], obs[i].size == 200 || obs[i].size == 400) << i;
  Result<HoldoutRule> ranks = ParseHoldout("ranks=2");
  ASSERT_TRUE(ranks.ok());
  Result<HoldoutRule> strategy = ParseHoldout("strategy=classical");
  ASSERT_TRUE(strategy.ok());
  held = HeldOut(obs, {*ranks, *strategy});
  for (size_t i = 0; i < obs.size(); ++i)
    EXPECT_EQ(held[i], obs[i].num_ranks == 2 || obs[i].strategy == "classical") << i;
  Result<HoldoutRule> none = ParseHoldout("none");
  ASSERT_TRUE(none.ok());
  held = HeldOut(obs, {*none});
  for (bool h : held) EXPECT_FALSE(h);
  for (const char* bad : {"ranks=", "ranks=two", "ranks=0", "strategy=", "every"}) {
    Result<HoldoutRule> r = ParseHoldout(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Status::Code::kUsage) << bad;
  }
}

TEST(CalibrationTest, RefusesWhatCannotBeFitted) {
  CalibrateOptions options;
  options.fit = {"gpu.warp_speed"};
  Result<Calibration> c = Calibrate(Host(), kHost, Generated(Truth(), 0), options);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("no parameter 'gpu.warp_speed'"), std::string::npos);
  options.fit.clear();
  options.holdout = {Rule(HoldoutRule::Kind::kRanks, 1), Rule(HoldoutRule::Kind::kRanks, 2)};
  c = Calibrate(Host(), kHost, Generated(Truth(), 0), options);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("leave no measurement to fit"), std::string::npos);
  c = Calibrate(Host(), kHost, MeasurementSet(), CalibrateOptions());
  EXPECT_FALSE(c.ok());
}

TEST(MeasurementsTest, AReportWithoutPlanOrJobIsRefusedByName) {
  // Written by an epsim-hw before plans recorded their job.
  const std::string old_report =
      std::string(EPSIM_SOURCE_DIR) + "/experiments/hw/vm-2core-4ranks/dedup.measured.json";
  MeasurementSet set;
  Status st = AddMeasuredReport(old_report, kHost, &set);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kBadInput);
  EXPECT_NE(st.message().find("dedup.measured.json"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("names neither a plan file"), std::string::npos) << st.message();
  EXPECT_TRUE(set.observations.empty());
  const std::string simulated =
      std::string(EPSIM_SOURCE_DIR) + "/experiments/hw/vm-2core-4ranks/dedup.simulated.json";
  st = AddMeasuredReport(simulated, kHost, &set);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("not 'measured'"), std::string::npos) << st.message();
}

TEST(MeasurementsTest, Sha256OfAKnownFile) {
  const std::string path = ::testing::TempDir() + "/sha.txt";
  ASSERT_TRUE(WriteFileAtomically(path, "abc").ok());
  Result<std::string> sha = Sha256OfFile(path);
  ASSERT_TRUE(sha.ok());
  EXPECT_EQ(*sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace epsim::calibrate
