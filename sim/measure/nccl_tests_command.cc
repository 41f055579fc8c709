#include "sim/measure/nccl_tests_command.h"

#include <cmath>
#include <regex>
#include <set>
#include <vector>

#include "sim/measure/log_text.h"

namespace epsim::measure::internal {

namespace {

std::string BaseName(std::string token) {
  for (char quote : {'"', '\''}) {
    if (!token.empty() && token.front() == quote) token.erase(0, 1);
    if (!token.empty() && token.back() == quote) token.pop_back();
  }
  const size_t slash = token.rfind('/');
  return slash == std::string::npos ? token : token.substr(slash + 1);
}

// Launchers and their options that give the process count.
bool IsLauncher(const std::string& name) {
  static const std::set<std::string> kLaunchers = {"mpirun", "mpiexec", "mpiexec.hydra", "orterun",
                                                   "srun"};
  return kLaunchers.count(name) > 0;
}

int LauncherProcesses(const std::vector<std::string>& tokens, size_t binary) {
  static const std::set<std::string> kCountOptions = {"-np", "--np", "-n", "--n", "-c", "--ntasks"};
  for (size_t k = 0; k < binary; ++k) {
    std::string option = tokens[k], value;
    const size_t eq = option.find('=');
    if (eq != std::string::npos) {
      value = option.substr(eq + 1);
      option = option.substr(0, eq);
    } else if (k + 1 < binary) {
      value = tokens[k + 1];
    }
    if (!kCountOptions.count(option)) continue;
    const std::optional<uint64_t> n = ParseUnsigned(value);
    if (n && *n > 0 && *n < (1u << 24)) return static_cast<int>(*n);
  }
  return 0;
}

// nccl-tests' long options (src/common.cu) that this parser cross-checks.
char ShortName(const std::string& long_name) {
  static const std::map<std::string, char> kLong = {
      {"nthreads", 't'},   {"ngpus", 'g'},         {"minbytes", 'b'}, {"maxbytes", 'e'},
      {"stepbytes", 'i'},  {"stepfactor", 'f'},    {"iters", 'n'},    {"warmup_iters", 'w'},
      {"run_cycles", 'N'}, {"report_cputime", 'C'}};
  const auto it = kLong.find(long_name);
  return it == kLong.end() ? 0 : it->second;
}

// Every nccl-tests option takes a value (getopt string "t:g:b:e:..."),
// attached ("-g2") or as the next token.
std::map<char, std::string> Options(const std::vector<std::string>& tokens, size_t binary) {
  std::map<char, std::string> options;
  for (size_t k = binary + 1; k < tokens.size(); ++k) {
    const std::string& t = tokens[k];
    if (t.size() < 2 || t[0] != '-') continue;
    char name = 0;
    std::string value;
    if (t[1] == '-') {
      const size_t eq = t.find('=');
      name = ShortName(t.substr(2, eq == std::string::npos ? std::string::npos : eq - 2));
      if (eq != std::string::npos) value = t.substr(eq + 1);
    } else {
      name = t[1];
      value = t.substr(2);
    }
    if (value.empty() && k + 1 < tokens.size()) value = tokens[++k];
    if (name != 0) options[name] = value;
  }
  return options;
}

}  // namespace

std::optional<NcclCommand> ParseNcclCommand(const std::string& line) {
  static const std::regex kBinary("([a-z0-9_]+)_perf(_mpi)?");
  const std::vector<std::string> tokens = Tokens(line);
  for (size_t k = 0; k < tokens.size(); ++k) {
    std::smatch m;
    const std::string name = BaseName(tokens[k]);
    if (!std::regex_match(name, m, kBinary)) continue;
    NcclCommand c;
    c.binary = name;
    c.test = NcclTestFromName(m[1].str());
    bool launched = false;
    for (size_t j = 0; j < k; ++j) launched |= IsLauncher(BaseName(tokens[j]));
    c.processes = launched ? LauncherProcesses(tokens, k) : 1;
    c.options = Options(tokens, k);
    return c;
  }
  return std::nullopt;
}

std::optional<uint64_t> ParseNcclSize(const std::string& value) {
  static const std::regex kSize("([0-9]+(\\.[0-9]*)?)([kKmMgG]?)");
  std::smatch m;
  if (!std::regex_match(value, m, kSize)) return std::nullopt;
  const double number = std::stod(m[1].str());
  const char unit = m[3].matched && m[3].length() > 0 ? m[3].str()[0] : ' ';
  double scale = 1;
  if (unit == 'k' || unit == 'K') scale = 1024.0;
  if (unit == 'm' || unit == 'M') scale = 1024.0 * 1024;
  if (unit == 'g' || unit == 'G') scale = 1024.0 * 1024 * 1024;
  const double bytes = number * scale;
  if (!(bytes < 1.8e19)) return std::nullopt;
  return static_cast<uint64_t>(bytes);
}

}  // namespace epsim::measure::internal
