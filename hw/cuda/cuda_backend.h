// The CUDA + NCCL backend of the hardware harness (hw/common/backend.h):
// one process per GPU, launched by mpirun like nccl-tests. Thin: kernels
// and cuBLAS GEMMs (CudaCompute, cuda_compute.h, which documents the
// precisions and the extra scratch), NCCL send/recv for the all-to-all-v
// (NcclComm, nccl_comm.h, which documents the watchdog), MPI for bootstrap
// and the control-plane collectives (Barrier, AllReduceSum, GatherToRoot:
// the stream is synchronised, then MpiComm's call with its deadline).
//
// compute_dtype() is BF16 with compute_rounding() 2^-8: BF16 inputs, FP32
// accumulation.
//
// Device choice: device = local rank % visible devices, the local rank
// from OMPI_COMM_WORLD_LOCAL_RANK (Open MPI's mpirun), else the MPI rank.
// Restrict what a rank sees with CUDA_VISIBLE_DEVICES as usual.
//
// Not supported yet (MakeCudaBackend returns Usage):
//   * gpus_per_process != 1 (nccl-tests' -g): one process drives one GPU;
//   * several ranks on one GPU: NCCL refuses two ranks of one communicator
//     on the same device, so a one-GPU machine runs one rank (--ep 1). A
//     mode running every rank's kernels on the one device in turn would
//     need the executor to drive several ranks; there is no such mode.
#ifndef EPSIM_HW_CUDA_CUDA_BACKEND_H_
#define EPSIM_HW_CUDA_CUDA_BACKEND_H_

#include <cstdint>
#include <memory>
#include <string>

#include "hw/common/backend.h"
#include "hw/mpi/mpi_comm.h"
#include "sim/base/status.h"

namespace epsim::hw {

struct CudaOptions {
  int gpus_per_process = 1;  // nccl-tests -g; only 1 for now
  double timeout_s = 60;     // NCCL communicator set-up deadline
};

// The number of visible CUDA devices, or NotFound("<where>: no CUDA device
// visible (cudaGetDeviceCount: ...)") when there is none or no driver.
// `where` names the caller ("host NAME rank R").
Result<int> CheckCudaDevice(const std::string& where);

// The device rank `rank` uses: local rank (OMPI_COMM_WORLD_LOCAL_RANK when
// set and valid, else `rank`) modulo `device_count` (> 0).
int DeviceOfRank(uint32_t rank, int device_count);

// Options are checked first (Usage), then the device (NotFound), then the
// device is set up and the NCCL communicator created: a collective over all
// ranks of `mpi`, which must outlive the backend. `mpi` must not be null
// once the options pass.
Result<std::unique_ptr<Backend>> MakeCudaBackend(MpiComm* mpi, const CudaOptions& options);

}  // namespace epsim::hw

#endif  // EPSIM_HW_CUDA_CUDA_BACKEND_H_
