// ExportTrace: the shared samples survive import -> export -> import with
// identical routing (per-layer token order, experts, scores, token and
// sequence ids) and identical `epsim stats` figures; bad calls leave no file.
#include "sim/trace/export.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sim/plan/routing_stats.h"
#include "sim/trace/importer.h"
#include "sim/trace/reader.h"
#include "sim/trace/trace_stats.h"
#include "sim/trace/writer.h"
#include "tests/sim/trace/test_util.h"

namespace epsim::trace {
namespace {

std::string SharedTraces() {
  const std::string dir = std::string(EPSIM_SHARED_DIR) + "/traces";
  EXPECT_TRUE(std::filesystem::is_directory(dir))
      << "../shared/traces is missing (looked for " << dir << ")";
  return dir;
}

ImportOptions MixtralOptions(const ScopedTempDir& out) {
  ImportOptions options;
  options.inputs = {SharedTraces() + "/mixtral-8x7b-humaneval/routing.jsonl"};
  options.output = out.Path("first.trace");
  options.model = "mixtral-8x7b";
  options.num_experts = 8;
  return options;
}

ImportOptions FlameOptions(const ScopedTempDir& out) {
  ImportOptions options;
  for (int l = 2; l <= 9; ++l)
    options.inputs.push_back(SharedTraces() + "/flame-moe-290m-prefill/layer" +
                             std::to_string(l) + ".csv");
  options.output = out.Path("first.trace");
  options.num_experts = 64;
  return options;
}

void ExpectSameRouting(const Trace& a, const Trace& b) {
  EXPECT_EQ(a.header.num_experts(), b.header.num_experts());
  EXPECT_EQ(a.header.num_topk(), b.header.num_topk());
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    const LayerRouting& x = a.layers[i];
    const LayerRouting& y = b.layers[i];
    EXPECT_EQ(x.layer, y.layer);
    EXPECT_EQ(x.token_ids, y.token_ids) << "layer " << x.layer;
    EXPECT_EQ(x.sequence_ids, y.sequence_ids) << "layer " << x.layer;
    EXPECT_EQ(x.topk_idx, y.topk_idx) << "layer " << x.layer;
    EXPECT_EQ(x.topk_weights, y.topk_weights) << "layer " << x.layer << " (bit-exact floats)";
  }
}

// The figures `epsim stats` prints, and the per-layer loads.
void ExpectSameStats(const std::string& a, const std::string& b) {
  for (uint32_t ep : {4u, 8u}) {
    Result<plan::RoutingStats> x = plan::ComputeRoutingStats(a, ep, "contiguous");
    Result<plan::RoutingStats> y = plan::ComputeRoutingStats(b, ep, "contiguous");
    ASSERT_TRUE(x.ok() && y.ok()) << x.status().ToString() << y.status().ToString();
    ASSERT_EQ(x->layers.size(), y->layers.size());
    for (size_t i = 0; i < x->layers.size(); ++i) {
      EXPECT_EQ(x->layers[i].num_tokens, y->layers[i].num_tokens);
      EXPECT_EQ(x->layers[i].ct_mean, y->layers[i].ct_mean);
      EXPECT_EQ(x->layers[i].rows_classical, y->layers[i].rows_classical);
      EXPECT_EQ(x->layers[i].rows_dedup, y->layers[i].rows_dedup);
      EXPECT_EQ(x->layers[i].affinity_concentration, y->layers[i].affinity_concentration);
      EXPECT_EQ(x->trace.layers[i].load, y->trace.layers[i].load);
    }
    EXPECT_EQ(x->mean.ct_mean, y->mean.ct_mean);
  }
}

// Imports with `first`, exports as `format`, re-imports; compares.
void RoundTrip(ImportOptions first, const std::string& format, const ScopedTempDir& dir) {
  Result<ImportSummary> s1 = Import(first);
  ASSERT_TRUE(s1.ok()) << s1.status().ToString();
  const std::string text = dir.Path("exported." + format);
  Status st = ExportTrace(first.output, text, format);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ImportOptions second;
  second.inputs = {text};
  second.output = dir.Path("second.trace");
  if (format == "csv") second.num_experts = first.num_experts;  // jsonl: from the meta line
  Result<ImportSummary> s2 = Import(second);
  ASSERT_TRUE(s2.ok()) << s2.status().ToString();
  EXPECT_EQ(s1->rows, s2->rows);
  EXPECT_EQ(s1->tokens, s2->tokens);
  EXPECT_EQ(s1->incomplete_tokens, s2->incomplete_tokens);
  Result<Trace> a = ReadTrace(first.output);
  Result<Trace> b = ReadTrace(second.output);
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().ToString() << b.status().ToString();
  ExpectSameRouting(*a, *b);
  if (format == "jsonl") {
    EXPECT_EQ(b->header.model(), a->header.model());
  }
  ExpectSameStats(first.output, second.output);
}

TEST(ExportTest, MixtralSampleRoundTripsThroughJsonl) {
  ScopedTempDir dir;
  RoundTrip(MixtralOptions(dir), "jsonl", dir);
}

TEST(ExportTest, MixtralSampleRoundTripsThroughCsv) {
  ScopedTempDir dir;
  RoundTrip(MixtralOptions(dir), "csv", dir);
}

TEST(ExportTest, FlameSampleRoundTripsThroughJsonl) {
  ScopedTempDir dir;
  RoundTrip(FlameOptions(dir), "jsonl", dir);
}

TEST(ExportTest, FlameSampleRoundTripsThroughCsv) {
  ScopedTempDir dir;
  RoundTrip(FlameOptions(dir), "csv", dir);
}

TEST(ExportTest, WritesTheDocumentedShapes) {
  ScopedTempDir dir;
  Trace trace;
  trace.header.set_model("tiny \"moe\"");
  trace.header.set_num_experts(4);
  trace.header.set_num_topk(2);
  trace.header.set_num_candidates(3);  // the third candidate is not exported
  LayerRouting layer;
  layer.layer = 5;
  layer.num_topk = 2;
  layer.num_candidates = 3;
  const uint32_t idx[] = {3, 1, 0};
  const float w[] = {0.7f, 0.2f, 0.1f};
  layer.Append(9, 2, idx, w);
  trace.layers.push_back(layer);
  ASSERT_TRUE(WriteTrace(dir.Path("t.trace"), trace).ok());
  ASSERT_TRUE(ExportTrace(dir.Path("t.trace"), dir.Path("t.jsonl"), "jsonl").ok());
  EXPECT_EQ(ReadBytes(dir.Path("t.jsonl")),
            "{\"type\": \"meta\", \"model\": \"tiny \\\"moe\\\"\", \"num_experts\": 4, "
            "\"top_k\": 2, \"num_layers\": 1}\n"
            "{\"type\": \"route\", \"req_id\": 2, \"token_idx\": 9, \"layer\": 5, "
            "\"topk_ids\": [3, 1], \"topk_weights\": [0.699999988, 0.200000003]}\n");
  ASSERT_TRUE(ExportTrace(dir.Path("t.trace"), dir.Path("t.csv"), "csv").ok());
  EXPECT_EQ(ReadBytes(dir.Path("t.csv")),
            "layer,token,sequence,expert_0,expert_1,score_0,score_1\n"
            "5,9,2,3,1,0.699999988,0.200000003\n");
}

TEST(ExportTest, BadTraceOrFormatLeavesNoOutput) {
  ScopedTempDir dir;
  dir.Write("bad.trace", "not a trace");
  Status st = ExportTrace(dir.Path("bad.trace"), dir.Path("out.jsonl"), "jsonl");
  EXPECT_EQ(st.code(), Status::Code::kBadInput) << st.ToString();
  st = ExportTrace(dir.Path("absent.trace"), dir.Path("out.jsonl"), "jsonl");
  EXPECT_EQ(st.code(), Status::Code::kNotFound) << st.ToString();
  st = ExportTrace(dir.Path("bad.trace"), dir.Path("out.parquet"), "parquet");
  EXPECT_EQ(st.code(), Status::Code::kUsage) << st.ToString();
  EXPECT_NE(st.message().find("unknown export format 'parquet'"), std::string::npos);
  EXPECT_EQ(dir.List(), std::vector<std::string>{"bad.trace"});
}

}  // namespace
}  // namespace epsim::trace
