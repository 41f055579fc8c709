#include "sim/report/report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "sim/report/summary.h"
#include "tests/sim/report/report_fixture.h"

namespace epsim::report {
namespace {

RunInfo MakeInfo() {
  return RunInfo{"simulate",
                 {{"trace", "tiny.trace"}, {"model", "olmoe-1b-7b"}, {"ep", "2"}},
                 {{"simgrid", "3.32"}, {"network_model", "flow"}},
                 {}};
}

std::string Write(Format format, const std::vector<proto::Report>& reports) {
  std::ostringstream out;
  WriteSimulation(out, format, MakeInfo(), reports);
  return out.str();
}

// The whitespace-separated cells of the first line containing all `needles`.
std::vector<std::string> FindRow(const std::string& text, const std::vector<std::string>& needles) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    bool all = true;
    for (const std::string& n : needles) all = all && line.find(n) != std::string::npos;
    if (!all || line.starts_with("#")) continue;
    std::istringstream cells(line);
    std::vector<std::string> row;
    for (std::string cell; cells >> cell;) row.push_back(cell);
    return row;
  }
  return {};
}

TEST(ReportFormatTest, ParsesKnownNamesAndRejectsXml) {
  EXPECT_EQ(*ParseFormat("console"), Format::kConsole);
  EXPECT_EQ(*ParseFormat("csv"), Format::kCsv);
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  Result<Format> xml = ParseFormat("xml");
  ASSERT_FALSE(xml.ok());
  EXPECT_EQ(xml.status().code(), Status::Code::kUsage);
  EXPECT_NE(xml.status().message().find("xml"), std::string::npos);
}

TEST(ReportFormatTest, NamesEveryPhaseKind) {
  EXPECT_STREQ(PhaseName(proto::ATTENTION), "attention");
  EXPECT_STREQ(PhaseName(proto::SHARED_EXPERT), "shared_expert");
  EXPECT_STREQ(PhaseName(proto::DENSE_FFN), "dense_ffn");
  EXPECT_STREQ(PhaseName(proto::GATE_PERMUTE), "gate_permute");
  EXPECT_STREQ(PhaseName(proto::DISPATCH), "dispatch");
  EXPECT_STREQ(PhaseName(proto::EXPERT), "expert");
  EXPECT_STREQ(PhaseName(proto::COMBINE), "combine");
  EXPECT_STREQ(PhaseName(proto::UNPERMUTE_REDUCE), "unpermute_reduce");
}

TEST(ReportCsvTest, WritesExactRecordsThenTotals) {
  const std::string expected =
      "strategy,placement,layer,phase,bytes,rows,time_us,start_us,end_us,max_rank,busy_max_us,"
      "busy_mean_us,critical_us,wait_max_us,wait_mean_us\n"
      "classical,contiguous,0,attention,0,0,10.0000,0.0000,10.0000,0,8.0000,6.0000,10.0000,"
      "0.0000,0.0000\n"
      "classical,contiguous,0,dispatch,4000,4,20.0000,10.0000,30.0000,1,18.0000,16.0000,20.0000,"
      "2.0000,1.0000\n"
      "classical,contiguous,0,expert,0,0,15.0000,30.0000,45.0000,0,13.0000,11.0000,15.0000,"
      "0.0000,0.0000\n"
      "classical,contiguous,0,combine,4000,4,20.0000,45.0000,65.0000,0,18.0000,16.0000,20.0000,"
      "2.0000,1.0000\n"
      "classical,contiguous,1,attention,0,0,10.0000,65.0000,75.0000,0,8.0000,6.0000,10.0000,"
      "0.0000,0.0000\n"
      "classical,contiguous,1,dispatch,8000,8,20.0000,75.0000,95.0000,1,18.0000,16.0000,20.0000,"
      "2.0000,1.0000\n"
      "classical,contiguous,1,expert,0,0,15.0000,95.0000,110.0000,0,13.0000,11.0000,15.0000,"
      "0.0000,0.0000\n"
      "classical,contiguous,1,combine,6000,6,20.0000,110.0000,130.0000,0,18.0000,16.0000,20.0000,"
      "2.0000,1.0000\n"
      "classical,contiguous,all,attention,0,0,20.0000,,,,16.0000,12.0000,20.0000,0.0000,0.0000\n"
      "classical,contiguous,all,dispatch,12000,12,40.0000,,,,36.0000,32.0000,40.0000,4.0000,"
      "2.0000\n"
      "classical,contiguous,all,expert,0,0,30.0000,,,,26.0000,22.0000,30.0000,0.0000,0.0000\n"
      "classical,contiguous,all,combine,10000,10,40.0000,,,,36.0000,32.0000,40.0000,4.0000,"
      "2.0000\n"
      "classical,contiguous,all,total,22000,22,130.0000,,,,,,130.0000,,\n";
  const std::vector<proto::Report> reports = {MakeTwoLayerReport("classical")};
  EXPECT_EQ(SimulationCsv(reports), expected);
  EXPECT_EQ(Write(Format::kCsv, reports), expected);
}

TEST(ReportCsvTest, QuotesNamesWithCommas) {
  const std::string csv = SimulationCsv({MakeTwoLayerReport("a,b")});
  EXPECT_NE(csv.find("\n\"a,b\",contiguous,0,attention,"), std::string::npos);
}

TEST(ReportJsonTest, FieldsParseBackToTheReportNumbers) {
  const proto::Report report = MakeTwoLayerReport("classical");
  const nlohmann::json doc = nlohmann::json::parse(Write(Format::kJson, {report}));
  EXPECT_EQ(doc["context"]["version"], "0.1.0");
  EXPECT_EQ(doc["context"]["command"], "simulate");
  EXPECT_EQ(doc["context"]["inputs"]["model"], "olmoe-1b-7b");
  EXPECT_EQ(doc["context"]["settings"]["simgrid"], "3.32");
  EXPECT_EQ(doc["context"]["runs"][0]["settings"]["network"], "flow");
  ASSERT_EQ(doc["records"].size(), static_cast<size_t>(report.phases_size()));
  for (int i = 0; i < report.phases_size(); ++i) {
    const proto::PhaseTiming& phase = report.phases(i);
    const nlohmann::json& record = doc["records"][i];
    EXPECT_EQ(record["strategy"], "classical");
    EXPECT_EQ(record["layer"].get<uint32_t>(), phase.layer());
    EXPECT_EQ(record["phase"], PhaseName(phase.kind()));
    EXPECT_EQ(record["bytes"].get<uint64_t>(), phase.bytes());
    EXPECT_EQ(record["rows"].get<uint64_t>(), phase.rows());
    EXPECT_DOUBLE_EQ(record["start_us"].get<double>(), phase.start_s() * 1e6);
    EXPECT_DOUBLE_EQ(record["end_us"].get<double>(), phase.end_s() * 1e6);
    EXPECT_NEAR(record["time_us"].get<double>(), (phase.end_s() - phase.start_s()) * 1e6, 1e-9);
    EXPECT_EQ(record["max_rank"].get<uint32_t>(), phase.max_rank());
    EXPECT_DOUBLE_EQ(record["busy_max_us"].get<double>(), phase.busy_max_s() * 1e6);
    EXPECT_DOUBLE_EQ(record["busy_mean_us"].get<double>(), phase.busy_mean_s() * 1e6);
  }
  EXPECT_NEAR(doc["totals"][1]["busy_max_us"].get<double>(), 36.0, 1e-9);  // dispatch
  EXPECT_NEAR(doc["totals"][1]["busy_mean_us"].get<double>(), 32.0, 1e-9);
  EXPECT_FALSE(doc["totals"].back().contains("busy_max_us"));
  const nlohmann::json& total = doc["totals"].back();
  EXPECT_EQ(total["phase"], "total");
  EXPECT_EQ(total["bytes"].get<uint64_t>(), 22000u);
  EXPECT_NEAR(total["time_us"].get<double>(), 130.0, 1e-9);
  EXPECT_EQ(doc["totals"].size(), 5u);  // 4 phase kinds + total
}

TEST(ReportJsonTest, RunsCarryPassCountsRangeAndCheck) {
  proto::Report report = MakeTwoLayerReport("classical");
  report.set_source("measured");
  report.set_iterations(20);
  report.set_warmup(5);
  report.set_total_time_min_s(120e-6);
  report.set_total_time_max_s(150e-6);
  report.set_checked(true);
  report.set_wrong(3);
  const nlohmann::json doc = nlohmann::json::parse(Write(Format::kJson, {report}));
  const nlohmann::json& run = doc["context"]["runs"][0];
  EXPECT_EQ(run["source"], "measured");
  EXPECT_EQ(run["iterations"].get<uint32_t>(), 20u);
  EXPECT_EQ(run["warmup"].get<uint32_t>(), 5u);
  EXPECT_NEAR(run["total_time_us"].get<double>(), 130.0, 1e-9);
  EXPECT_NEAR(run["total_time_min_us"].get<double>(), 120.0, 1e-9);
  EXPECT_NEAR(run["total_time_max_us"].get<double>(), 150.0, 1e-9);
  EXPECT_EQ(run["checked"], true);
  EXPECT_EQ(run["wrong"].get<uint64_t>(), 3u);
}

TEST(ReportConsoleTest, MeasuredRunSaysPassesRangeAndWrong) {
  proto::Report report = MakeTwoLayerReport("classical");
  report.set_source("measured");
  report.set_iterations(20);
  report.set_warmup(5);
  report.set_total_time_min_s(120e-6);
  report.set_total_time_max_s(150.5e-6);
  report.set_checked(true);
  const std::string text = Write(Format::kConsole, {report});
  EXPECT_NE(text.find("#   classical / contiguous: measured, model olmoe-1b-7b, topology tiny, "
                      "2 ranks\n#     source: measured, median of 20 timed passes after 5 "
                      "warm-up passes; pass time 120.00 .. 150.50 us\n#     #wrong: 0\n"),
            std::string::npos) << text;
  report.set_checked(false);
  EXPECT_EQ(Write(Format::kConsole, {report}).find("#wrong"), std::string::npos);
}

TEST(ReportConsoleTest, SimulatedRunHasNoPassLines) {
  const std::string text = Write(Format::kConsole, {MakeTwoLayerReport("classical")});
  EXPECT_EQ(text.find("timed passes"), std::string::npos);
  EXPECT_EQ(text.find("#wrong"), std::string::npos);
}

TEST(ReportConsoleTest, HeaderNamesVersionInputsAndColumns) {
  const std::string text = Write(Format::kConsole, {MakeTwoLayerReport("classical")});
  EXPECT_TRUE(text.starts_with("# epsim 0.1.0 simulate\n"));
  EXPECT_NE(text.find("#   trace: tiny.trace\n"), std::string::npos);
  EXPECT_NE(text.find("#   simgrid: 3.32\n"), std::string::npos);
  for (const char* column : {"strategy", "placement", "layer", "dispatch(B)", "dispatch(us)",
                             "algbw(GB/s)", "expert(us)", "combine(B)", "combine(us)",
                             "other(us)", "layer(us)"})
    EXPECT_NE(text.find(column), std::string::npos) << column;
}

// Notes come once, after the settings (console), as context.notes (json),
// and not at all when there are none.
TEST(ReportNotesTest, PrintedOnceAfterTheSettingsAndInJson) {
  RunInfo info = MakeInfo();
  info.notes = {"hierarchical: one node", "--dispatch lists dedup more than once: run once"};
  const std::vector<proto::Report> reports = {MakeTwoLayerReport("classical")};
  std::ostringstream console, json;
  WriteSimulation(console, Format::kConsole, info, reports);
  EXPECT_NE(console.str().find("#   network_model: flow\n# Notes:\n#   hierarchical: one node\n"
                               "#   --dispatch lists dedup more than once: run once\n# Runs:\n"),
            std::string::npos)
      << console.str();
  WriteSimulation(json, Format::kJson, info, reports);
  EXPECT_EQ(nlohmann::json::parse(json.str())["context"]["notes"],
            nlohmann::json(info.notes));
  const std::string plain = Write(Format::kConsole, reports);
  EXPECT_EQ(plain.find("# Notes:"), std::string::npos);
  EXPECT_FALSE(nlohmann::json::parse(Write(Format::kJson, reports))["context"].contains("notes"));
}

TEST(ReportConsoleTest, PrintsLayerRowsAndTotals) {
  const std::string text = Write(Format::kConsole, {MakeTwoLayerReport("classical")});
  // algbw: most-loaded rank sent 3000 B in the slowest rank's 18 us of
  // dispatch = 0.17 GB/s; wait: the mean rank's 1 us in each all-to-all.
  EXPECT_EQ(FindRow(text, {"classical", " 0 "}),
            (std::vector<std::string>{"classical", "contiguous", "0", "4000", "20.00", "0.17",
                                      "15.00", "4000", "20.00", "10.00", "2.00", "65.00"}));
  // (3000 + 7000) B / 36 us = 0.28 GB/s; layer(us) of the total = the summed
  // critical-path times = total_time_s.
  EXPECT_EQ(FindRow(text, {"classical", "total"}),
            (std::vector<std::string>{"classical", "contiguous", "total", "12000", "40.00", "0.28",
                                      "30.00", "10000", "40.00", "20.00", "4.00", "130.00"}));
}

TEST(ReportConsoleTest, SummaryGivesSpeedupOverFirstReport) {
  proto::Report dedup = MakeTwoLayerReport("dedup");
  dedup.set_total_time_s(104e-6);
  const std::string text = Write(Format::kConsole, {MakeTwoLayerReport("classical"), dedup});
  EXPECT_NE(text.find("#   classical / contiguous :       130.00 us    1.00x\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("#   dedup / contiguous     :       104.00 us    1.25x\n"),
            std::string::npos) << text;
}

// Determinism across processes and working directories: e2e.determinism.

// The share of communication hidden, from the ops: rank 0's all-to-all
// runs 10-30 us and its compute 0-10 and 20-40 us (10 of 20 us under
// compute); rank 1's all-to-all 10-30 with compute only before it (none).
// Means over ranks: 20 us in flight, 5 us hidden, 25%.
TEST(ReportSummaryTest, CommunicationHiddenIsItsOverlapWithComputeOnEachRank) {
  proto::Report r;
  r.set_num_ranks(2);
  const auto phase = [&r](uint32_t id, proto::PhaseKind kind) {
    proto::PhaseTiming* p = r.add_phases();
    p->set_phase(id);
    p->set_kind(kind);
  };
  phase(0, proto::ATTENTION);
  phase(1, proto::DISPATCH);
  phase(2, proto::SHARED_EXPERT);
  const auto op = [&r](uint32_t phase, uint32_t rank, double a_us, double b_us) {
    proto::OpTiming* o = r.add_ops();
    o->set_phase(phase);
    o->set_rank(rank);
    o->set_start_s(a_us * 1e-6);
    o->set_end_s(b_us * 1e-6);
  };
  op(0, 0, 0, 10);
  op(1, 0, 10, 30);
  op(2, 0, 20, 40);
  op(0, 1, 0, 10);
  op(1, 1, 10, 30);
  op(2, 1, 30, 40);
  const CommunicationShare c = CommunicationOf(r);
  EXPECT_NEAR(c.busy_s, 20e-6, 1e-15);
  EXPECT_NEAR(c.hidden_s, 5e-6, 1e-15);
  EXPECT_NEAR(c.hidden, 0.25, 1e-12);
  EXPECT_EQ(CommunicationOf(proto::Report()).hidden, 0.0);
}

}  // namespace
}  // namespace epsim::report
