// Plain CSV import (layer,token[,sequence],expert_*,score_*) and how "auto"
// tells it from the dense CSV shape.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/trace/importer.h"
#include "sim/trace/reader.h"
#include "tests/sim/trace/test_util.h"

namespace epsim::trace {
namespace {

TEST(ImportPlainCsvTest, KeepsTokenIdsSequencesAndRouterOrder) {
  ScopedTempDir dir;
  ImportOptions options;
  options.inputs = {dir.Write("routing.csv",
                              "layer,token,sequence,expert_0,expert_1,score_0,score_1\r\n"
                              "4,10,1,3,0,0.75,0.25\r\n"
                              "2,10,1,1,2,0.5,0.5\r\n"
                              "4,12,2,0,1,0.875,0.125\r\n")};
  options.output = dir.Path("out.trace");
  options.num_experts = 4;
  Result<ImportSummary> summary = Import(options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->format, "plain-csv");
  EXPECT_EQ(summary->rows, 3u);
  EXPECT_EQ(summary->tokens, 2u);
  EXPECT_EQ(summary->incomplete_tokens, 1u);  // token 12 lacks layer 2
  EXPECT_EQ(summary->first_incomplete_token, 12u);
  EXPECT_EQ(summary->first_missing_layer, 2u);
  Result<Trace> trace = ReadTrace(options.output);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->header.provenance().source_format(), "plain-csv");
  EXPECT_EQ(trace->header.num_topk(), 2u);
  ASSERT_EQ(trace->layers.size(), 2u);
  EXPECT_EQ(trace->layers[0].layer, 2u);
  EXPECT_EQ(trace->layers[1].token_ids, (std::vector<uint64_t>{10, 12}));
  EXPECT_EQ(trace->layers[1].sequence_ids, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(trace->layers[1].topk_idx, (std::vector<uint32_t>{3, 0, 0, 1}));
  EXPECT_EQ(trace->layers[1].topk_weights, (std::vector<float>{0.75f, 0.25f, 0.875f, 0.125f}));
}

TEST(ImportPlainCsvTest, WithoutSequenceColumnSkipsRowsPerLayerAcrossFiles) {
  ScopedTempDir dir;
  const std::string header = "layer,token,expert_0,score_0\n";
  ImportOptions options;
  options.inputs = {dir.Write("a.csv", header + "0,0,1,1\n1,0,2,1\n0,1,3,1\n"),
                    dir.Write("b.csv", header + "1,1,0,1\n0,2,1,1\n1,2,2,1\n")};
  options.output = dir.Path("out.trace");
  options.num_experts = 4;
  options.skip_rows = 1;
  Result<ImportSummary> summary = Import(options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->skipped_rows, 2u);
  Result<Trace> trace = ReadTrace(options.output);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->layers[0].token_ids, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(trace->layers[1].token_ids, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(trace->layers[1].sequence_ids, (std::vector<uint64_t>{0, 0}));
  EXPECT_EQ(trace->layers[1].topk_idx, (std::vector<uint32_t>{0, 2}));
}

TEST(ImportPlainCsvTest, AutoTellsDenseFromPlainByHeader) {
  ScopedTempDir dir;
  ImportOptions options;
  options.inputs = {dir.Write("layer5.csv", "layer_id,token_id,expert_0,expert_1\n0,0,0.2,0.8\n")};
  options.output = dir.Path("out.trace");
  options.num_experts = 2;
  Result<ImportSummary> summary = Import(options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->format, "dense-csv");
  EXPECT_EQ(summary->num_layers, 1u);
}

}  // namespace
}  // namespace epsim::trace
