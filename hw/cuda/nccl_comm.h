// One NCCL communicator over all ranks of the MPI job, used for the
// backend's all-to-all-v (grouped ncclSend/ncclRecv, as nccl-tests'
// alltoall does). Bootstrap: rank 0 makes the ncclUniqueId and MpiComm
// broadcasts it.
//
// Deadlines: the communicator is non-blocking (config.blocking = 0), so
// neither ncclCommInitRankConfig nor ncclGroupEnd can hang this thread;
// completion is polled (ncclCommGetAsyncError, then cudaStreamQuery on the
// stream) until done or until the deadline on Backend::NowS()'s clock.
// Then the communicator is aborted (ncclCommAbort) and the call returns
// PeerFailure naming the phase's peers; NCCL does not tell which of them
// is missing. After an abort every later call fails; the job is meant to
// end (MpiComm::Abort).
#ifndef EPSIM_HW_CUDA_NCCL_COMM_H_
#define EPSIM_HW_CUDA_NCCL_COMM_H_

#include <cuda_runtime.h>
#include <nccl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hw/common/backend.h"
#include "hw/mpi/mpi_comm.h"
#include "sim/base/status.h"

namespace epsim::hw {

// "1,2,5" (at most 16, then "... (N ranks)"); for messages.
std::string FormatRanks(const std::vector<uint32_t>& ranks);

class NcclComm {
 public:
  // Collective over MPI_COMM_WORLD; the rank's CUDA device must be current.
  static Result<std::unique_ptr<NcclComm>> Create(MpiComm* mpi, std::string where,
                                                  double deadline_s);
  // ncclCommFinalize, waiting a few seconds for the peers, then
  // ncclCommDestroy (ncclCommAbort if they do not come).
  ~NcclComm();
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;

  // Backend::AllToAllV on `stream`: the self segment is a device-to-device
  // copy, every other peer with rows gets one ncclSend / ncclRecv of
  // rows * row_bytes bytes (ncclUint8) in one group. Returns when all of it
  // has finished on the device.
  // The same, issued only: returns once the transfers are queued on
  // `stream`; WaitEvent on an event recorded after them waits for them.
  Status StartAllToAllV(const Buffer& send, const Buffer& recv, const AllToAllSpec& spec,
                        size_t row_bytes, cudaStream_t stream);
  // Waits (host) until `event` has completed, by the deadline, watching the
  // communicator for errors as AllToAllV does.
  Status WaitEvent(cudaEvent_t event, double deadline_s);
  Status AllToAllV(const Buffer& send, const Buffer& recv, const AllToAllSpec& spec,
                   size_t row_bytes, cudaStream_t stream, double deadline_s);

  // ncclAllReduce (sum, ncclBfloat16, in place) of `count` values on
  // `stream`, issued only (as StartAllToAllV).
  Status StartAllReduceBf16(const Buffer& data, size_t count, cudaStream_t stream);
  // The same, returning when it has finished on the device (by the deadline).
  Status AllReduceBf16(const Buffer& data, size_t count, cudaStream_t stream, double deadline_s);

  // "2.28.9" (ncclGetVersion: the library loaded, not the header).
  static std::string Version();

 private:
  NcclComm(uint32_t rank, uint32_t num_ranks, std::string where)
      : rank_(rank), num_ranks_(num_ranks), where_(std::move(where)) {}
  Status CheckSpec(const Buffer& send, const Buffer& recv, const AllToAllSpec& spec,
                   size_t row_bytes) const;
  Status Issue(const Buffer& send, const Buffer& recv, const AllToAllSpec& spec,
               size_t row_bytes, cudaStream_t stream);
  // Polls until the communicator is idle and `query` (when given: a
  // cudaStreamQuery or cudaEventQuery, named `query_name` in errors) says
  // done; on the deadline or an asynchronous NCCL error aborts and fails
  // with a message naming `what` and the peers (`peers()`, built only then).
  Status Wait(const std::function<cudaError_t()>& query, const char* query_name,
              double deadline_s, const char* what, const std::function<std::string()>& peers);
  Status AbortWith(Status status);

  ncclComm_t comm_ = nullptr;
  uint32_t rank_, num_ranks_;
  std::string where_;
  bool aborted_ = false;
};

}  // namespace epsim::hw

#endif  // EPSIM_HW_CUDA_NCCL_COMM_H_
