// The nccl-tests flags `epsim bench` takes besides its sweep (-b -e -f -i)
// and launch shape (-g, --np), so that a command pasted from an nccl-tests
// run works as it is. The list is nccl-tests' getopt table (src/common.cu,
// as of 2026-07); each flag is either
//   taken:    it means something in the simulator (-t: ranks; -d: the
//             element type, hence the count column and whole-element
//             rounding; -o: the redop column of allreduce and
//             reducescatter, whose reduction is not charged), or
//   accepted: it is printed where nccl-tests prints it (the `# nThread`
//             line) and changes nothing, because a simulation is
//             deterministic (-n, -w, -m, -N, -a) or moves no data (-c), or
//   ignored:  it tunes something the simulator does not model (-z, -y, -T,
//             -G, -C, -S, -J, -R, -x, -D, -V, -M, -u, -I, -K, -p, -r).
// Each given flag of the last two kinds gets one note (Notes()), printed
// once to stderr. Values are checked as nccl-tests would read them: a bad
// number is a usage error (exit 1).
#ifndef EPSIM_SIM_CLI_NCCL_TESTS_FLAGS_H_
#define EPSIM_SIM_CLI_NCCL_TESTS_FLAGS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace epsim::cli {

struct NcclTestsFlags {
  uint32_t threads = 1;  // -t: threads per process, each driving -g GPUs
  std::string datatype = "float";  // -d
  std::string redop = "sum";       // -o
  // Accepted: nccl-tests' defaults, printed in the `# nThread` line.
  uint32_t iters = 20, warmup_iters = 1, agg_iters = 1, run_cycles = 1;
  uint32_t check = 1, average = 1;
  // Ignored: the value as given, by short name.
  std::map<char, std::string> ignored;
  // The options, to tell which were given.
  std::vector<std::pair<char, CLI::Option*>> options;
};

// Adds -t -d -o -n -w -m -N -c -a and the ignored flags to `cmd`.
void AddNcclTestsFlags(CLI::App* cmd, NcclTestsFlags* flags);

// One line per accepted or ignored flag that was given, saying why it
// changes nothing ("-n 100: accepted, no effect: ..."), in nccl-tests'
// option order.
std::vector<std::string> Notes(const NcclTestsFlags& flags);

// Whether the flag with this short name was given.
bool Given(const NcclTestsFlags& flags, char name);

}  // namespace epsim::cli

#endif  // EPSIM_SIM_CLI_NCCL_TESTS_FLAGS_H_
