// Every models/*.textproto parses and carries the figures of
// ../shared/reference/hardware.md's model table (and, for the figures that
// table lacks, the checkpoints' config.json).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "sim/base/file_util.h"
#include "sim/proto/model.pb.h"

namespace epsim {
namespace {

// The hardware.md row of one model.
struct Figures {
  uint32_t layers, hidden, ffn, experts, topk, shared, shared_ffn, dense, dense_ffn, heads,
      kv_heads;
  proto::AttentionKind attention;
  bool norm_topk_prob;
  const char* score;
};

const std::map<std::string, Figures>& Expected() {
  static const std::map<std::string, Figures> kExpected = {
      {"olmoe-1b-7b", {16, 2048, 1024, 64, 8, 0, 0, 0, 0, 16, 16, proto::MHA, false, "softmax"}},
      {"qwen1.5-moe-a2.7b",
       {24, 2048, 1408, 60, 4, 1, 5632, 0, 0, 16, 16, proto::MHA, false, "softmax"}},
      {"deepseek-moe-16b",
       {28, 2048, 1408, 64, 6, 2, 1408, 1, 10944, 16, 16, proto::MHA, false, "softmax"}},
      {"mixtral-8x7b", {32, 4096, 14336, 8, 2, 0, 0, 0, 0, 32, 8, proto::GQA, true, "softmax"}},
      {"deepseek-v3",
       {61, 7168, 2048, 256, 8, 1, 2048, 3, 18432, 128, 128, proto::MLA, true, "sigmoid"}},
      {"qwen3-30b-a3b", {48, 2048, 768, 128, 8, 0, 0, 0, 0, 32, 4, proto::GQA, true, "softmax"}},
      {"llama-moe-3.5b", {32, 4096, 1376, 8, 2, 0, 0, 0, 0, 32, 32, proto::MHA, true, "softmax"}},
  };
  return kExpected;
}

// Models that are no published checkpoint (harness tests, CPU runs): no
// Hugging Face id and no hardware.md row to match.
const std::set<std::string>& MadeUp() {
  static const std::set<std::string> kMadeUp = {"tiny-moe", "tiny-moe-shared"};
  return kMadeUp;
}

std::map<std::string, proto::Model> LoadAll() {
  std::map<std::string, proto::Model> models;
  const std::filesystem::path dir = std::filesystem::path(EPSIM_SOURCE_DIR) / "models";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".textproto") continue;
    proto::Model model;
    Status status = ReadTextProto(entry.path().string(), &model);
    EXPECT_TRUE(status.ok()) << status.ToString();
    models[FileStem(entry.path().string())] = model;
  }
  return models;
}

TEST(ModelsTest, EveryFileParsesAndIsNamedByItsStem) {
  const std::map<std::string, proto::Model> models = LoadAll();
  std::set<std::string> stems, expected;
  for (const auto& [stem, model] : models) {
    stems.insert(stem);
    EXPECT_EQ(model.name(), stem);
    EXPECT_NE(model.hf_id().empty(), MadeUp().count(stem) == 0) << stem;
    EXPECT_FALSE(model.source().empty()) << stem;
    EXPECT_EQ(model.activation_bytes(), 2u) << stem;
  }
  for (const auto& [name, figures] : Expected()) expected.insert(name);
  expected.insert(MadeUp().begin(), MadeUp().end());
  EXPECT_EQ(stems, expected);
}

TEST(ModelsTest, FiguresMatchHardwareTable) {
  for (const auto& [stem, model] : LoadAll()) {
    auto it = Expected().find(stem);
    if (it == Expected().end()) continue;  // reported by the test above
    const Figures& f = it->second;
    SCOPED_TRACE(stem);
    EXPECT_EQ(model.num_layers(), f.layers);
    EXPECT_EQ(model.hidden(), f.hidden);
    EXPECT_EQ(model.moe_intermediate(), f.ffn);
    EXPECT_EQ(model.num_experts(), f.experts);
    EXPECT_EQ(model.num_topk(), f.topk);
    EXPECT_EQ(model.num_shared_experts(), f.shared);
    EXPECT_EQ(model.shared_intermediate(), f.shared_ffn);
    EXPECT_EQ(model.num_dense_layers(), f.dense);
    EXPECT_EQ(model.dense_intermediate(), f.dense_ffn);
    EXPECT_EQ(model.num_heads(), f.heads);
    EXPECT_EQ(model.num_kv_heads(), f.kv_heads);
    EXPECT_EQ(model.attention(), f.attention);
    EXPECT_EQ(model.norm_topk_prob(), f.norm_topk_prob);
    EXPECT_EQ(model.score_function(), f.score);
  }
}

TEST(ModelsTest, DeepSeekV3HasGroupsMlaShapesAndFp8Dispatch) {
  proto::Model v3;
  ASSERT_TRUE(ReadTextProto(std::string(EPSIM_SOURCE_DIR) + "/models/deepseek-v3.textproto", &v3)
                  .ok());
  EXPECT_EQ(v3.num_expert_groups(), 8u);
  EXPECT_EQ(v3.topk_groups(), 4u);
  EXPECT_EQ(v3.q_lora_rank(), 1536u);
  EXPECT_EQ(v3.kv_lora_rank(), 512u);
  EXPECT_EQ(v3.qk_rope_head_dim(), 64u);
  EXPECT_EQ(v3.qk_nope_head_dim(), 128u);
  EXPECT_EQ(v3.v_head_dim(), 128u);
  EXPECT_EQ(v3.dispatch_bytes(), 1u);
  EXPECT_EQ(v3.combine_bytes(), 2u);
}

TEST(ModelsTest, Qwen3HeadDimIsFromConfigNotHiddenOverHeads) {
  proto::Model qwen3;
  ASSERT_TRUE(
      ReadTextProto(std::string(EPSIM_SOURCE_DIR) + "/models/qwen3-30b-a3b.textproto", &qwen3)
          .ok());
  EXPECT_EQ(qwen3.head_dim(), 128u);
}

}  // namespace
}  // namespace epsim
