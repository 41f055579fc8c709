// The nccl-tests log parser on any text. Property: parsing is a function of
// the text (the same outcome and tables twice).
#include <string>

#include "sim/measure/nccl_tests_log.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto first = epsim::measure::ParseNcclTestsLog(text, "fuzz.log");
  const auto second = epsim::measure::ParseNcclTestsLog(text, "fuzz.log");
  if (first.ok() != second.ok()) epsim::fuzz::PropertyFailed("parse is not deterministic", "");
  if (!first.ok()) return 0;
  if (first->size() != second->size()) epsim::fuzz::PropertyFailed("table counts differ", "");
  return 0;
}
