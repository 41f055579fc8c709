// Every kind of bad line the importers must reject: each case is a few small
// input files, the "file:line" the error must name and what it must say.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "sim/trace/importer.h"
#include "tests/sim/trace/test_util.h"

namespace epsim::trace {
namespace {

constexpr char kGoodJson[] = R"({"layer": 0, "token_pos": 0, "experts": [1, 2], "gating_probs": [0.6, 0.4]})";
constexpr char kCsvHeader[] = "layer_id,token_id,expert_0,expert_1,expert_2,expert_3\n";
constexpr char kPlainHeader[] = "layer,token,expert_0,expert_1,score_0,score_1\n";
constexpr char kVllmRow[] =
    R"({"type": "route", "req_id": 1, "token_idx": 0, "layer": 0, "topk_ids": [1, 2], "topk_weights": [0.6, 0.4]})";

struct BadInputCase {
  std::string name;
  std::vector<std::pair<std::string, std::string>> files;  // name, contents
  std::string where;                                        // "file:line"
  std::string what;
};

// Names the case in test output instead of dumping its bytes.
void PrintTo(const BadInputCase& c, std::ostream* os) { *os << c.name; }

std::string Lines(std::initializer_list<std::string> lines) {
  std::string s;
  for (const std::string& l : lines) s += l + "\n";
  return s;
}

std::vector<BadInputCase> Cases() {
  const std::string j = kGoodJson;
  const std::string h = kCsvHeader;
  const std::string p = kPlainHeader;
  const std::string v = kVllmRow;
  return {
      {"MalformedJson", {{"a.jsonl", Lines({j, R"({"layer": 1, "experts": [1, 2])"})}},
       "a.jsonl:2", "malformed JSON"},
      {"JsonNotAnObject", {{"a.jsonl", Lines({"[1, 2]"})}}, "a.jsonl:1", "not a JSON object"},
      {"MissingLayer",
       {{"a.jsonl", Lines({j, "", R"({"experts": [1, 2], "gating_probs": [0.5, 0.5]})"})}},
       "a.jsonl:3", "missing \"layer\""},
      {"MissingExperts", {{"a.jsonl", Lines({R"({"layer": 0, "gating_probs": [0.5, 0.5]})"})}},
       "a.jsonl:1", "missing \"experts\""},
      {"MissingGatingProbsAfterRowsWithThem",
       {{"a.jsonl", Lines({j, R"({"layer": 1, "experts": [1, 2]})"})}},
       "a.jsonl:2", "missing \"gating_probs\" (the first route row has scores)"},
      {"GatingProbsAfterAnIdsOnlyRow",
       {{"a.jsonl", Lines({R"({"layer": 0, "experts": [1, 2]})", j})}},
       "a.jsonl:2", "\"gating_probs\" given here but not on the first route row (an ids-only log)"},
      {"JsonLayerAboveTheTraceLimit",
       {{"a.jsonl", Lines({j, R"({"layer": 4096, "experts": [1, 2], "gating_probs": [0.5, 0.5]})"})}},
       "a.jsonl:2", "layer 4096 is above 4095, the largest layer id a trace may hold"},
      {"PlainCsvLayerAboveTheTraceLimit", {{"a.csv", p + "4095,0,1,2,0.6,0.4\n5000,0,1,2,0.6,0.4\n"}},
       "a.csv:3", "layer 5000 is above 4095"},
      {"DenseCsvLayerAboveTheTraceLimit", {{"layer4096.csv", h + "4096,0,0.5,0.5,0,0\n"}},
       "layer4096.csv:2", "layer 4096 is above 4095"},
      {"PlainCsvTokenChangesSequence",
       {{"a.csv", "layer,token,sequence,expert_0,expert_1,score_0,score_1\n"
                  "0,0,1,3,1,0.7,0.3\n1,0,0,2,3,0.6,0.4\n"}},
       "a.csv:3", "layer 1: token 0 is in sequence 0 here but in sequence 1 in an earlier layer"},
      {"JsonTokenChangesSequence",
       {{"a.jsonl",
         Lines({R"({"layer": 0, "token_pos": 0, "problem_id": 7, "experts": [1, 2], "gating_probs": [0.6, 0.4]})",
                R"({"layer": 1, "token_pos": 0, "problem_id": 8, "experts": [1, 2], "gating_probs": [0.6, 0.4]})"})}},
       "a.jsonl:2", "is in sequence 8 here but in sequence 7 in an earlier layer"},
      {"NegativeLayer",
       {{"a.jsonl", Lines({R"({"layer": -1, "experts": [1, 2], "gating_probs": [0.5, 0.5]})"})}},
       "a.jsonl:1", "\"layer\" is -1"},
      {"ExpertsAndProbsDifferInLength",
       {{"a.jsonl", Lines({j, R"({"layer": 1, "experts": [1, 2], "gating_probs": [0.5, 0.3, 0.2]})"})}},
       "a.jsonl:2", "2 experts but 3 gating_probs"},
      {"JsonExpertIdOutOfRange",
       {{"a.jsonl", Lines({j, R"({"layer": 1, "experts": [1, 9], "gating_probs": [0.5, 0.5]})"})}},
       "a.jsonl:2", "expert 9 >= num_experts 4"},
      {"JsonExpertRepeated",
       {{"a.jsonl", Lines({R"({"layer": 1, "experts": [3, 3], "gating_probs": [0.5, 0.5]})"})}},
       "a.jsonl:1", "expert 3 selected twice"},
      {"InconsistentTopkLength",
       {{"a.jsonl", Lines({j, R"({"layer": 1, "experts": [1, 2, 3], "gating_probs": [0.5, 0.3, 0.2]})"})}},
       "a.jsonl:2", "3 experts, earlier lines have 2"},
      {"PositionRepeatedWithinStep", {{"a.jsonl", Lines({j, j})}}, "a.jsonl:2",
       "layer 0 token_pos 0 repeated within one step"},
      {"EmptyJsonl", {{"a.jsonl", ""}}, "a.jsonl:1", "empty file"},
      {"CsvNonNumericField", {{"layer3.csv", h + "0,0,0.5,0.5,0,0\n0,1,0.5,abc,0,0.5\n"}},
       "layer3.csv:3", "field 4 is 'abc', not a number"},
      {"CsvNumberWithTrailingJunk", {{"layer3.csv", h + "0,0,0.5,0.5x,0,0\n"}}, "layer3.csv:2",
       "field 4 is '0.5x', not a number"},
      {"CsvWrongFieldCount", {{"layer3.csv", h + "0,0,0.5,0.5,0,0\n0,1,0.5,0.5,0\n"}},
       "layer3.csv:3", "5 fields, expected 6"},
      {"CsvHeaderColumnMismatch",
       {{"layer3.csv", "layer_id,token,expert_0,expert_1,expert_2,expert_3\n0,0,0.5,0.5,0,0\n"}},
       "layer3.csv:1", "header column 2 is 'token', expected 'token_id'"},
      {"CsvHeaderWithOtherExpertCount",
       {{"layer3.csv", "layer_id,token_id,expert_0,expert_1\n0,0,0.5,0.5\n"}}, "layer3.csv:1",
       "header has 4 columns, expected 6"},
      {"CsvInconsistentNonZeroCount", {{"layer3.csv", h + "0,0,0.5,0.5,0,0\n0,1,0.2,0.3,0.5,0\n"}},
       "layer3.csv:3", "3 non-zero probabilities, earlier rows have 2"},
      {"CsvNegativeProbability", {{"layer3.csv", h + "0,0,0.5,-0.5,0,0\n"}}, "layer3.csv:2",
       "not a probability"},
      {"CsvAllZeroRow", {{"layer3.csv", h + "0,0,0,0,0,0\n"}}, "layer3.csv:2",
       "no non-zero probability"},
      {"CsvRepeatedTokenId", {{"layer3.csv", h + "0,7,0.5,0.5,0,0\n0,7,0.5,0.5,0,0\n"}},
       "layer3.csv:3", "token_id 7 repeated (first on line 2)"},
      {"CsvFileNameWithoutLayerNumber", {{"gates.csv", h + "0,0,0.5,0.5,0,0\n"}}, "gates.csv:1",
       "no layer number in the file name"},
      {"CsvSameLayerTwice",
       {{"layer3.csv", h + "0,0,0.5,0.5,0,0\n"}, {"run_layer3.csv", h + "0,0,0.5,0.5,0,0\n"}},
       "run_layer3.csv:1", "layer 3 is also given by"},
      {"CsvEmptyFile", {{"layer3.csv", ""}}, "layer3.csv:1", "empty file"},
      {"CsvHeaderOnly", {{"layer3.csv", h}}, "layer3.csv:2", "no token rows"},
      {"CsvErrorInSecondFile",
       {{"layer3.csv", h + "0,0,0.5,0.5,0,0\n"}, {"layer4.csv", h + "0,0,0.5,0.5,0,0\n0,1,x,0,0,0\n"}},
       "layer4.csv:3", "field 3 is 'x'"},
      {"JsonTrailingGarbage", {{"a.jsonl", Lines({j + " x"})}}, "a.jsonl:1", "malformed JSON"},
      {"JsonUnknownShape", {{"a.jsonl", Lines({R"({"a": 1, "b": [2]})"})}}, "a.jsonl:1",
       "cannot tell the log's shape from its fields (a, b)"},
      {"MixtralStringProblemId",
       {{"a.jsonl", Lines({R"({"layer": 0, "problem_id": "p", "experts": [1, 2], "gating_probs": [0.5, 0.5]})"})}},
       "a.jsonl:1", "\"problem_id\" is \"p\", expected an unsigned integer"},
      {"VllmUnknownType",
       {{"a.jsonl", Lines({v, R"({"type": "stats", "layer": 0})"})}}, "a.jsonl:2",
       "\"type\" is \"stats\", expected \"route\" or \"meta\""},
      {"VllmMissingTokenIdx",
       {{"a.jsonl", Lines({v, R"({"type": "route", "req_id": 1, "layer": 1, "topk_ids": [1, 2], "topk_weights": [0.6, 0.4]})"})}},
       "a.jsonl:2", "missing \"token_idx\""},
      {"VllmTokenIdxWhereFirstRowHadNone",
       {{"a.jsonl", Lines({R"({"type": "route", "req_id": 1, "layer": 1, "topk_ids": [1, 2], "topk_weights": [0.6, 0.4]})", v})}},
       "a.jsonl:2", "\"token_idx\" given here but not on the first route row"},
      {"VllmNegativeTokenIdx",
       {{"a.jsonl", Lines({R"({"type": "route", "req_id": 1, "token_idx": -3, "layer": 0, "topk_ids": [1, 2], "topk_weights": [0.6, 0.4]})"})}},
       "a.jsonl:1", "\"token_idx\" is -3, expected an integer"},
      {"VllmReqIdNeitherNumberNorString",
       {{"a.jsonl", Lines({R"({"type": "route", "req_id": [1], "token_idx": 0, "layer": 0, "topk_ids": [1, 2], "topk_weights": [0.6, 0.4]})"})}},
       "a.jsonl:1", "\"req_id\" is [1], expected an unsigned integer or a string"},
      {"VllmReqIdKindsMixed",
       {{"a.jsonl", Lines({v, R"({"type": "route", "req_id": "r", "token_idx": 0, "layer": 0, "topk_ids": [1, 2], "topk_weights": [0.6, 0.4]})"})}},
       "a.jsonl:2", "\"req_id\" is a string here but an integer on earlier lines"},
      {"VllmWeightNotANumber",
       {{"a.jsonl", Lines({R"({"type": "route", "req_id": 1, "token_idx": 0, "layer": 0, "topk_ids": [1, 2], "topk_weights": [0.6, "x"]})"})}},
       "a.jsonl:1", "\"topk_weights\" holds \"x\", not a number"},
      {"VllmIdsAndWeightsDifferInLength",
       {{"a.jsonl", Lines({R"({"type": "route", "req_id": 1, "token_idx": 0, "layer": 0, "topk_ids": [1, 2, 3], "topk_weights": [0.6, 0.4]})"})}},
       "a.jsonl:1", "3 topk_ids but 2 topk_weights"},
      {"VllmExpertOutOfRange",
       {{"a.jsonl", Lines({R"({"type": "route", "req_id": 1, "token_idx": 0, "layer": 0, "topk_ids": [1, 4], "topk_weights": [0.6, 0.4]})"})}},
       "a.jsonl:1", "expert 4 >= num_experts 4"},
      {"VllmMetaContradictsNumExperts",
       {{"a.jsonl", Lines({R"({"type": "meta", "num_experts": 8})", v})}}, "a.jsonl:1",
       "meta line says num_experts 8, but the model / --num-experts say 4"},
      {"VllmRowContradictsMetaTopK",
       {{"a.jsonl", Lines({R"({"type": "meta", "top_k": 3})", v})}}, "a.jsonl:2",
       "2 topk_ids, meta line says top_k 3"},
      {"VllmMetaNumExpertsNotAnInteger",
       {{"a.jsonl", Lines({R"({"type": "meta", "num_experts": "many"})", v})}}, "a.jsonl:1",
       "\"num_experts\" is \"many\""},
      {"VllmErrorInSecondLayerFile",
       {{"layer0.jsonl", Lines({v})},
        {"layer1.jsonl", Lines({R"({"type": "route", "req_id": 1, "token_idx": 0, "layer": 1, "topk_ids": [1, 2]})"})}},
       "layer1.jsonl:1", "missing \"topk_weights\""},
      {"PlainCsvHeaderWithoutExperts", {{"r.csv", "layer,token,score_0\n0,0,1\n"}}, "r.csv:1",
       "header column 3 is 'score_0', expected 'expert_0'"},
      {"PlainCsvHeaderLacksScore", {{"r.csv", "layer,token,expert_0,expert_1,score_0\n"}},
       "r.csv:1", "expected 'score_1' in column 6"},
      {"PlainCsvHeaderExtraColumn", {{"r.csv", "layer,token,expert_0,score_0,note\n0,0,1,1,x\n"}},
       "r.csv:1", "header has 5 columns, expected 4 for top-1"},
      {"PlainCsvWrongFieldCount", {{"r.csv", p + "0,0,1,2,0.5,0.5\n0,1,1,2,0.5\n"}}, "r.csv:3",
       "5 fields, expected 6"},
      {"PlainCsvNonNumericExpert", {{"r.csv", p + "0,0,x,2,0.5,0.5\n"}}, "r.csv:2",
       "field 3 is 'x', not a number"},
      {"PlainCsvNanScore", {{"r.csv", p + "0,0,1,2,nan,0.5\n"}}, "r.csv:2",
       "field 5 is 'nan', not a finite score"},
      {"PlainCsvRepeatedToken", {{"r.csv", p + "3,7,1,2,0.5,0.5\n3,7,0,2,0.5,0.5\n"}}, "r.csv:3",
       "layer 3 token 7 repeated"},
      {"PlainCsvExpertOutOfRange", {{"r.csv", p + "0,0,1,9,0.5,0.5\n"}}, "r.csv:2",
       "expert 9 >= num_experts 4"},
      {"PlainCsvExpertRepeated", {{"r.csv", p + "0,0,2,2,0.5,0.5\n"}}, "r.csv:2",
       "expert 2 selected twice"},
      {"PlainCsvHeaderOnly", {{"r.csv", p}}, "r.csv:2", "no token rows"},
      {"PlainCsvFilesDifferInTopk",
       {{"a.csv", p + "0,0,1,2,0.5,0.5\n"},
        {"b.csv", "layer,token,expert_0,expert_1,expert_2,score_0,score_1,score_2\n"}},
       "b.csv:1", "header has 3 expert columns, earlier files have 2"},
  };
}

class ImportBadInputTest : public ::testing::TestWithParam<BadInputCase> {};

TEST_P(ImportBadInputTest, FailsNamingFileAndLineAndLeavesNoOutput) {
  const BadInputCase& c = GetParam();
  ScopedTempDir dir;
  ImportOptions options;
  for (const auto& [name, contents] : c.files) options.inputs.push_back(dir.Write(name, contents));
  options.output = dir.Path("out.trace");
  options.num_experts = 4;
  Status st = Import(options).status();
  EXPECT_EQ(st.code(), Status::Code::kBadInput) << st.ToString();
  EXPECT_NE(st.message().find(dir.Path(c.where) + ": "), std::string::npos)
      << "message: " << st.message() << "\nexpected location: " << c.where;
  EXPECT_NE(st.message().find(c.what), std::string::npos)
      << "message: " << st.message() << "\nexpected to contain: " << c.what;
  EXPECT_FALSE(std::filesystem::exists(options.output));
  EXPECT_EQ(dir.List().size(), c.files.size()) << "temporaries left beside the output";
}

INSTANTIATE_TEST_SUITE_P(AllKinds, ImportBadInputTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace epsim::trace
