// Files written by an earlier build (tests/sim/proto/fixtures/, made by its
// make_fixtures.sh and committed) still read, with the content they were
// written with: a schema change that renumbers, retypes or drops a field,
// or a reader that stops accepting a version, fails here. The expected
// figures were read from the files when they were made (epsim trace show,
// epsim plan's summary line).
#include <gtest/gtest.h>

#include <string>

#include "sim/plan/plan_file.h"
#include "sim/trace/reader.h"
#include "sim/trace/validate.h"

namespace epsim {
namespace {

std::string Fixture(const std::string& name) {
  return std::string(EPSIM_SOURCE_DIR) + "/tests/sim/proto/fixtures/" + name;
}

TEST(OldFilesTest, TraceVersion2) {
  const std::string path = Fixture("tiny16.v2.trace");
  Result<trace::Trace> t = trace::ReadTrace(path);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->header.version(), 2u);
  EXPECT_EQ(t->header.model(), "tiny-moe");
  EXPECT_EQ(t->header.num_experts(), 16u);
  EXPECT_EQ(t->header.num_topk(), 4u);
  EXPECT_EQ(t->header.num_candidates(), 4u);
  EXPECT_EQ(t->header.provenance().seed(), 3u);
  ASSERT_EQ(t->layers.size(), 4u);
  for (const trace::LayerRouting& l : t->layers) EXPECT_EQ(l.num_tokens(), 16u);
  // Token 0 of layer 0: experts 8, 3, 9, 5 with scores 0.2054, 0.1638, ...
  const trace::LayerRouting& l0 = t->layers[0];
  EXPECT_EQ(std::vector<uint32_t>(l0.topk(0), l0.topk(0) + 4), (std::vector<uint32_t>{8, 3, 9, 5}));
  EXPECT_NEAR(l0.weights(0)[0], 0.2054, 5e-5);
  EXPECT_NEAR(l0.weights(0)[3], 0.0931, 5e-5);
  Result<trace::ValidationSummary> v = trace::ValidateTrace(path);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->rows, 64u);
}

TEST(OldFilesTest, PlanVersion1) {
  Result<proto::Plan> plan = plan::ReadPlan(Fixture("tiny16-ep2-dedup.v1.plan"));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const proto::Schedule& s = plan->schedule();
  EXPECT_EQ(plan->version(), 1u);
  EXPECT_EQ(s.num_ranks(), 2u);
  EXPECT_EQ(s.phases_size(), 24);
  EXPECT_EQ(s.strategy(), "dedup");
  EXPECT_EQ(s.placement(), "contiguous");
  EXPECT_EQ(s.pass(), "prefill");
  EXPECT_EQ(plan->model().name(), "tiny-moe");
  EXPECT_EQ(plan->topology(), "a6000-x4-pcie-gen4");
  ASSERT_EQ(plan->layers_size(), 4);
  uint64_t rows = 0;
  for (const proto::LayerRoutes& l : plan->layers()) rows += l.num_tokens();
  EXPECT_EQ(rows, 64u);
  // Every dispatch row is 256 x 2 bytes (tiny-moe, BF16) in the file's matrices.
  for (const proto::Phase& p : s.phases()) {
    if (p.kind() != proto::DISPATCH) continue;
    for (int i = 0; i < p.send_bytes_size(); ++i)
      EXPECT_EQ(p.send_bytes(i), p.send_rows(i) * 512u) << p.id();
  }
}

}  // namespace
}  // namespace epsim
