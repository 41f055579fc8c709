// The subcommands of `epsim-hw`. Each registers its flags on the CLI11 app
// and runs after MPI is up; a Status that is not ok becomes the exit code
// (status.h: 1 usage, 2 bad input or no GPU, 3 verification failed,
// 4 internal error, 5 a peer failed or timed out).
#ifndef EPSIM_HW_CLI_COMMANDS_H_
#define EPSIM_HW_CLI_COMMANDS_H_

#include <functional>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "hw/common/backend.h"
#include "hw/mpi/mpi_comm.h"
#include "sim/base/status.h"

namespace epsim::hw::cli {

using Command = std::function<Status(MpiComm* mpi)>;

// Flags every subcommand shares: the backend and its options.
struct BackendFlags {
  std::string backend = "host";  // host | cuda
  int gpus_per_process = 1;      // -g, as in nccl-tests
  int blas_threads = 1;          // host: OpenBLAS threads per rank
  double timeout_s = 60;         // --timeout
};
void AddBackendFlags(CLI::App* cmd, BackendFlags* flags);
// The backend the flags name: host always; cuda when epsim-hw was built
// with CUDA (else BadInput saying so), NotFound without a visible GPU.
Result<std::unique_ptr<Backend>> MakeBackend(const BackendFlags& flags, MpiComm* mpi);

// Rank 0 checks the output files it will write (`root_check`, its own
// Status) before the work starts; every rank gets the outcome, so a bad
// path stops the whole job at once (ranks other than 0 get the same exit
// code with a short message; main prints rank 0's).
Status AgreeWithRoot(MpiComm* mpi, const Status& root_check, double timeout_s);

Command AddRunCommand(CLI::App& app);
Command AddBenchCommand(CLI::App& app);
Command AddTopoCommand(CLI::App& app);

}  // namespace epsim::hw::cli

#endif  // EPSIM_HW_CLI_COMMANDS_H_
