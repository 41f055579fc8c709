// ParallelFor: every index exactly once, on any thread count.
#include "sim/base/parallel.h"

#include <cstdlib>
#include <vector>

#include <gtest/gtest.h>

namespace epsim {
namespace {

TEST(ParallelForTest, CallsEveryIndexOnceOnAnyThreadCount) {
  for (const char* threads : {"1", "2", "7"}) {
    setenv("EPSIM_THREADS", threads, 1);
    std::vector<int> calls(1000, 0);
    ParallelFor(calls.size(), [&](size_t i) { calls[i] += static_cast<int>(i % 5) + 1; });
    for (size_t i = 0; i < calls.size(); ++i) ASSERT_EQ(calls[i], static_cast<int>(i % 5) + 1) << threads;
  }
  unsetenv("EPSIM_THREADS");
}

TEST(ParallelForTest, ThreadCountFromTheEnvironment) {
  setenv("EPSIM_THREADS", "3", 1);
  EXPECT_EQ(WorkerThreads(), 3u);
  setenv("EPSIM_THREADS", "zero", 1);  // not a count: the machine's
  EXPECT_GE(WorkerThreads(), 1u);
  setenv("EPSIM_THREADS", "0", 1);
  EXPECT_GE(WorkerThreads(), 1u);
  unsetenv("EPSIM_THREADS");
  ParallelFor(0, [](size_t) { FAIL() << "no work"; });
}

}  // namespace
}  // namespace epsim
