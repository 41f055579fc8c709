// epsim diff on two hand-written files (testdata/diff_a.json, simulated,
// and diff_b.json, measured). Their classical / contiguous runs, busy_max /
// busy_mean in us:
//   layer phase      A        B
//   0     dispatch   12 / 9   10 / 8    errors +20 / +12.5 %
//   0     expert     30 / 27  40 / 30   -25 / -10 %
//   0     combine    -        5 / 5     only in B
//   1     dispatch   15 / 12  10 / 10   +50 / +20 %
//   1     expert     30 / 30  12 / 10   +150 / +200 %
//   1     combine    9 / 8    -         only in A
// Kinds over matched layers: dispatch 27 / 21 vs 20 / 18 (+35 / +16.67 %),
// expert 60 / 57 vs 52 / 40 (+15.38 / +42.5 %). Pass 100 vs 80 us (+25 %).
// Weighted error (|27 - 20| + |60 - 52|) / (20 + 52) = 15 / 72 = 20.83 %.
// A also has dedup / contiguous, B pruned:2:score / contiguous.
#include "sim/report/diff.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "sim/report/diff_output.h"

namespace epsim::report {
namespace {

constexpr double kUs = 1e-6;

ReportFile Load(const std::string& name) {
  Result<ReportFile> file =
      ReadReportJson(std::string(EPSIM_SOURCE_DIR) + "/tests/sim/report/testdata/" + name);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  file->path = name;  // as if given relative to the testdata folder
  return std::move(file).value();
}

ReportDiff DiffAB() {
  Result<ReportDiff> diff = DiffReports(Load("diff_a.json"), Load("diff_b.json"));
  EXPECT_TRUE(diff.ok()) << diff.status().ToString();
  return std::move(diff).value();
}

std::string Write(Format format, DiffRows rows) {
  std::ostringstream out;
  WriteDiff(out, format, Load("diff_a.json"), Load("diff_b.json"), DiffAB(), rows);
  return out.str();
}

void ExpectError(const DiffCell& cell, double want_pct) {
  ASSERT_TRUE(ErrorPct(cell).has_value());
  EXPECT_NEAR(*ErrorPct(cell), want_pct, 1e-9);
}

TEST(ReportDiffTest, ErrorIsAMinusBOverBInPercent) {
  ExpectError({12 * kUs, 10 * kUs}, 20.0);
  ExpectError({30 * kUs, 40 * kUs}, -25.0);
  EXPECT_FALSE(ErrorPct({1.0, 0.0}).has_value());
  EXPECT_FALSE(ErrorPct({std::nullopt, 1.0}).has_value());
  EXPECT_FALSE(ErrorPct({1.0, std::nullopt}).has_value());
}

TEST(ReportDiffTest, MatchesRunsByNameAndKeepsTheOthers) {
  const ReportDiff diff = DiffAB();
  ASSERT_EQ(diff.runs.size(), 1u);
  EXPECT_EQ(diff.runs[0].a.strategy(), "classical");
  EXPECT_EQ(diff.runs[0].b.source(), "measured");
  EXPECT_EQ(diff.runs[0].b.iterations(), 20u);
  EXPECT_EQ(diff.a_only_runs, std::vector<std::string>{"dedup / contiguous"});
  EXPECT_EQ(diff.b_only_runs, std::vector<std::string>{"pruned:2:score / contiguous"});
}

TEST(ReportDiffTest, LayerRowsHaveExactErrorsAndKeepUnmatchedRecords) {
  const ReportDiff diff = DiffAB();
  const RunDiff& run = diff.runs[0];
  ASSERT_EQ(run.layers.size(), 6u);
  const DiffRow& l0_dispatch = run.layers[0];
  EXPECT_EQ(*l0_dispatch.layer, 0u);
  EXPECT_EQ(l0_dispatch.kind, proto::DISPATCH);
  ExpectError(l0_dispatch.busy_max, 20.0);
  ExpectError(l0_dispatch.busy_mean, 12.5);
  ExpectError(run.layers[1].busy_max, -25.0);
  ExpectError(run.layers[1].busy_mean, -10.0);
  // B's layer-0 combine follows A's phases of layer 0.
  EXPECT_EQ(run.layers[2].kind, proto::COMBINE);
  EXPECT_FALSE(run.layers[2].busy_max.a_s.has_value());
  EXPECT_NEAR(*run.layers[2].busy_max.b_s, 5 * kUs, 1e-15);
  ExpectError(run.layers[3].busy_max, 50.0);
  ExpectError(run.layers[4].busy_max, 150.0);
  ExpectError(run.layers[4].busy_mean, 200.0);
  EXPECT_EQ(*run.layers[5].layer, 1u);
  EXPECT_EQ(run.layers[5].kind, proto::COMBINE);
  EXPECT_NEAR(*run.layers[5].busy_max.a_s, 9 * kUs, 1e-15);
  EXPECT_FALSE(run.layers[5].busy_max.b_s.has_value());
}

TEST(ReportDiffTest, KindRowsSumMatchedLayersOnly) {
  const ReportDiff diff = DiffAB();
  const RunDiff& run = diff.runs[0];
  ASSERT_EQ(run.kinds.size(), 2u);  // combine is never in both files
  EXPECT_EQ(run.kinds[0].kind, proto::DISPATCH);
  EXPECT_FALSE(run.kinds[0].layer.has_value());
  EXPECT_NEAR(*run.kinds[0].busy_max.a_s, 27 * kUs, 1e-15);
  EXPECT_NEAR(*run.kinds[0].busy_max.b_s, 20 * kUs, 1e-15);
  ExpectError(run.kinds[0].busy_max, 35.0);
  ExpectError(run.kinds[0].busy_mean, 100.0 * 3 / 18);
  EXPECT_EQ(run.kinds[1].kind, proto::EXPERT);
  ExpectError(run.kinds[1].busy_max, 100.0 * 8 / 52);
  ExpectError(run.kinds[1].busy_mean, 42.5);
}

TEST(ReportDiffTest, TotalAndWeightedError) {
  const ReportDiff diff = DiffAB();
  const RunDiff& run = diff.runs[0];
  ExpectError(run.total, 25.0);
  ASSERT_TRUE(run.weighted_error_pct.has_value());
  EXPECT_NEAR(*run.weighted_error_pct, 100.0 * 15 / 72, 1e-9);
}

TEST(ReportDiffTest, SeveralPhasesOfOneKindInALayerAddUp) {
  proto::Report a, b;
  for (proto::Report* r : {&a, &b}) {
    r->set_strategy("hierarchical");
    for (double busy_us : {3.0, 4.0}) {
      proto::PhaseTiming* phase = r->add_phases();
      phase->set_kind(proto::DISPATCH);
      phase->set_busy_max_s(busy_us * kUs * (r == &a ? 2 : 1));
    }
  }
  const RunDiff run = DiffRuns(a, b);
  ASSERT_EQ(run.layers.size(), 1u);
  EXPECT_NEAR(*run.layers[0].busy_max.a_s, 14 * kUs, 1e-15);
  EXPECT_NEAR(*run.layers[0].busy_max.b_s, 7 * kUs, 1e-15);
  ASSERT_TRUE(run.weighted_error_pct.has_value());
  EXPECT_NEAR(*run.weighted_error_pct, 100.0, 1e-9);  // |14 - 7| / 7
}

TEST(ReportDiffTest, OnlyRunOfEachFileIsComparedWhateverItsName) {
  ReportFile a = Load("diff_a.json"), b = Load("diff_b.json");
  a.reports.resize(1);                 // classical / contiguous
  b.reports.erase(b.reports.begin());  // pruned:2:score / contiguous
  Result<ReportDiff> diff = DiffReports(a, b);
  ASSERT_TRUE(diff.ok()) << diff.status().ToString();
  ASSERT_EQ(diff->runs.size(), 1u);
  EXPECT_EQ(diff->runs[0].b.strategy(), "pruned:2:score");
  ExpectError(diff->runs[0].layers[0].busy_max, 200.0);  // 12 vs 4 us
}

TEST(ReportDiffTest, NoMatchingRunListsWhatEachFileHas) {
  ReportFile a = Load("diff_a.json"), b = Load("diff_b.json");
  b.reports.erase(b.reports.begin());  // B: pruned only; A: classical, dedup
  Result<ReportDiff> diff = DiffReports(a, b);
  ASSERT_FALSE(diff.ok());
  EXPECT_EQ(diff.status().code(), Status::Code::kBadInput);
  EXPECT_EQ(diff.status().message(),
            "no run of diff_a.json matches a run of diff_b.json by (strategy, placement): "
            "diff_a.json has classical / contiguous, dedup / contiguous; diff_b.json has "
            "pruned:2:score / contiguous");
}

TEST(ReportDiffOutputTest, ParsesByAndRejectsOthers) {
  EXPECT_EQ(*ParseDiffRows("layer"), DiffRows::kLayer);
  EXPECT_EQ(*ParseDiffRows("kind"), DiffRows::kKind);
  EXPECT_EQ(*ParseDiffRows("both"), DiffRows::kBoth);
  Result<DiffRows> bad = ParseDiffRows("rank");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kUsage);
}

TEST(ReportDiffOutputTest, CsvHasOneValuePerRecord) {
  const std::string prefix = "classical,contiguous,classical,contiguous,";
  const std::string expected =
      "a_strategy,a_placement,b_strategy,b_placement,layer,phase,metric,a_us,b_us,error_pct\n" +
      prefix + "all,dispatch,busy_max,27.0000,20.0000,35.0000\n" +
      prefix + "all,dispatch,busy_mean,21.0000,18.0000,16.6667\n" +
      prefix + "all,expert,busy_max,60.0000,52.0000,15.3846\n" +
      prefix + "all,expert,busy_mean,57.0000,40.0000,42.5000\n" +
      prefix + "all,total,total_time,100.0000,80.0000,25.0000\n" +
      prefix + "all,all,weighted_error,,,20.8333\n";
  EXPECT_EQ(Write(Format::kCsv, DiffRows::kKind), expected);
  const std::string layers = Write(Format::kCsv, DiffRows::kLayer);
  EXPECT_NE(layers.find(prefix + "0,combine,busy_max,,5.0000,\n"), std::string::npos) << layers;
  EXPECT_NE(layers.find(prefix + "1,combine,busy_mean,8.0000,,\n"), std::string::npos) << layers;
  EXPECT_EQ(layers.find(",all,dispatch,"), std::string::npos) << layers;
}

TEST(ReportDiffOutputTest, ConsoleNamesFilesSourcesAndConvention) {
  const std::string text = Write(Format::kConsole, DiffRows::kBoth);
  for (const char* line :
       {"# epsim 0.1.0 diff\n",
        "# A: diff_a.json (epsim 0.1.0 simulate)\n",
        "#   classical / contiguous: simulated, model tiny-moe, topology a6000-x4-pcie-gen4, "
        "2 ranks\n",
        "# B: diff_b.json (epsim 0.1.0 run)\n",
        "#   classical / contiguous: measured, model tiny-moe, topology host-2socket, 2 ranks; "
        "median of 20 timed passes after 5 warm-up passes, pass time 78.00 .. 90.50 us; "
        "#wrong: 0\n",
        "# Run only in A (not compared): dedup / contiguous\n",
        "# Run only in B (not compared): pruned:2:score / contiguous\n",
        "# error = (A - B) / B in percent",
        "# Record only in B: classical / contiguous layer 0 combine\n",
        "# Record only in A: classical / contiguous layer 1 combine\n",
        "#   classical / contiguous : 20.83%\n"})
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
}

// The whitespace-separated cells of the data row that starts with `lead`.
std::vector<std::string> Row(const std::string& text, const std::string& lead) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream cells(line);
    std::vector<std::string> row;
    for (std::string cell; cells >> cell;) row.push_back(cell);
    std::string joined;
    for (const std::string& cell : row) joined += (joined.empty() ? "" : " ") + cell;
    if (!line.starts_with("#") && joined.starts_with(lead)) return row;
  }
  return {};
}

TEST(ReportDiffOutputTest, ConsoleRowsShowValuesErrorsAndGaps) {
  const std::string text = Write(Format::kConsole, DiffRows::kBoth);
  using Cells = std::vector<std::string>;
  EXPECT_EQ(Row(text, "classical contiguous 0 dispatch"),
            (Cells{"classical", "contiguous", "0", "dispatch", "12.00", "10.00", "+20.00", "9.00",
                   "8.00", "+12.50"}));
  EXPECT_EQ(Row(text, "classical contiguous 0 combine"),
            (Cells{"classical", "contiguous", "0", "combine", "-", "5.00", "-", "-", "5.00", "-"}));
  EXPECT_EQ(Row(text, "classical contiguous all expert"),
            (Cells{"classical", "contiguous", "all", "expert", "60.00", "52.00", "+15.38", "57.00",
                   "40.00", "+42.50"}));
  EXPECT_EQ(Row(text, "classical contiguous all total"),
            (Cells{"classical", "contiguous", "all", "total", "100.00", "80.00", "+25.00", "-", "-",
                   "-"}));
  EXPECT_TRUE(Row(Write(Format::kConsole, DiffRows::kKind), "classical contiguous 0").empty());
}

TEST(ReportDiffOutputTest, JsonHasCellsNullsAndContext) {
  const nlohmann::json doc = nlohmann::json::parse(Write(Format::kJson, DiffRows::kBoth));
  EXPECT_EQ(doc["context"]["command"], "diff");
  EXPECT_EQ(doc["context"]["a"]["file"], "diff_a.json");
  EXPECT_EQ(doc["context"]["b"]["runs"][0]["source"], "measured");
  EXPECT_EQ(doc["context"]["b"]["runs"][0]["iterations"], 20);
  EXPECT_EQ(doc["only_in_a"][0], "dedup / contiguous");
  const nlohmann::json& run = doc["runs"][0];
  EXPECT_EQ(run["b"]["strategy"], "classical");
  EXPECT_EQ(run["layers"][0]["layer"], 0);
  EXPECT_EQ(run["layers"][0]["phase"], "dispatch");
  EXPECT_NEAR(run["layers"][0]["busy_max"]["error_pct"].get<double>(), 20.0, 1e-9);
  EXPECT_TRUE(run["layers"][2]["busy_max"]["a_us"].is_null());
  EXPECT_TRUE(run["layers"][2]["busy_max"]["error_pct"].is_null());
  EXPECT_FALSE(run["kinds"][0].contains("layer"));
  EXPECT_NEAR(run["kinds"][1]["busy_mean"]["error_pct"].get<double>(), 42.5, 1e-9);
  EXPECT_NEAR(run["total"]["error_pct"].get<double>(), 25.0, 1e-9);
  EXPECT_NEAR(run["weighted_error_pct"].get<double>(), 100.0 * 15 / 72, 1e-9);
  const nlohmann::json layer_only = nlohmann::json::parse(Write(Format::kJson, DiffRows::kLayer));
  EXPECT_FALSE(layer_only["runs"][0].contains("kinds"));
}

}  // namespace
}  // namespace epsim::report
