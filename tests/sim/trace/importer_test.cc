#include "sim/trace/importer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <numeric>
#include <vector>

#include "sim/trace/reader.h"
#include "tests/sim/trace/test_util.h"

namespace epsim::trace {
namespace {

// The real samples live in ../shared/traces (see its README.md).
std::string SharedTraces() {
  const std::string dir = std::string(EPSIM_SHARED_DIR) + "/traces";
  EXPECT_TRUE(std::filesystem::is_directory(dir))
      << "../shared/traces is missing (looked for " << dir
      << "); the shared reference data must sit beside the project root";
  return dir;
}

Result<Trace> ImportAndRead(ImportOptions options) {
  EPSIM_RETURN_IF_ERROR(Import(options).status());
  return ReadTrace(options.output);
}

std::map<uint32_t, uint64_t> TokensPerLayer(const Trace& trace) {
  std::map<uint32_t, uint64_t> counts;
  for (const LayerRouting& l : trace.layers) counts[l.layer] = l.num_tokens();
  return counts;
}

TEST(ImportTest, ImportsMixtralHumanEvalJsonl) {
  const std::string dir = SharedTraces();
  ASSERT_FALSE(::testing::Test::HasFailure());
  ScopedTempDir out;
  ImportOptions options;
  options.inputs = {dir + "/mixtral-8x7b-humaneval/routing.jsonl"};
  options.output = out.Path("mixtral.trace");
  options.model = "mixtral-8x7b";
  options.num_experts = 8;
  Result<Trace> trace = ImportAndRead(options);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();

  const proto::TraceHeader& h = trace->header;
  EXPECT_EQ(h.model(), "mixtral-8x7b");
  EXPECT_EQ(h.num_experts(), 8u);
  EXPECT_EQ(h.num_topk(), 2u);
  EXPECT_EQ(h.num_candidates(), 2u);
  EXPECT_EQ(h.num_layers(), 32u);
  EXPECT_EQ(h.provenance().source_format(), "jsonl");
  EXPECT_EQ(h.provenance().tool(), "epsim import");
  ASSERT_EQ(h.provenance().source_files_size(), 1);
  EXPECT_EQ(h.provenance().source_files(0), options.inputs[0]);
  const std::map<uint32_t, uint64_t> want = {
      {0, 218},  {1, 209},  {2, 212},  {3, 215},  {4, 211},  {5, 204},  {6, 205},  {7, 212},
      {8, 210},  {9, 213},  {10, 212}, {11, 209}, {12, 215}, {13, 208}, {14, 216}, {15, 214},
      {16, 213}, {17, 208}, {18, 211}, {19, 214}, {20, 213}, {21, 215}, {22, 212}, {23, 211},
      {24, 211}, {25, 214}, {26, 213}, {27, 210}, {28, 208}, {29, 213}, {30, 216}, {31, 212}};
  EXPECT_EQ(TokensPerLayer(*trace), want);

  // 135 prefill + 83 decode tokens, numbered in order of first appearance.
  const LayerRouting& l0 = trace->layers[0];
  std::vector<uint64_t> all(218);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(l0.token_ids, all);
  EXPECT_EQ(l0.topk(0)[0], 5u);
  EXPECT_EQ(l0.topk(0)[1], 2u);
  EXPECT_FLOAT_EQ(l0.weights(0)[0], 0.7783125042915344f);
  EXPECT_FLOAT_EQ(l0.weights(0)[1], 0.22168749570846558f);
  // Layer 1 has no line for prefill position 6: the next line is token 7.
  EXPECT_EQ(trace->layers[1].token_ids[6], 7u);
  // The last line (layer 31, last decode step) is the last token.
  const LayerRouting& l31 = trace->layers[31];
  EXPECT_EQ(l31.token_ids.back(), 217u);
  EXPECT_EQ(l31.topk(l31.num_tokens() - 1)[0], 2u);
  EXPECT_EQ(l31.topk(l31.num_tokens() - 1)[1], 0u);
}

TEST(ImportTest, MixtralSampleReportsTokensLackingLayers) {
  // Checked independently: 124 of the 218 tokens miss at least one of the
  // 32 layers; token 0 has all, token 1 first lacks layer 4.
  const std::string dir = SharedTraces();
  ASSERT_FALSE(::testing::Test::HasFailure());
  ScopedTempDir out;
  ImportOptions options;
  options.inputs = {dir + "/mixtral-8x7b-humaneval/routing.jsonl"};
  options.output = out.Path("mixtral.trace");
  options.num_experts = 8;
  Result<ImportSummary> summary = Import(options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->format, "jsonl/mixtral");
  EXPECT_EQ(summary->rows, 6777u);
  EXPECT_EQ(summary->tokens, 218u);
  EXPECT_EQ(summary->num_layers, 32u);
  EXPECT_EQ(summary->incomplete_tokens, 124u);
  EXPECT_EQ(summary->first_incomplete_token, 1u);
  EXPECT_EQ(summary->first_missing_layer, 4u);
  EXPECT_EQ(summary->skipped_rows, 0u);
}

TEST(ImportTest, ImportsFlameMoeDenseCsv) {
  const std::string dir = SharedTraces();
  ASSERT_FALSE(::testing::Test::HasFailure());
  ScopedTempDir out;
  ImportOptions options;
  for (int l = 2; l <= 9; ++l)
    options.inputs.push_back(dir + "/flame-moe-290m-prefill/layer" + std::to_string(l) + ".csv");
  options.output = out.Path("flame.trace");
  options.num_experts = 64;
  Result<Trace> trace = ImportAndRead(options);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();

  const proto::TraceHeader& h = trace->header;
  EXPECT_EQ(h.num_experts(), 64u);
  EXPECT_EQ(h.num_topk(), 6u);
  EXPECT_EQ(h.num_candidates(), 6u);
  EXPECT_EQ(h.provenance().source_format(), "dense-csv");
  EXPECT_EQ(h.provenance().source_files_size(), 8);
  std::map<uint32_t, uint64_t> want;
  for (uint32_t l = 2; l <= 9; ++l) want[l] = 2048;
  EXPECT_EQ(TokensPerLayer(*trace), want);

  std::vector<uint64_t> all(2048);
  std::iota(all.begin(), all.end(), 0);
  const LayerRouting& l2 = trace->layers[0];
  EXPECT_EQ(l2.layer, 2u);
  EXPECT_EQ(l2.token_ids, all);
  EXPECT_EQ(trace->layers[7].token_ids, all);
  EXPECT_EQ(std::vector<uint32_t>(l2.topk(0), l2.topk(0) + 6),
            (std::vector<uint32_t>{34, 28, 21, 47, 3, 12}));
  const std::vector<float> w = {0.099801f, 0.052281f, 0.041714f, 0.038429f, 0.03256f, 0.029556f};
  for (int k = 0; k < 6; ++k) EXPECT_FLOAT_EQ(l2.weights(0)[k], w[k]) << "k=" << k;
}

TEST(ImportTest, JsonlTokensAreNumberedByStepAndPosition) {
  ScopedTempDir dir;
  // Step 0: positions 0 and 1 in layer 0; layer 1 lacks position 0.
  // Step 1 starts as the layer goes down: position 0 is a new token; the
  // last line has no token_pos, so its position is its order in the layer (1).
  const std::string input = dir.Write("log.jsonl",
      R"({"layer": 0, "token_pos": 0, "experts": [0, 1], "gating_probs": [0.6, 0.4]})" "\n"
      R"({"layer": 0, "token_pos": 1, "experts": [1, 2], "gating_probs": [0.7, 0.3]})" "\n"
      "\n"
      R"({"layer": 1, "token_pos": 1, "experts": [2, 3], "gating_probs": [0.8, 0.2]})" "\n"
      R"({"layer": 0, "token_pos": 0, "problem_id": 4, "experts": [3, 0], "gating_probs": [0.9, 0.1]})" "\n"
      R"({"layer": 1, "token_pos": 0, "problem_id": 4, "experts": [0, 2], "gating_probs": [0.5, 0.5]})" "\n"
      R"({"layer": 1, "experts": [1, 3], "gating_probs": [0.5, 0.5]})" "\n");
  ImportOptions options;
  options.inputs = {input};
  options.output = dir.Path("out.trace");
  options.num_experts = 4;
  Result<Trace> trace = ImportAndRead(options);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  ASSERT_EQ(trace->layers.size(), 2u);
  EXPECT_EQ(trace->layers[0].token_ids, (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(trace->layers[0].sequence_ids, (std::vector<uint64_t>{0, 0, 4}));
  EXPECT_EQ(trace->layers[1].token_ids, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(trace->layers[1].sequence_ids, (std::vector<uint64_t>{0, 4, 0}));
  EXPECT_EQ(trace->layers[1].topk_idx, (std::vector<uint32_t>{2, 3, 0, 2, 1, 3}));
}

TEST(ImportTest, DenseCsvSortsByProbabilityThenExpertId) {
  ScopedTempDir dir;
  const std::string input = dir.Write("run1_layer12.csv",
                                      "layer_id,token_id,expert_0,expert_1,expert_2,expert_3\r\n"
                                      "0,5,0.2,0,0.5,0.2\r\n"
                                      "0,9,0,1e-1,0.1,0.3\r\n");
  ImportOptions options;
  options.inputs = {input};
  options.output = dir.Path("out.trace");
  options.num_experts = 4;
  options.format = "dense-csv";
  Result<Trace> trace = ImportAndRead(options);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  ASSERT_EQ(trace->layers.size(), 1u);
  EXPECT_EQ(trace->layers[0].layer, 12u);
  EXPECT_EQ(trace->header.num_topk(), 3u);
  EXPECT_EQ(trace->layers[0].token_ids, (std::vector<uint64_t>{5, 9}));
  EXPECT_EQ(trace->layers[0].topk_idx, (std::vector<uint32_t>{2, 0, 3, 3, 1, 2}));
  EXPECT_EQ(trace->layers[0].topk_weights,
            (std::vector<float>{0.5f, 0.2f, 0.2f, 0.3f, 0.1f, 0.1f}));
}

TEST(ImportTest, DenseCsvBreaksManyTiesByExpertId) {
  // 40 equal probabilities: enough for std::sort to reorder equal elements
  // unless the comparison looks at the expert id.
  ScopedTempDir dir;
  std::string csv = "layer_id,token_id";
  for (int e = 0; e < 40; ++e) csv += ",expert_" + std::to_string(e);
  csv += "\n0,0";
  for (int e = 0; e < 40; ++e) csv += e % 3 == 0 ? ",0.5" : ",0.25";
  csv += "\n";
  ImportOptions options;
  options.inputs = {dir.Write("layer1.csv", csv)};
  options.output = dir.Path("out.trace");
  options.num_experts = 40;
  Result<Trace> trace = ImportAndRead(options);
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  std::vector<uint32_t> want;
  for (uint32_t e = 0; e < 40; e += 3) want.push_back(e);
  for (uint32_t e = 0; e < 40; ++e)
    if (e % 3 != 0) want.push_back(e);
  EXPECT_EQ(trace->layers[0].topk_idx, want);
}

TEST(ImportTest, RejectsMissingInputsAndExpertCountAsUsage) {
  ScopedTempDir dir;
  ImportOptions options;
  options.output = dir.Path("out.trace");
  options.num_experts = 8;
  Status st = Import(options).status();
  EXPECT_EQ(st.code(), Status::Code::kUsage);
  EXPECT_NE(st.message().find("no input files"), std::string::npos) << st.message();

  options.inputs = {dir.Write("a.jsonl", "")};
  options.num_experts = 0;
  st = Import(options).status();
  EXPECT_EQ(st.code(), Status::Code::kUsage);
  EXPECT_NE(st.message().find("number of experts unknown"), std::string::npos) << st.message();
}

TEST(ImportTest, RejectsUnknownExtensionAndFormat) {
  ScopedTempDir dir;
  ImportOptions options;
  options.inputs = {dir.Write("routing.txt", "x")};
  options.output = dir.Path("out.trace");
  options.num_experts = 8;
  Status st = Import(options).status();
  EXPECT_EQ(st.code(), Status::Code::kUsage);
  EXPECT_NE(st.message().find("routing.txt: cannot tell the format"), std::string::npos)
      << st.message();
  options.format = "parquet";
  st = Import(options).status();
  EXPECT_EQ(st.code(), Status::Code::kUsage);
  EXPECT_NE(st.message().find("unknown import format 'parquet'"), std::string::npos)
      << st.message();
}

TEST(ImportTest, UnreadableInputIsNotFoundNamingTheFile) {
  ScopedTempDir dir;
  ImportOptions options;
  options.inputs = {dir.Path("absent.jsonl")};
  options.output = dir.Path("out.trace");
  options.num_experts = 8;
  Status st = Import(options).status();
  EXPECT_EQ(st.code(), Status::Code::kNotFound);
  EXPECT_NE(st.message().find("absent.jsonl: cannot open"), std::string::npos) << st.message();
  EXPECT_TRUE(dir.List().empty());
}

}  // namespace
}  // namespace epsim::trace
