#include "sim/report/sweep_output.h"

#include <sstream>

#include <gtest/gtest.h>

namespace epsim::report {
namespace {

std::vector<std::string> Inputs(const std::string& dispatch, const std::string& tokens = "256") {
  return {"tiny-moe", "", tokens, "1", "a6000-x4-pcie-gen4", "no", "4", "contiguous",
          dispatch, "prefill", "none", "0", ""};
}

std::vector<SweepRow> Table() {
  std::vector<SweepRow> rows;
  for (const auto& [dispatch, dispatch_us, total_us] :
       std::vector<std::tuple<std::string, double, double>>{{"classical", 300, 1000},
                                                             {"dedup", 100, 800}}) {
    rows.push_back({Inputs(dispatch), "dispatch", dispatch_us, dispatch_us + 1.5, 1024, 2.5, {}});
    rows.push_back({Inputs(dispatch), "expert", total_us - dispatch_us, total_us - dispatch_us,
                    0, 2.5, {}});
    rows.push_back({Inputs(dispatch), "total", total_us, {}, {}, 2.5, {}});
  }
  return rows;
}

bool Same(const SweepRow& a, const SweepRow& b) {
  return a.inputs == b.inputs && a.phase == b.phase && a.time_us == b.time_us &&
         a.span_us == b.span_us && a.bytes == b.bytes && a.devices_per_token == b.devices_per_token &&
         a.speedup == b.speedup;
}

TEST(SweepOutputTest, SpeedupIsTheClassicalTwinsTimeOverThisOne) {
  std::vector<SweepRow> rows = Table();
  rows.push_back({Inputs("dedup", "512"), "total", 500, {}, {}, 2.5, {}});  // no twin
  FillSpeedups(&rows);
  EXPECT_EQ(rows[2].speedup, 1.0);
  EXPECT_EQ(rows[5].speedup, 1.25);
  EXPECT_FALSE(rows[6].speedup.has_value());
  EXPECT_FALSE(rows[0].speedup.has_value());  // phase rows have none
}

TEST(SweepOutputTest, CsvAndJsonRoundTrip) {
  std::vector<SweepRow> rows = Table();
  FillSpeedups(&rows);
  for (const std::string& text : {SweepCsv(rows), SweepJson(rows)}) {
    auto back = ParseSweepTable(text, "t");
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ASSERT_EQ(back->size(), rows.size());
    for (size_t i = 0; i < rows.size(); ++i) EXPECT_TRUE(Same((*back)[i], rows[i])) << i;
    EXPECT_EQ(SweepCsv(*back), SweepCsv(rows));
  }
  const std::string csv = SweepCsv(rows);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "model,trace,tokens,seed,topology,calibrated,ep,placement,dispatch,pass,overlap,"
            "context,p2p,phase,time_us,span_us,bytes,devices_per_token,speedup");
  EXPECT_NE(csv.find("\ntiny-moe,,256,1,a6000-x4-pcie-gen4,no,4,contiguous,dedup,prefill,none,0,,"
                     "total,800.0000,,,2.500000,1.2500\n"),
            std::string::npos)
      << csv;
}

TEST(SweepOutputTest, BadTablesNameTheLine) {
  const std::string csv = SweepCsv(Table());
  auto error = [](const std::string& text) {
    auto r = ParseSweepTable(text, "t.csv");
    return r.ok() ? std::string("ok") : r.status().message();
  };
  EXPECT_EQ(error("a,b\n"), "t.csv:1: not an epsim sweep table (header is not model,trace,tokens,"
                            "seed,topology,calibrated,ep,placement,dispatch,pass,overlap,context,"
                            "p2p,phase,time_us,span_us,bytes,devices_per_token,speedup)");
  EXPECT_EQ(error(csv.substr(0, csv.size() - 1)), "t.csv:7: truncated (no end of line)");
  std::string nan = csv;
  nan.replace(nan.find("300.0000"), 8, "nan");
  EXPECT_EQ(error(nan), "t.csv:2 (time_us): 'nan' is not a finite number");
  std::string phase = csv;
  phase.replace(phase.find(",expert,"), 8, ",expurt,");
  EXPECT_EQ(error(phase), "t.csv:3: phase 'expurt' is not a phase kind or total");
  std::string fields = csv;
  fields.replace(fields.find(",1024,"), 6, ",1024,9,");
  EXPECT_EQ(error(fields), "t.csv:2: 20 fields, expected 19");
  EXPECT_EQ(error("{\"rows\": [{\"model\": 1}]}"), "t.csv: rows[0].trace: missing");
  EXPECT_EQ(error(""), "t.csv: empty file");
}

TEST(SweepOutputTest, ConsoleNamesSharedInputsAndListsPoints) {
  std::vector<SweepRow> rows = Table();
  FillSpeedups(&rows);
  std::ostringstream out;
  WriteSweepConsole(out, rows);
  const std::string text = out.str();
  EXPECT_NE(text.find("# model: tiny-moe\n"), std::string::npos) << text;
  EXPECT_NE(text.find("dedup     0.800    1.25x  2.50     12.5"), std::string::npos) << text;
}

}  // namespace
}  // namespace epsim::report
