// Reading log text (sim/measure/log_text.h): lines, and numbers with the
// precision their printing shows.
#include "sim/measure/log_text.h"

#include <gtest/gtest.h>

namespace epsim::measure {
namespace {

TEST(LogTextTest, SplitsLinesAndDropsCarriageReturns) {
  const std::vector<std::string> lines = SplitLines("a\r\n\nb  c\n");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "a");
  EXPECT_EQ(lines[1], "");
  EXPECT_EQ(lines[2], "b  c");
  EXPECT_EQ(SplitLines("no newline").size(), 1u);
  EXPECT_EQ(Tokens(" \t0\t  1.5 x ").size(), 3u);
  EXPECT_TRUE(IsBlank(" \t "));
  EXPECT_FALSE(IsBlank(" # "));
}

TEST(LogTextTest, HalfStepFollowsThePrintedDigits) {
  struct Case {
    const char* text;
    double value, half_step;
  };
  for (const Case& c :
       {Case{"17.08", 17.08, 0.005}, Case{"183.1", 183.1, 0.05}, Case{"10442", 10442, 0.5},
        Case{"0.00", 0, 0.005}, Case{"1.2e+07", 1.2e7, 5e5}, Case{"6e+06", 6e6, 5e5},
        Case{"2e-07", 2e-7, 5e-8}, Case{"-1", -1, 0.5}, Case{"+3.25E2", 325, 0.5}}) {
    const std::optional<PrintedNumber> n = ParsePrintedNumber(c.text);
    ASSERT_TRUE(n.has_value()) << c.text;
    EXPECT_DOUBLE_EQ(n->value, c.value) << c.text;
    EXPECT_DOUBLE_EQ(n->half_step, c.half_step) << c.text;
    EXPECT_EQ(n->text, c.text);
  }
}

TEST(LogTextTest, RefusesWhatPrintfDoesNotPrintAsANumber) {
  for (const char* text :
       {"nan", "inf", "-inf", "", "1,5", "0x10", "12.", ".5", "1e999", "1.5x", "N/A", "1e", "--1"})
    EXPECT_FALSE(ParsePrintedNumber(text).has_value()) << text;
}

TEST(LogTextTest, ParsesIntegers) {
  EXPECT_EQ(ParseUnsigned("17179869184"), 17179869184u);
  EXPECT_FALSE(ParseUnsigned("-1").has_value());
  EXPECT_FALSE(ParseUnsigned("18446744073709551616").has_value());  // 2^64
  EXPECT_FALSE(ParseUnsigned("12a").has_value());
  EXPECT_EQ(ParseSigned("-1"), -1);
  EXPECT_EQ(ParseSigned("42"), 42);
  EXPECT_FALSE(ParseSigned("-").has_value());
  EXPECT_FALSE(ParseSigned("+1").has_value());
}

TEST(LogTextTest, BadLineNamesFileAndLine) {
  const Status s = BadLine("log.txt", 12, "what");
  EXPECT_EQ(s.code(), Status::Code::kBadInput);
  EXPECT_EQ(s.message(), "log.txt:12: what");
}

}  // namespace
}  // namespace epsim::measure
