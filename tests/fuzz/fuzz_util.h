// Shared by the fuzz targets: the input as a file (readers take paths), and
// a property failure that libFuzzer reports as a crash with its input.
#ifndef EPSIM_TESTS_FUZZ_FUZZ_UTIL_H_
#define EPSIM_TESTS_FUZZ_FUZZ_UTIL_H_

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace epsim::fuzz {

// A scratch folder of this process, made once.
inline const std::string& ScratchDir() {
  static const std::string dir = [] {
    std::string d = (std::filesystem::temp_directory_path() / "epsim-fuzz-XXXXXX").string();
    if (mkdtemp(d.data()) == nullptr) std::abort();
    return d;
  }();
  return dir;
}

inline std::string WriteInput(const uint8_t* data, size_t size, const std::string& name) {
  const std::string path = ScratchDir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

// The property does not hold: stop as a crash, saying which.
[[noreturn]] inline void PropertyFailed(const char* what, const std::string& detail) {
  std::fprintf(stderr, "epsim fuzz: property failed: %s: %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace epsim::fuzz

#endif  // EPSIM_TESTS_FUZZ_FUZZ_UTIL_H_
