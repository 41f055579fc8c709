// epsim-hw: execute epsim's plans for real and measure them, launched like
// nccl-tests: `mpirun -np N epsim-hw run|bench|topo ...`, one process per
// rank. Flags are parsed before MPI starts, so --help needs no mpirun.
#include <exception>
#include <iostream>

#include "hw/cli/commands.h"
#include "sim/base/fatal_cleanup.h"
#include "sim/base/output_file.h"

int main(int argc, char** argv) {
  CLI::App app{"epsim-hw: run epsim's plans on real hardware (CPU + MPI, or CUDA + NCCL) and "
               "measure them; launch with mpirun, one process per rank"};
  app.require_subcommand(1);
  const std::vector<std::pair<std::string, epsim::hw::cli::Command>> commands = {
      {"run", epsim::hw::cli::AddRunCommand(app)},
      {"bench", epsim::hw::cli::AddBenchCommand(app)},
      {"topo", epsim::hw::cli::AddTopoCommand(app)}};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  auto mpi = epsim::hw::MpiComm::Init(&argc, &argv);
  if (!mpi.ok()) {
    std::cerr << "epsim-hw: " << mpi.status().ToString() << "\n";
    return mpi.status().ExitCode();
  }
  // After MPI_Init, so these handlers are the ones in place: SIGINT, SIGTERM
  // (what mpirun forwards when it is interrupted), SIGHUP and SIGPIPE remove
  // this rank's unfinished outputs, then end it by the same signal.
  epsim::InstallInterruptCleanup();
  epsim::Status status;
  for (const auto& [name, run] : commands) {
    if (!app.got_subcommand(name)) continue;
    try {  // nothing escapes main: an exception is an internal error, one line
      status = run(mpi->get());
      // What went to standard output must have arrived (rank 0 prints).
      if (status.ok()) status = epsim::CheckStandardOutput();
    } catch (const std::exception& e) {
      status = epsim::Status::Internal(std::string("uncaught exception: ") + e.what());
    } catch (...) {
      status = epsim::Status::Internal("uncaught exception of unknown type");
    }
  }
  if (status.code() == epsim::Status::Code::kPeerFailure) {
    epsim::RemoveFatalCleanupFiles();  // MPI_Abort runs no destructors
    (*mpi)->Abort(status.ToString(), status.ExitCode());  // no rank may be left waiting
  }
  // Every rank meets the same bad input; rank 0 says it once.
  if (!status.ok() && ((*mpi)->rank() == 0 || status.code() == epsim::Status::Code::kInternal))
    std::cerr << "epsim-hw: " << status.ToString() << "\n";
  return status.ExitCode();
}
