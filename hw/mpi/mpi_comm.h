// MPI as both backends use it: launch (mpirun, one process per rank), the
// control-plane collectives with deadlines, and the host backend's
// all-to-all-v. Every MPI call is checked; failures name host and rank.
//
// Deadlines: MPI has no timeouts, so every wait here is non-blocking
// (MPI_Isend/Irecv/Test) polled until done or until the deadline passes;
// then the call returns PeerFailure naming the ranks whose messages are
// missing, and the caller aborts the job (MpiComm::Abort) so no rank hangs.
#ifndef EPSIM_HW_MPI_MPI_COMM_H_
#define EPSIM_HW_MPI_MPI_COMM_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sim/base/status.h"

namespace epsim::hw {

class MpiComm {
 public:
  // MPI_Init (once per process). Errors when MPI cannot start.
  static Result<std::unique_ptr<MpiComm>> Init(int* argc, char*** argv);
  ~MpiComm();  // MPI_Finalize

  uint32_t rank() const { return rank_; }
  // Whether MPI may be called from a second thread, one thread at a time
  // (MPI_THREAD_SERIALIZED or better was provided): the host backend's
  // communication thread needs it.
  bool serialized_threads() const { return serialized_threads_; }
  uint32_t size() const { return size_; }
  const std::string& host() const { return host_; }
  // "host NAME rank R"
  std::string Where() const;
  // "Open MPI v4.1.4, ..." (MPI_Get_library_version, first line).
  std::string LibraryVersion() const;
  // Machine index of every rank (dense, by processor name, first
  // appearance in rank order) and the names.
  Result<std::vector<uint32_t>> HostOfRank(std::vector<std::string>* names, double deadline_s);

  Status Barrier(double deadline_s);
  Result<std::vector<double>> AllReduceSum(std::vector<double> values, double deadline_s);
  Result<std::vector<std::vector<double>>> GatherToRoot(const std::vector<double>& values,
                                                        double deadline_s);
  // Rank 0's bytes to every rank (ncclUniqueId, plan files).
  Status Broadcast(std::span<uint8_t> bytes, double deadline_s);
  // Paired non-blocking sends and receives of byte segments, one per peer
  // (the self segment is a memcpy). Returns the bytes that crossed ranks.
  Status AllToAllV(const uint8_t* send, std::span<const uint64_t> send_bytes,
                   std::span<const uint64_t> send_offset, uint8_t* recv,
                   std::span<const uint64_t> recv_bytes, std::span<const uint64_t> recv_offset,
                   double deadline_s, const char* what);

  // Sum of `count` BF16 values (uint16 bit patterns) over ranks, in place
  // on every rank: MPI_Iallreduce with a user BF16 sum (each addition in
  // FP32, rounded to nearest even), polled to the deadline. Open MPI picks
  // the algorithm (for large messages a ring or reduce-scatter +
  // all-gather, as NCCL's ring moves 2 (n - 1) / n of the bytes per rank).
  Status AllReduceBf16(uint16_t* data, size_t count, double deadline_s);

  // MPI_Abort(MPI_COMM_WORLD, code) after printing `message` to stderr.
  [[noreturn]] void Abort(const std::string& message, int code);

 private:
  MpiComm() = default;
  uint32_t rank_ = 0, size_ = 1;
  std::string host_;
  bool serialized_threads_ = false;
};

}  // namespace epsim::hw

#endif  // EPSIM_HW_MPI_MPI_COMM_H_
