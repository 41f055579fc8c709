// The published logs of ../shared/measurements for tests that parse them
// (nvidia-smi, nccl-tests, p2pBandwidthLatencyTest): read one, or skip the
// test, saying why, when the shared folder is not beside the project.
#ifndef EPSIM_TESTS_TESTING_SHARED_LOGS_H_
#define EPSIM_TESTS_TESTING_SHARED_LOGS_H_

#include <string>

#include "sim/base/file_util.h"

namespace epsim::testing {

inline const std::string kMeasurements = std::string(EPSIM_SHARED_DIR) + "/measurements";

// The text of a shared log, or empty (and the test skips) when absent.
inline std::string SharedLog(const std::string& name) {
  Result<std::string> text = ReadFileToString(kMeasurements + "/" + name);
  return text.ok() ? *text : "";
}

}  // namespace epsim::testing

// Skips the test when `text` (a SharedLog) is empty; `what` names the logs.
#define EPSIM_SKIP_WITHOUT_SHARED_LOG(text, what)                                      \
  if ((text).empty())                                                                  \
  GTEST_SKIP() << ::epsim::testing::kMeasurements << " is absent: this test reads the " \
               << (what) << " of the shared folder beside the project"

#endif  // EPSIM_TESTS_TESTING_SHARED_LOGS_H_
