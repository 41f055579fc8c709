// JSON-lines import on any bytes. Properties: an import that succeeds
// writes a trace that validates; one that fails leaves no file.
#include <filesystem>
#include <string>

#include "sim/trace/importer.h"
#include "sim/trace/validate.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string log = epsim::fuzz::WriteInput(data, size, "in.jsonl");
  const std::string out = epsim::fuzz::ScratchDir() + "/out.trace";
  std::filesystem::remove(out);
  epsim::trace::ImportOptions options;
  options.inputs = {log};
  options.output = out;
  options.format = "jsonl";
  options.num_experts = 16;
  options.threads = 1;
  const auto imported = epsim::trace::Import(options);
  const bool exists = std::filesystem::exists(out);
  if (!imported.ok() && exists)
    epsim::fuzz::PropertyFailed("a failed import left its output", imported.status().ToString());
  if (imported.ok()) {
    if (!exists) epsim::fuzz::PropertyFailed("an import succeeded without output", "");
    const auto valid = epsim::trace::ValidateTrace(out);
    if (!valid.ok())
      epsim::fuzz::PropertyFailed("an imported trace does not validate", valid.status().ToString());
  }
  return 0;
}
