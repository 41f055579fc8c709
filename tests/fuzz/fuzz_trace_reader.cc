// The trace reader on any bytes. Property: what `trace validate` accepts,
// every reader reads (and the reverse: a trace ReadTrace accepts validates,
// since every reader applies the writer's row invariants).
#include <string>

#include "sim/trace/reader.h"
#include "sim/trace/validate.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = epsim::fuzz::WriteInput(data, size, "in.trace");
  const auto read = epsim::trace::ReadTrace(path);
  const auto valid = epsim::trace::ValidateTrace(path);
  if (valid.ok() && !read.ok())
    epsim::fuzz::PropertyFailed("validates but does not read", read.status().ToString());
  if (read.ok() && !valid.ok())
    epsim::fuzz::PropertyFailed("reads but does not validate", valid.status().ToString());
  return 0;
}
