#include "sim/synth/sglang_counts.h"

#include <gtest/gtest.h>

#include "sim/synth/fit.h"
#include "tests/sim/trace/test_util.h"

namespace epsim::synth {
namespace {

using trace::ScopedTempDir;

constexpr char kHeader[] = "layer_id,expert_id,count\n";

// Two ranks of a 4-expert model, rows in SGLang's dict order (not sorted):
// rank 0 saw layers 3 and 5, rank 1 only layer 3; expert 2 of layer 3 and
// experts 0, 1 and 3 of layer 5 are absent everywhere.
struct TwoRanks {
  ScopedTempDir dir;
  std::string r0 = dir.Write("expert_distribution_rank0_timestamp1744347750.37.csv",
                             std::string(kHeader) + "3,3,7\n3,0,10\n5,2,4\n3,1,1\n");
  std::string r1 = dir.Write("expert_distribution_rank1_timestamp1744347750.01.csv",
                             std::string(kHeader) + "3,1,20\n3,3,2\n");
};

TEST(SglangCountsTest, SumsRankFilesPerLayerAndExpert) {
  TwoRanks f;
  auto c = ReadSglangCounts({f.r0, f.r1}, 4);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->per_layer.size(), 2u);
  EXPECT_EQ(c->per_layer.at(3), (std::vector<uint64_t>{10, 21, 0, 9}));
  EXPECT_EQ(c->per_layer.at(5), (std::vector<uint64_t>{0, 0, 4, 0}));
  EXPECT_EQ(c->total_picks, 44u);
  auto one = ReadSglangCounts({f.r1}, 4);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->per_layer.size(), 1u);
  EXPECT_EQ(one->per_layer.at(3), (std::vector<uint64_t>{0, 20, 0, 2}));
  EXPECT_EQ(one->total_picks, 22u);
}

TEST(SglangCountsTest, AcceptsCrLfAndAHeaderOnlyRankBesideOthers) {
  ScopedTempDir dir;
  const std::string crlf = dir.Write("crlf.csv", "layer_id,expert_id,count\r\n0,1,5\r\n");
  const std::string idle = dir.Write("idle.csv", kHeader);
  auto c = ReadSglangCounts({crlf, idle}, 2);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->per_layer.at(0), (std::vector<uint64_t>{0, 5}));
}

TEST(SglangCountsTest, BadInputNamesFileAndLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"3,4,1\n", "bad.csv:3: expert 4 >= num_experts 4"},
      {"3,1,-5\n", "bad.csv:3: count '-5' is negative"},
      {"3,1,2.5\n", "bad.csv:3: count '2.5' is not a non-negative integer"},
      {"3,1,x\n", "bad.csv:3: count 'x' is not a non-negative integer"},
      {"3,-1,2\n", "bad.csv:3: expert_id '-1' is negative"},
      {"UNKNOWN,1,2\n", "bad.csv:3: layer_id 'UNKNOWN' is not a non-negative integer"},
      {"3,0,2\n", "bad.csv:3: layer 3 expert 0 listed twice (first on line 2)"},
      {"3,1\n", "bad.csv:3: 2 fields, expected 3 (layer_id,expert_id,count)"},
      {"3,1,2,9\n", "bad.csv:3: more than 3 fields"},
      {"3,1,99999999999999999999\n", "bad.csv:3: count '99999999999999999999' is too large"},
      {"\n3,1,2\n", "bad.csv:3: empty line"},
      {"3,1,39", "bad.csv:3: truncated line (no newline at its end: the file was cut)"},
  };
  for (const auto& [tail, expected] : cases) {
    ScopedTempDir dir;
    const std::string path = dir.Write("bad.csv", std::string(kHeader) + "3,0,1\n" + tail);
    auto c = ReadSglangCounts({path}, 4);
    ASSERT_FALSE(c.ok()) << tail;
    EXPECT_EQ(c.status().code(), Status::Code::kBadInput) << tail;
    EXPECT_EQ(c.status().message(), dir.Path(expected)) << tail;
  }
}

TEST(SglangCountsTest, BadHeadersAndEmptyFilesAreBadInput) {
  ScopedTempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"layer,expert,count\n0,0,1\n",
       "h.csv:1: header 'layer,expert,count', expected 'layer_id,expert_id,count' (an SGLang expert-distribution CSV)"},
      {"0,0,1\n", "h.csv:1: header '0,0,1', expected 'layer_id,expert_id,count' (an SGLang expert-distribution CSV)"},
      {"", "h.csv:1: empty file, expected the header 'layer_id,expert_id,count'"},
      {"layer_id,expert_id,co", "h.csv:1: truncated line (no newline at its end: the file was cut)"},
      {kHeader, "h.csv: no counts (header only)"},
  };
  for (const auto& [text, expected] : cases) {
    const std::string path = dir.Write("h.csv", text);
    auto c = ReadSglangCounts({path}, 4);
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), Status::Code::kBadInput) << text;
    EXPECT_EQ(c.status().message(), dir.Path(expected)) << text;
  }
}

TEST(SglangCountsTest, TheSecondFileOfARunIsCheckedToo) {
  TwoRanks f;
  const std::string cut = f.dir.Write("rank2.csv", std::string(kHeader) + "3,1,2\n3,1,3\n");
  auto c = ReadSglangCounts({f.r0, f.r1, cut}, 4);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), f.dir.Path("rank2.csv:3: layer 3 expert 1 listed twice (first on line 2)"));
  // Across files the same (layer, expert) is summed, never a duplicate.
  EXPECT_TRUE(ReadSglangCounts({f.r1, f.r1}, 4).ok());
}

TEST(SglangCountsTest, MissingFileIsNotFound) {
  ScopedTempDir dir;
  auto c = ReadSglangCounts({dir.Path("absent.csv")}, 4);
  EXPECT_EQ(c.status().code(), Status::Code::kNotFound);
  EXPECT_NE(c.status().message().find("absent.csv"), std::string::npos);
}

TEST(SglangCountsTest, FormatIsToldByTheFirstByteNotTheExtension) {
  ScopedTempDir dir;
  EXPECT_TRUE(LooksLikeSglangCounts(dir.Write("counts.json", kHeader)));
  EXPECT_FALSE(LooksLikeSglangCounts(dir.Write("load.csv", "\n  {\"layers\": []}")));
  EXPECT_FALSE(LooksLikeSglangCounts(dir.Path("absent")));
}

TEST(SglangCountsTest, TargetsFromRankFilesGiveTheSummedLoadsAndSayWhatWasRead) {
  TwoRanks f;
  auto t = TargetsFromFiles(TargetFiles{{f.r0, f.r1}, "", "", "base", 1}, "m", 4, 2, {3, 5});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->layers[0].load, (std::vector<double>{10, 21, 0, 9}));
  EXPECT_EQ(t->layers[1].load, (std::vector<double>{0, 0, 4, 0}));
  EXPECT_EQ(t->load_read.format, "SGLang CSV");
  EXPECT_EQ(t->load_read.files, (std::vector<std::string>{f.r0, f.r1}));
  EXPECT_EQ(t->load_read.layers, (std::vector<uint32_t>{3, 5}));
  EXPECT_EQ(t->load_read.total_picks, 44);
  EXPECT_EQ(t->source, f.r0 + ", " + f.r1);
}

TEST(SglangCountsTest, SeveralJsonFilesOrALoadKeyOnACsvAreUsageErrors) {
  TwoRanks f;
  const std::string json = f.dir.Write("load.json", R"({"layers": [3], "load": [[1, 2, 3, 4]]})");
  auto two = TargetsFromFiles(TargetFiles{{f.r0, json}, "", "", "base", 1}, "m", 4, 2, {3});
  EXPECT_EQ(two.status().code(), Status::Code::kUsage);
  EXPECT_NE(two.status().message().find("load.json is JSON"), std::string::npos) << two.status().message();
  auto key = TargetsFromFiles(TargetFiles{{f.r0}, "some_key", "", "base", 1}, "m", 4, 2, {3});
  EXPECT_EQ(key.status().code(), Status::Code::kUsage);
  auto one = TargetsFromFiles(TargetFiles{{json}, "", "", "base", 1}, "m", 4, 2, {3});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->load_read.format, "JSON");
  EXPECT_EQ(one->load_read.total_picks, 10);
}

}  // namespace
}  // namespace epsim::synth
