// JSON-lines import beyond the Mixtral sample: the vllm shape (meta line,
// string request ids, warm-up rows skipped, one file per layer), field
// options, shape detection and the incomplete-layer summary.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sim/trace/importer.h"
#include "sim/trace/reader.h"
#include "tests/sim/trace/test_util.h"

namespace epsim::trace {
namespace {

std::string Lines(std::initializer_list<std::string> lines) {
  std::string s;
  for (const std::string& l : lines) s += l + "\n";
  return s;
}

// A vllm route row; `req` is written as given (a JSON number or string).
std::string Route(const std::string& req, int token, int layer, int e0, int e1) {
  return "{\"type\": \"route\", \"req_id\": " + req + ", \"token_idx\": " +
         std::to_string(token) + ", \"layer\": " + std::to_string(layer) +
         ", \"topk_ids\": [" + std::to_string(e0) + ", " + std::to_string(e1) +
         "], \"topk_weights\": [0.75, 0.25]}";
}

constexpr char kMeta[] =
    R"({"type": "meta", "model": "tiny-moe", "num_experts": 4, "top_k": 2, "num_layers": 2})";

// Two warm-up tokens of request "w" (2 rows per layer), then a prefill of
// "a" (2 tokens) and "b" (1 token), then one decode step of both.
std::string VllmLog() {
  return Lines({kMeta,
                Route("\"w\"", 0, 0, 0, 1), Route("\"w\"", 1, 0, 0, 1),
                Route("\"w\"", 0, 1, 0, 1), Route("\"w\"", 1, 1, 0, 1),
                Route("\"a\"", 0, 0, 1, 2), Route("\"a\"", 1, 0, 2, 3), Route("\"b\"", 0, 0, 3, 0),
                Route("\"a\"", 0, 1, 0, 2), Route("\"a\"", 1, 1, 1, 3), Route("\"b\"", 0, 1, 2, 1),
                Route("\"a\"", 2, 0, 3, 1), Route("\"b\"", 1, 0, 0, 3),
                Route("\"a\"", 2, 1, 2, 0), Route("\"b\"", 1, 1, 3, 2)});
}

struct Imported {
  ImportSummary summary;
  Trace trace;
};

Result<Imported> ImportAndRead(const ImportOptions& options) {
  EPSIM_ASSIGN_OR_RETURN(ImportSummary summary, Import(options));
  EPSIM_ASSIGN_OR_RETURN(Trace trace, ReadTrace(options.output));
  return Imported{summary, trace};
}

TEST(ImportJsonlTest, VllmLogWithWarmUpRowsSkipped) {
  ScopedTempDir dir;
  ImportOptions options;
  options.inputs = {dir.Write("experts.jsonl", VllmLog())};
  options.output = dir.Path("out.trace");
  options.skip_rows = 2;  // num_experts, model and top_k come from the meta line
  Result<Imported> got = ImportAndRead(options);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  const Trace& trace = got->trace;
  EXPECT_EQ(trace.header.model(), "tiny-moe");
  EXPECT_EQ(trace.header.num_experts(), 4u);
  EXPECT_EQ(trace.header.num_topk(), 2u);
  EXPECT_EQ(trace.header.provenance().source_format(), "jsonl");
  EXPECT_EQ(trace.header.provenance().description(), "first 2 route rows of each layer skipped");
  ASSERT_EQ(trace.layers.size(), 2u);
  // Warm-up tokens are gone; a0 a1 b0 a2 b1 are tokens 0..4 in both layers;
  // string request ids are numbered by first appearance after the skip.
  for (const LayerRouting& l : trace.layers) {
    EXPECT_EQ(l.token_ids, (std::vector<uint64_t>{0, 1, 2, 3, 4})) << "layer " << l.layer;
    EXPECT_EQ(l.sequence_ids, (std::vector<uint64_t>{0, 0, 1, 0, 1})) << "layer " << l.layer;
  }
  EXPECT_EQ(trace.layers[0].topk_idx, (std::vector<uint32_t>{1, 2, 2, 3, 3, 0, 3, 1, 0, 3}));
  EXPECT_EQ(trace.layers[1].topk_idx, (std::vector<uint32_t>{0, 2, 1, 3, 2, 1, 2, 0, 3, 2}));
  EXPECT_EQ(trace.layers[1].topk_weights[0], 0.75f);
  EXPECT_EQ(got->summary.format, "jsonl/vllm");
  EXPECT_EQ(got->summary.rows, 10u);
  EXPECT_EQ(got->summary.tokens, 5u);
  EXPECT_EQ(got->summary.skipped_rows, 4u);
  EXPECT_EQ(got->summary.incomplete_tokens, 0u);
}

TEST(ImportJsonlTest, VllmLogWithoutSkipKeepsWarmUpTokens) {
  ScopedTempDir dir;
  ImportOptions options;
  options.inputs = {dir.Write("experts.jsonl", VllmLog())};
  options.output = dir.Path("out.trace");
  Result<Imported> got = ImportAndRead(options);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->trace.layers[0].token_ids, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(got->trace.layers[0].sequence_ids, (std::vector<uint64_t>{0, 0, 1, 1, 2, 1, 2}));
  EXPECT_EQ(got->summary.skipped_rows, 0u);
}

TEST(ImportJsonlTest, ReportsTokensLackingLayersWithoutMixingThem) {
  // b's token 0 has no layer-1 row: it stays token 2, and b's next token
  // is a new token (3) in both layers.
  ScopedTempDir dir;
  ImportOptions options;
  options.inputs = {dir.Write("experts.jsonl",
                              Lines({Route("1", 0, 0, 0, 1), Route("1", 1, 0, 1, 2),
                                     Route("2", 0, 0, 2, 3), Route("1", 0, 1, 3, 0),
                                     Route("1", 1, 1, 0, 2), Route("2", 1, 0, 1, 3),
                                     Route("2", 1, 1, 2, 0)}))};
  options.output = dir.Path("out.trace");
  options.num_experts = 4;
  Result<Imported> got = ImportAndRead(options);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->trace.layers[0].token_ids, (std::vector<uint64_t>{0, 1, 2, 3}));
  EXPECT_EQ(got->trace.layers[1].token_ids, (std::vector<uint64_t>{0, 1, 3}));
  EXPECT_EQ(got->trace.layers[1].sequence_ids, (std::vector<uint64_t>{1, 1, 2}));
  EXPECT_EQ(got->summary.tokens, 4u);
  EXPECT_EQ(got->summary.incomplete_tokens, 1u);
  EXPECT_EQ(got->summary.first_incomplete_token, 2u);
  EXPECT_EQ(got->summary.first_missing_layer, 1u);
}

// One file per layer, rows without token_idx: row i of each file is token i.
std::string LayerFileRow(int layer, int e0, int e1) {
  return "{\"type\": \"route\", \"req_id\": 7, \"layer\": " + std::to_string(layer) +
         ", \"topk_ids\": [" + std::to_string(e0) + ", " + std::to_string(e1) +
         "], \"topk_weights\": [0.6, 0.4]}";
}

TEST(ImportJsonlTest, OneFilePerLayerAlignsRowsByOrderAfterSkip) {
  ScopedTempDir dir;
  ImportOptions options;
  options.inputs = {
      dir.Write("layer0.jsonl", Lines({kMeta, LayerFileRow(0, 0, 1), LayerFileRow(0, 1, 2),
                                       LayerFileRow(0, 2, 3)})),
      dir.Write("layer1.jsonl", Lines({kMeta, LayerFileRow(1, 3, 0), LayerFileRow(1, 0, 2),
                                       LayerFileRow(1, 1, 3)}))};
  options.output = dir.Path("out.trace");
  options.skip_rows = 1;
  Result<Imported> got = ImportAndRead(options);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->trace.layers.size(), 2u);
  EXPECT_EQ(got->trace.layers[0].token_ids, (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(got->trace.layers[1].token_ids, (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(got->trace.layers[0].topk_idx, (std::vector<uint32_t>{1, 2, 2, 3}));
  EXPECT_EQ(got->trace.layers[1].topk_idx, (std::vector<uint32_t>{0, 2, 1, 3}));
  EXPECT_EQ(got->trace.layers[1].sequence_ids, (std::vector<uint64_t>{7, 7}));
  EXPECT_EQ(got->summary.incomplete_tokens, 0u);
}

TEST(ImportJsonlTest, OneFilePerLayerWithDifferentRowCountsFailsNamingFilesAndCounts) {
  ScopedTempDir dir;
  ImportOptions options;
  options.inputs = {
      dir.Write("layer0.jsonl", Lines({LayerFileRow(0, 0, 1), LayerFileRow(0, 1, 2),
                                       LayerFileRow(0, 2, 3)})),
      dir.Write("layer1.jsonl", Lines({LayerFileRow(1, 3, 0), LayerFileRow(1, 0, 2)}))};
  options.output = dir.Path("out.trace");
  options.num_experts = 4;
  options.skip_rows = 1;
  Status st = Import(options).status();
  EXPECT_EQ(st.code(), Status::Code::kBadInput) << st.ToString();
  EXPECT_NE(st.message().find("different numbers of route rows after --skip-rows 1"),
            std::string::npos) << st.message();
  EXPECT_NE(st.message().find(options.inputs[0] + " (layer 0): 2"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find(options.inputs[1] + " (layer 1): 1"), std::string::npos)
      << st.message();
  EXPECT_FALSE(std::filesystem::exists(options.output));
  EXPECT_EQ(dir.List().size(), 2u) << "temporaries left beside the output";
}

TEST(ImportJsonlTest, FieldOptionsRenameFieldsAndTieGoesToMixtral) {
  // Neither shape's names: with the fields named, both shapes fit equally,
  // so the mixtral rule applies: the layer going down starts a new step.
  ScopedTempDir dir;
  const std::string log = Lines({R"({"blk": 0, "sel": [0, 1], "w": [0.5, 0.5], "pos": 0, "seq": 3})",
                                 R"({"blk": 1, "sel": [1, 2], "w": [0.5, 0.5], "pos": 0, "seq": 3})",
                                 R"({"blk": 0, "sel": [2, 3], "w": [0.5, 0.5], "pos": 0, "seq": 3})"});
  ImportOptions options;
  options.inputs = {dir.Write("log.jsonl", log)};
  options.output = dir.Path("out.trace");
  options.num_experts = 4;
  Status st = Import(options).status();
  EXPECT_EQ(st.code(), Status::Code::kBadInput);
  EXPECT_NE(st.message().find("log.jsonl:1: cannot tell the log's shape from its fields (blk, sel, w, pos, seq)"),
            std::string::npos) << st.message();

  options.layer_field = "blk";
  options.ids_field = "sel";
  options.scores_field = "w";
  options.token_field = "pos";
  options.sequence_field = "seq";
  Result<Imported> got = ImportAndRead(options);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->summary.format, "jsonl/mixtral");
  EXPECT_EQ(got->trace.layers[0].token_ids, (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(got->trace.layers[0].sequence_ids, (std::vector<uint64_t>{3, 3}));
  EXPECT_EQ(got->trace.layers[1].token_ids, (std::vector<uint64_t>{0}));

  // Forcing the vllm rule makes (seq, pos) the token: the third row repeats
  // it, which strict mode rejects (by default it starts a forward step).
  options.jsonl_shape = "vllm";
  options.repeats = "error";
  st = Import(options).status();
  EXPECT_EQ(st.code(), Status::Code::kBadInput);
  EXPECT_NE(st.message().find("log.jsonl:3: layer 0: seq 3 pos 0 repeated"), std::string::npos)
      << st.message();
}

TEST(ImportJsonlTest, DetectsVllmWithOneFieldRenamed) {
  ScopedTempDir dir;
  ImportOptions options;
  options.inputs = {dir.Write(
      "log.jsonl",
      Lines({R"({"type": "route", "req_id": 1, "token_idx": 0, "layer": 3, "expert_ids": [2, 0], "topk_weights": [0.9, 0.1]})"}))};
  options.output = dir.Path("out.trace");
  options.num_experts = 4;
  options.ids_field = "expert_ids";
  Result<Imported> got = ImportAndRead(options);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->summary.format, "jsonl/vllm");
  EXPECT_EQ(got->trace.layers[0].layer, 3u);
  EXPECT_EQ(got->trace.layers[0].topk_idx, (std::vector<uint32_t>{2, 0}));
  EXPECT_EQ(got->trace.layers[0].sequence_ids, (std::vector<uint64_t>{1}));
}

TEST(ImportJsonlTest, MixtralShapeDetectedAndReported) {
  ScopedTempDir dir;
  ImportOptions options;
  options.inputs = {dir.Write(
      "log.jsonl",
      Lines({R"({"dataset": "x", "problem_id": 2, "layer": 0, "token_pos": 0, "experts": [1, 0], "gating_probs": [0.6, 0.4]})",
             R"({"dataset": "x", "problem_id": 2, "layer": 1, "token_pos": 0, "experts": [2, 0], "gating_probs": [0.6, 0.4]})"}))};
  options.output = dir.Path("out.trace");
  options.num_experts = 4;
  Result<Imported> got = ImportAndRead(options);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->summary.format, "jsonl/mixtral");
  EXPECT_EQ(got->summary.rows, 2u);
  EXPECT_EQ(got->summary.tokens, 1u);
  EXPECT_EQ(got->summary.num_layers, 2u);
}

TEST(ImportJsonlTest, ExpertCountFromNowhereIsUsage) {
  ScopedTempDir dir;
  ImportOptions options;
  options.inputs = {dir.Write("log.jsonl", Lines({Route("1", 0, 0, 0, 1)}))};
  options.output = dir.Path("out.trace");
  Status st = Import(options).status();
  EXPECT_EQ(st.code(), Status::Code::kUsage) << st.ToString();
  EXPECT_NE(st.message().find("log.jsonl:1: number of experts unknown"), std::string::npos)
      << st.message();
  EXPECT_FALSE(std::filesystem::exists(options.output));
}

TEST(ImportJsonlTest, MetaAgreeingWithOptionsIsAccepted) {
  ScopedTempDir dir;
  ImportOptions options;
  options.inputs = {dir.Write("log.jsonl", Lines({kMeta, Route("1", 0, 0, 0, 1)}))};
  options.output = dir.Path("out.trace");
  options.num_experts = 4;
  options.model = "given";
  Result<Imported> got = ImportAndRead(options);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->trace.header.model(), "given");  // the options name the model
}

TEST(ImportJsonlTest, MetaLinesThatDisagreeFailNamingTheLaterOne) {
  ScopedTempDir dir;
  ImportOptions options;
  options.inputs = {dir.Write("layer0.jsonl", Lines({kMeta, Route("1", 0, 0, 0, 1)})),
                    dir.Write("layer1.jsonl", Lines({R"({"type": "meta", "num_experts": 8})",
                                                     Route("1", 0, 1, 0, 1)}))};
  options.output = dir.Path("out.trace");
  Status st = Import(options).status();
  EXPECT_EQ(st.code(), Status::Code::kBadInput) << st.ToString();
  EXPECT_NE(st.message().find(options.inputs[1] +
                              ":1: meta line says num_experts 8, but an earlier meta line says 4"),
            std::string::npos)
      << st.message();
  EXPECT_FALSE(std::filesystem::exists(options.output));
}

TEST(ImportJsonlTest, SkippingEveryRowIsBadInput) {
  ScopedTempDir dir;
  ImportOptions options;
  options.inputs = {dir.Write("log.jsonl", Lines({Route("1", 0, 0, 0, 1)}))};
  options.output = dir.Path("out.trace");
  options.num_experts = 4;
  options.skip_rows = 5;
  Status st = Import(options).status();
  EXPECT_EQ(st.code(), Status::Code::kBadInput);
  EXPECT_NE(st.message().find("no rows left after --skip-rows"), std::string::npos)
      << st.message();
  EXPECT_FALSE(std::filesystem::exists(options.output));
}

TEST(ImportJsonlTest, FieldOptionsWithCsvAreUsage) {
  ScopedTempDir dir;
  ImportOptions options;
  options.inputs = {dir.Write("layer0.csv", "layer_id,token_id,expert_0\n0,0,1\n")};
  options.output = dir.Path("out.trace");
  options.num_experts = 1;
  options.ids_field = "x";
  EXPECT_EQ(Import(options).status().code(), Status::Code::kUsage);
}

}  // namespace
}  // namespace epsim::trace
