#include "sim/report/json_input.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "sim/base/file_util.h"
#include "sim/report/report.h"
#include "tests/sim/report/report_fixture.h"

namespace epsim::report {
namespace {

std::string Testdata(const std::string& name) {
  return std::string(EPSIM_SOURCE_DIR) + "/tests/sim/report/testdata/" + name;
}

nlohmann::json LoadA() {
  return nlohmann::json::parse(ReadFileToString(Testdata("diff_a.json")).value());
}

// The message of parsing `text` as "a.json", which must fail as bad input.
std::string ErrorOf(const std::string& text) {
  Result<ReportFile> file = ParseReportJson(text, "a.json");
  EXPECT_FALSE(file.ok());
  if (file.ok()) return "";
  EXPECT_EQ(file.status().code(), Status::Code::kBadInput) << file.status().ToString();
  EXPECT_EQ(file.status().ExitCode(), 2);
  return file.status().message();
}

TEST(ReportJsonInputTest, RoundTripsWhatWriteSimulationWrites) {
  proto::Report report = MakeTwoLayerReport("classical");
  report.set_source("measured");
  report.set_iterations(20);
  report.set_warmup(5);
  report.set_total_time_min_s(120e-6);
  report.set_total_time_max_s(150e-6);
  report.set_checked(true);
  report.set_wrong(3);
  std::ostringstream out;
  WriteSimulation(out, Format::kJson, RunInfo{"simulate", {}, {}, {}}, {report});
  Result<ReportFile> file = ParseReportJson(out.str(), "r.json");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->path, "r.json");
  EXPECT_EQ(file->version, "0.1.0");
  EXPECT_EQ(file->command, "simulate");
  ASSERT_EQ(file->reports.size(), 1u);
  const proto::Report& back = file->reports[0];
  EXPECT_EQ(back.strategy(), "classical");
  EXPECT_EQ(back.source(), "measured");
  EXPECT_EQ(back.model(), "olmoe-1b-7b");
  EXPECT_EQ(back.topology(), "tiny");
  EXPECT_EQ(back.num_ranks(), 2u);
  EXPECT_EQ(back.iterations(), 20u);
  EXPECT_EQ(back.warmup(), 5u);
  EXPECT_TRUE(back.checked());
  EXPECT_EQ(back.wrong(), 3u);
  EXPECT_DOUBLE_EQ(back.total_time_s(), report.total_time_s());
  EXPECT_DOUBLE_EQ(back.total_time_min_s(), 120e-6);
  EXPECT_DOUBLE_EQ(back.total_time_max_s(), 150e-6);
  EXPECT_EQ(back.settings().at("network"), "flow");
  ASSERT_EQ(back.phases_size(), report.phases_size());
  for (int i = 0; i < report.phases_size(); ++i) {
    const proto::PhaseTiming& want = report.phases(i);
    const proto::PhaseTiming& got = back.phases(i);
    EXPECT_EQ(got.phase(), static_cast<uint32_t>(i));
    EXPECT_EQ(got.layer(), want.layer());
    EXPECT_EQ(got.kind(), want.kind());
    EXPECT_EQ(got.bytes(), want.bytes());
    EXPECT_EQ(got.rows(), want.rows());
    EXPECT_EQ(got.max_rank(), want.max_rank());
    EXPECT_DOUBLE_EQ(got.start_s(), want.start_s());
    EXPECT_DOUBLE_EQ(got.end_s(), want.end_s());
    EXPECT_DOUBLE_EQ(got.busy_max_s(), want.busy_max_s());
    EXPECT_DOUBLE_EQ(got.busy_mean_s(), want.busy_mean_s());
  }
}

TEST(ReportJsonInputTest, ReadsHandWrittenFileRecordsIntoTheirRuns) {
  Result<ReportFile> file = ReadReportJson(Testdata("diff_a.json"));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_EQ(file->reports.size(), 2u);
  EXPECT_EQ(file->reports[0].phases_size(), 5);
  EXPECT_EQ(file->reports[1].strategy(), "dedup");
  ASSERT_EQ(file->reports[1].phases_size(), 1);
  EXPECT_EQ(file->reports[1].phases(0).phase(), 0u);
  EXPECT_EQ(file->reports[1].phases(0).kind(), proto::DISPATCH);
  EXPECT_DOUBLE_EQ(file->reports[1].phases(0).busy_max_s(), 6e-6);
}

TEST(ReportJsonInputTest, MissingKeyNamesFileAndPath) {
  nlohmann::json doc = LoadA();
  doc["records"][3].erase("busy_max_us");
  EXPECT_EQ(ErrorOf(doc.dump()), "a.json: records[3].busy_max_us: missing");
  doc = LoadA();
  doc["context"]["runs"][1].erase("warmup");
  EXPECT_EQ(ErrorOf(doc.dump()), "a.json: context.runs[1].warmup: missing");
  doc = LoadA();
  doc.erase("records");
  EXPECT_EQ(ErrorOf(doc.dump()), "a.json: records: missing");
}

TEST(ReportJsonInputTest, WrongTypeNamesFileAndPath) {
  nlohmann::json doc = LoadA();
  doc["context"]["runs"][0]["iterations"] = "20";
  EXPECT_EQ(ErrorOf(doc.dump()),
            "a.json: context.runs[0].iterations: expected an unsigned integer, got string");
  doc = LoadA();
  doc["records"][2]["layer"] = -1;
  EXPECT_EQ(ErrorOf(doc.dump()),
            "a.json: records[2].layer: expected an unsigned integer, got number -1");
  doc = LoadA();
  doc["context"]["runs"][0]["checked"] = 1;
  EXPECT_EQ(ErrorOf(doc.dump()),
            "a.json: context.runs[0].checked: expected a boolean, got number 1");
  doc = LoadA();
  doc["records"] = nlohmann::json::object();
  EXPECT_EQ(ErrorOf(doc.dump()), "a.json: records: expected an array, got object");
  EXPECT_EQ(ErrorOf("[1, 2]"), "a.json: expected an object, got array");
}

TEST(ReportJsonInputTest, NanWrittenAsStringOrNullIsRejected) {
  nlohmann::json doc = LoadA();
  doc["records"][1]["busy_mean_us"] = "NaN";
  EXPECT_EQ(ErrorOf(doc.dump()), "a.json: records[1].busy_mean_us: expected a number, got string");
  doc = LoadA();
  doc["records"][1]["busy_mean_us"] = nullptr;
  EXPECT_EQ(ErrorOf(doc.dump()),
            "a.json: records[1].busy_mean_us: expected a number, got null (a NaN or infinity is "
            "written as null)");
}

TEST(ReportJsonInputTest, NumberTooLargeForADoubleIsBadInput) {
  nlohmann::json doc = LoadA();
  doc["context"]["runs"][0]["total_time_us"] = 12345.5;
  std::string text = doc.dump();
  text.replace(text.find("12345.5"), 7, "1e999");
  EXPECT_EQ(ErrorOf(text), "a.json: not valid JSON: number overflow parsing '1e999'");
}

TEST(ReportJsonInputTest, TruncatedFileSaysWhereItStops) {
  const std::string text = ReadFileToString(Testdata("diff_a.json")).value();
  const std::string message = ErrorOf(text.substr(0, text.size() / 2));
  EXPECT_TRUE(message.starts_with("a.json: not valid JSON: parse error at line ")) << message;
  EXPECT_EQ(message.find("[json.exception"), std::string::npos) << message;
}

TEST(ReportJsonInputTest, RejectsUnknownRunDuplicateRunAndUnknownPhase) {
  nlohmann::json doc = LoadA();
  doc["records"][4]["strategy"] = "c2r:12";
  EXPECT_EQ(ErrorOf(doc.dump()),
            "a.json: records[4]: run 'c2r:12 / contiguous' is not in context.runs");
  doc = LoadA();
  doc["context"]["runs"][1]["strategy"] = "classical";
  EXPECT_EQ(ErrorOf(doc.dump()),
            "a.json: context.runs[1]: run 'classical / contiguous' appears twice");
  doc = LoadA();
  doc["records"][0]["phase"] = "broadcast";
  EXPECT_EQ(ErrorOf(doc.dump()), "a.json: records[0].phase: unknown phase 'broadcast'");
  doc = LoadA();
  doc["context"]["runs"] = nlohmann::json::array();
  EXPECT_EQ(ErrorOf(doc.dump()), "a.json: context.runs: no runs");
  doc = LoadA();
  doc["context"]["runs"][0]["settings"]["granularity"] = 3;
  EXPECT_EQ(ErrorOf(doc.dump()),
            "a.json: context.runs[0].settings.granularity: expected a string, got number 3");
}

TEST(ReportJsonInputTest, MissingFileIsNamed) {
  Result<ReportFile> file = ReadReportJson("/nonexistent/absent.json");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().ExitCode(), 2);
  EXPECT_TRUE(file.status().message().starts_with("/nonexistent/absent.json: "))
      << file.status().message();
}

TEST(ReportJsonInputTest, PhaseNamesMapBackToKinds) {
  for (proto::PhaseKind kind : {proto::ATTENTION, proto::DISPATCH, proto::COMBINE_GATHER,
                                proto::UNPERMUTE_REDUCE}) {
    proto::PhaseKind back = proto::PHASE_UNSPECIFIED;
    ASSERT_TRUE(PhaseKindFromName(PhaseName(kind), &back)) << PhaseName(kind);
    EXPECT_EQ(back, kind);
  }
  proto::PhaseKind back;
  EXPECT_FALSE(PhaseKindFromName("unspecified", &back));
  EXPECT_FALSE(PhaseKindFromName("", &back));
}

}  // namespace
}  // namespace epsim::report
