// Helpers shared by the trace tests: a scratch folder removed at the end of
// the test, and whole-file reads for byte comparisons.
#ifndef EPSIM_TESTS_SIM_TRACE_TEST_UTIL_H_
#define EPSIM_TESTS_SIM_TRACE_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace epsim::trace {

class ScopedTempDir {
 public:
  ScopedTempDir() {
    std::string tmpl = ::testing::TempDir() + "epsim_trace_XXXXXX";
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr) << "cannot create a folder under " << tmpl;
    path_ = tmpl;
  }
  ~ScopedTempDir() { std::filesystem::remove_all(path_); }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  std::string Path(const std::string& name) const { return path_ + "/" + name; }

  // Writes `contents` to `name` in the folder and returns its path.
  std::string Write(const std::string& name, const std::string& contents) const {
    std::ofstream out(Path(name), std::ios::binary);
    out << contents;
    EXPECT_TRUE(out.good()) << "cannot write " << Path(name);
    return Path(name);
  }

  // Names of the files in the folder, sorted.
  std::vector<std::string> List() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(path_))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::string path_;
};

inline std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace epsim::trace

#endif  // EPSIM_TESTS_SIM_TRACE_TEST_UTIL_H_
