// The CSV importers on any bytes: the first byte picks the shape, the rest
// is the file (dense-csv as layer3.csv, plain-csv as routes.csv), so each
// parser sees arbitrary headers and rows. Properties, as for JSON lines: an
// import that succeeds writes a trace that validates and holds the rows it
// reports; one that fails leaves no file.
#include <filesystem>
#include <string>

#include "sim/trace/importer.h"
#include "sim/trace/validate.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool dense = data[0] % 2 == 0;
  const std::string log = epsim::fuzz::WriteInput(data + 1, size - 1,
                                                  dense ? "layer3.csv" : "routes.csv");
  const std::string out = epsim::fuzz::ScratchDir() + "/out.trace";
  std::filesystem::remove(out);
  epsim::trace::ImportOptions options;
  options.inputs = {log};
  options.output = out;
  options.format = dense ? "dense-csv" : "plain-csv";
  options.num_experts = 16;
  options.threads = 1;
  const auto imported = epsim::trace::Import(options);
  const bool exists = std::filesystem::exists(out);
  if (!imported.ok() && exists)
    epsim::fuzz::PropertyFailed("a failed import left its output", imported.status().ToString());
  if (!imported.ok()) return 0;
  if (!exists) epsim::fuzz::PropertyFailed("an import succeeded without output", "");
  const auto valid = epsim::trace::ValidateTrace(out);
  if (!valid.ok())
    epsim::fuzz::PropertyFailed("an imported trace does not validate", valid.status().ToString());
  if (valid->rows != imported->rows)
    epsim::fuzz::PropertyFailed("the trace holds other rows than the import reported",
                                std::to_string(valid->rows) + " vs " +
                                    std::to_string(imported->rows));
  return 0;
}
