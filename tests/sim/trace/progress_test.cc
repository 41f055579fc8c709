// ProgressMeter on a fake clock: silent for short runs, at most one redraw
// per interval, a final line ended by a newline.
#include "sim/trace/progress.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace epsim::trace {
namespace {

TEST(ProgressMeterTest, SilentWhenTheRunEndsWithinTheDelay) {
  std::ostringstream out;
  double now = 0;
  ProgressMeter meter(&out, 1000, [&now] { return now; });
  now = 1.9;
  meter.Update(900, 90);
  meter.Finish();
  EXPECT_EQ(out.str(), "");
  EXPECT_FALSE(meter.drawn());
}

TEST(ProgressMeterTest, DrawsAfterTheDelayAtMostOncePerIntervalAndEndsTheLine) {
  std::ostringstream out;
  double now = 10;
  ProgressMeter meter(&out, 2'000'000'000, [&now] { return now; });
  now = 12.5;
  meter.Update(500'000'000, 250'000);
  const std::string first = out.str();
  EXPECT_EQ(first, "\r" + FormatProgress(500'000'000, 2'000'000'000, 250'000, 2.5) + "   ");
  now = 12.55;
  meter.Update(600'000'000, 300'000);
  EXPECT_EQ(out.str(), first) << "redrawn within 0.1 s";
  now = 12.7;
  meter.Update(700'000'000, 350'000);
  EXPECT_GT(out.str().size(), first.size());
  now = 14;
  meter.Update(2'000'000'000, 1'000'000);
  meter.Finish();
  const std::string all = out.str();
  EXPECT_EQ(all.back(), '\n');
  EXPECT_EQ(all.find('\n'), all.size() - 1) << "one line only";
}

TEST(ProgressMeterTest, FormatsBarBytesAndRate) {
  EXPECT_EQ(FormatProgress(500'000'000, 2'000'000'000, 250'000, 2.5),
            "[#######                       ]  25% 0.50/2.00 GB, 100.0k rows/s");
  EXPECT_EQ(FormatProgress(3'000'000'000, 0, 5'000'000, 2), "3.00 GB, 2.50M rows/s");
}

TEST(ProgressMeterTest, NullStreamDoesNothing) {
  ProgressMeter meter(nullptr, 10);
  meter.Update(10, 10);
  meter.Finish();
  EXPECT_FALSE(meter.drawn());
}

}  // namespace
}  // namespace epsim::trace
