#include <fmt/format.h>

#include "hw/cli/commands.h"
#include "hw/host/host_backend.h"
#ifdef EPSIM_HAVE_CUDA
#include "hw/cuda/cuda_backend.h"
#endif

namespace epsim::hw::cli {

void AddBackendFlags(CLI::App* cmd, BackendFlags* f) {
  cmd->add_option("--backend", f->backend, "host (CPU + MPI) or cuda (CUDA + NCCL)")
      ->check(CLI::IsMember({"host", "cuda"}))
      ->capture_default_str();
  cmd->add_option("-g,--ngpus,--gpus-per-process", f->gpus_per_process,
                  "GPUs driven by each process (nccl-tests -g: GPUs per thread, one thread per "
                  "process here); cuda backend")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--threads", f->blas_threads, "OpenBLAS threads per rank (host backend)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd->add_option("--timeout", f->timeout_s,
                  "Seconds every collective may take before the job stops with an error "
                  "naming the missing rank")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
}

Status AgreeWithRoot(MpiComm* mpi, const Status& root_check, double timeout_s) {
  const double code = mpi->rank() == 0 ? root_check.ExitCode() : 0;
  EPSIM_ASSIGN_OR_RETURN(std::vector<double> sum,
                         mpi->AllReduceSum({code}, Backend::NowS() + timeout_s));
  if (mpi->rank() == 0 || sum[0] == 0) return mpi->rank() == 0 ? root_check : Status::Ok();
  const std::string what = "rank 0 stopped the job: its outputs cannot be written";
  return sum[0] == 1 ? Status::Usage(what) : Status::IoError(what);
}

Result<std::unique_ptr<Backend>> MakeBackend(const BackendFlags& f, MpiComm* mpi) {
  if (f.backend == "host") {
    if (f.gpus_per_process != 1)
      return Status::Usage("-g is a cuda backend flag; the host backend runs one rank per process");
    return MakeHostBackend(mpi, {f.blas_threads});
  }
#ifdef EPSIM_HAVE_CUDA
  CudaOptions options;
  options.gpus_per_process = f.gpus_per_process;
  options.timeout_s = f.timeout_s;
  return MakeCudaBackend(mpi, options);
#else
  return Status::BadInput("this epsim-hw was built without CUDA (no nvcc/NCCL found at build "
                          "time); use --backend host");
#endif
}

}  // namespace epsim::hw::cli
