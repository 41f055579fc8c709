// The harness's plan reader on any bytes. Property: a plan that reads is
// written back to bytes that read to the same plan.
#include <google/protobuf/util/message_differencer.h>

#include <string>

#include "sim/plan/plan_file.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = epsim::fuzz::WriteInput(data, size, "in.plan");
  const auto plan = epsim::plan::ReadPlan(path);
  if (!plan.ok()) return 0;
  const std::string again = epsim::fuzz::ScratchDir() + "/again.plan";
  const epsim::Status written = epsim::plan::WritePlan(again, plan.value());
  if (!written.ok()) epsim::fuzz::PropertyFailed("a plan that read cannot be written", written.ToString());
  const auto back = epsim::plan::ReadPlan(again);
  if (!back.ok()) epsim::fuzz::PropertyFailed("a written plan does not read", back.status().ToString());
  if (!google::protobuf::util::MessageDifferencer::Equals(plan.value(), back.value()))
    epsim::fuzz::PropertyFailed("a plan changed through a write and a read", "");
  return 0;
}
