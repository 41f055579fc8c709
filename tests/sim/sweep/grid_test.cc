#include "sim/sweep/grid.h"

#include <gtest/gtest.h>

namespace epsim::sweep {
namespace {

Axes Complete(const std::string& file_text, const Axes& flags = {}) {
  auto file = ParseSweepFile(file_text, "s.txt");
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  auto axes = CompleteAxes(*file, flags);
  EXPECT_TRUE(axes.ok()) << axes.status().ToString();
  return *axes;
}

std::string ErrorOf(const std::string& file_text) {
  auto file = ParseSweepFile(file_text, "s.txt");
  if (!file.ok()) return file.status().message();
  auto axes = CompleteAxes(*file, {});
  return axes.ok() ? "" : axes.status().message();
}

TEST(SweepGridTest, ParsesKeysValuesAndComments) {
  auto axes = ParseSweepFile("# a comment\n\n  tokens = 256, 512 , 256  # repeats go\n"
                             "dispatch=classical,dedup\n",
                             "s.txt");
  ASSERT_TRUE(axes.ok());
  EXPECT_EQ((*axes)[kTokens].values, (std::vector<std::string>{"256", "512"}));
  EXPECT_EQ((*axes)[kTokens].where, "s.txt:3");
  EXPECT_EQ((*axes)[kDispatch].values, (std::vector<std::string>{"classical", "dedup"}));
  EXPECT_TRUE((*axes)[kModel].values.empty());
}

TEST(SweepGridTest, ErrorsNameTheLine) {
  EXPECT_EQ(ErrorOf("tokens = 1\nmodle = x\n"),
            "s.txt:2: unknown key 'modle' (did you mean 'model'?) (keys: model, trace, tokens, "
            "seed, topology, ep, placement, dispatch, pass, overlap, context, p2p)");
  EXPECT_EQ(ErrorOf("ep = 4\n\nep = 8\n"), "s.txt:3: 'ep' is already given at s.txt:1");
  EXPECT_EQ(ErrorOf("tokens\n"), "s.txt:1: expected 'key = value, ...', got 'tokens'");
  EXPECT_EQ(ErrorOf("tokens = 1,\n"), "s.txt:1: empty value in '1,'");
  EXPECT_EQ(ErrorOf("tokens =\n"), "s.txt:1: empty value in ''");
  EXPECT_EQ(ErrorOf("# x\ntokens = 1, -2\n"), "s.txt:2: tokens '-2' is not an unsigned integer");
  EXPECT_EQ(ErrorOf("tokens = 0\n"), "s.txt:1: tokens 0 is not in [1, 2^30]");
  EXPECT_EQ(ErrorOf("pass = prefil\n"),
            "s.txt:1: pass 'prefil' is not one of decode, prefill, train");
  EXPECT_NE(ErrorOf("dispatch = classical, pruned:x\n").find("s.txt:1"), std::string::npos);
}

TEST(SweepGridTest, FlagsReplaceTheFileAndDefaultsFillTheRest) {
  Axes flags;
  flags[kTokens] = {{"64"}, "--tokens"};
  const Axes axes = Complete("tokens = 256, 512\ndispatch = dedup\n", flags);
  EXPECT_EQ(axes[kTokens].values, std::vector<std::string>{"64"});
  EXPECT_EQ(axes[kTokens].where, "--tokens");
  EXPECT_EQ(axes[kDispatch].values, std::vector<std::string>{"dedup"});
  EXPECT_EQ(axes[kModel].values, std::vector<std::string>{"olmoe-1b-7b"});
  EXPECT_EQ(axes[kModel].where, "default");
  EXPECT_EQ(axes[kP2p].values, std::vector<std::string>{"default"});
}

TEST(SweepGridTest, DispatchNamesAreCanonicalAndDeduplicated) {
  const Axes axes = Complete("dispatch = pruned:2:score, classical, pruned:2:score\n");
  EXPECT_EQ(axes[kDispatch].values, (std::vector<std::string>{"pruned:2:score", "classical"}));
}

TEST(SweepGridTest, ExpandsInAxisOrderWithDispatchFastest) {
  const Axes axes = Complete(
      "model = tiny-moe\ntokens = 256, 512\ntopology = a6000-x4-pcie-gen4\nep = 2, 4\n"
      "dispatch = classical, dedup\n");
  std::vector<std::string> skipped;
  auto points = ExpandGrid(axes, &skipped);
  ASSERT_TRUE(points.ok()) << points.status().ToString();
  ASSERT_EQ(points->size(), 8u);
  EXPECT_TRUE(skipped.empty());
  // tokens slowest, then ep, then dispatch.
  const std::vector<std::array<std::string, 3>> want = {
      {"256", "2", "classical"}, {"256", "2", "dedup"}, {"256", "4", "classical"},
      {"256", "4", "dedup"},     {"512", "2", "classical"}, {"512", "2", "dedup"},
      {"512", "4", "classical"}, {"512", "4", "dedup"}};
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& c = (*points)[i].columns;
    EXPECT_EQ(c[2], want[i][0]) << i;
    EXPECT_EQ(c[6], want[i][1]) << i;
    EXPECT_EQ(c[8], want[i][2]) << i;
    EXPECT_EQ(c[5], "no");  // a shipped topology is not a calibrated one
  }
  EXPECT_EQ((*points)[2].flags.ep, 4u);
  EXPECT_EQ((*points)[2].flags.tokens, 256u);
  EXPECT_TRUE((*points)[2].flags.tokens_given);
  // Jobs: the points that differ only in dispatch.
  const std::vector<Job> jobs = JobsOf(*points);
  ASSERT_EQ(jobs.size(), 4u);
  for (size_t j = 0; j < jobs.size(); ++j) {
    EXPECT_EQ(jobs[j].begin, 2 * j);
    EXPECT_EQ(jobs[j].end, 2 * j + 2);
  }
}

TEST(SweepGridTest, EpZeroIsEveryGpuAndTooLargeIsLeftOut) {
  const Axes axes = Complete("model = tiny-moe\ntopology = a6000-x4-pcie-gen4\nep = 0, 2, 8\n");
  std::vector<std::string> skipped;
  auto points = ExpandGrid(axes, &skipped);
  ASSERT_TRUE(points.ok());
  ASSERT_EQ(points->size(), 2u);
  EXPECT_EQ((*points)[0].columns[6], "4");
  EXPECT_EQ((*points)[1].columns[6], "2");
  EXPECT_EQ(skipped, std::vector<std::string>{"ep 8 on a6000-x4-pcie-gen4 (4 GPUs)"});
  const Axes none = Complete("model = tiny-moe\ntopology = a6000-x4-pcie-gen4\nep = 8\n");
  skipped.clear();
  auto empty = ExpandGrid(none, &skipped);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("no point"), std::string::npos);
}

TEST(SweepGridTest, MissingInputsNameTheirLine) {
  const Axes axes = Complete("model = tiny-moe\ntrace = /no/such.trace\n");
  std::vector<std::string> skipped;
  auto points = ExpandGrid(axes, &skipped);
  ASSERT_FALSE(points.ok());
  EXPECT_EQ(points.status().message(), "s.txt:2: trace '/no/such.trace': no such file");
  const Axes topo = Complete("topology = no-such-box\n");
  auto missing = ExpandGrid(topo, &skipped);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message().rfind("s.txt:1", 0), 0u) << missing.status().message();
}

TEST(SweepGridTest, TokensWithTracesOnlyContradict) {
  auto file = ParseSweepFile("trace = a.trace\ntokens = 256\n", "s.txt");
  ASSERT_TRUE(file.ok());
  auto axes = CompleteAxes(*file, {});
  ASSERT_FALSE(axes.ok());
  EXPECT_EQ(axes.status().message(),
            "s.txt:2: tokens applies to synthetic routing, and s.txt:1 gives traces only (add "
            "'synthetic' to the traces, or drop tokens)");
  file = ParseSweepFile("trace = a.trace, synthetic\ntokens = 256\n", "s.txt");
  EXPECT_TRUE(CompleteAxes(*file, {}).ok());
}

TEST(SweepGridTest, PointKeysDifferWhenAnyInputDiffers) {
  EXPECT_NE(PointKey({"a", "b"}), PointKey({"ab", ""}));
  EXPECT_EQ(PointKey({"a", "b"}), PointKey({"a", "b"}));
}

}  // namespace
}  // namespace epsim::sweep
