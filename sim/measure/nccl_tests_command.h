// Inside nccl_tests_log.cc: the command line that launched an nccl-tests
// run, as a log shows it ("root@host:~# mpirun -np 2 ... ./build/
// all_reduce_perf -b 8 -e 1G -f 2 -g 1"). Not an API for other layers.
#ifndef EPSIM_SIM_MEASURE_NCCL_TESTS_COMMAND_H_
#define EPSIM_SIM_MEASURE_NCCL_TESTS_COMMAND_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "sim/measure/nccl_tests_log.h"

namespace epsim::measure::internal {

struct NcclCommand {
  std::string binary;            // "all_reduce_perf" (the token's base name)
  std::optional<NcclTest> test;  // nullopt: a `*_perf` binary this parser does not read
  // Processes launched: 1 without a launcher, -np N of mpirun / mpiexec /
  // srun -n; 0 when a launcher gives no count.
  int processes = 0;
  // nccl-tests options after the binary, by short name: 'g' -> "2" for
  // "-g 2", "-g2", "--ngpus 2" or "--ngpus=2".
  std::map<char, std::string> options;
};

// The command in `line` when one of its tokens is a `<name>_perf` or
// `<name>_perf_mpi` binary; nullopt otherwise.
std::optional<NcclCommand> ParseNcclCommand(const std::string& line);

// A size as nccl-tests reads -b / -e: a number, optionally K, M or G
// (powers of 1024, either case). nullopt when nccl-tests would refuse it.
std::optional<uint64_t> ParseNcclSize(const std::string& value);

}  // namespace epsim::measure::internal

#endif  // EPSIM_SIM_MEASURE_NCCL_TESTS_COMMAND_H_
