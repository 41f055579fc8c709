#include "hw/cuda/nccl_comm.h"

#include <functional>
#include <span>
#include <thread>

#include "hw/cuda/cuda_check.h"

namespace epsim::hw {
namespace {

// How long the destructor waits for the peers to finalize.
constexpr double kFinalizeWait_s = 10;

std::string N(uint64_t v) { return std::to_string(v); }

std::vector<uint32_t> PeersWithRows(const std::vector<uint64_t>& rows, uint32_t self) {
  std::vector<uint32_t> peers;
  for (uint32_t p = 0; p < rows.size(); ++p) {
    if (p != self && rows[p] > 0) peers.push_back(p);
  }
  return peers;
}

// "<message>; <detail>", same code (NcclError makes only these two).
Status Append(const Status& status, const std::string& detail) {
  std::string msg = status.message() + "; " + detail;
  if (status.code() == Status::Code::kPeerFailure) return Status::PeerFailure(std::move(msg));
  return Status::Internal(std::move(msg));
}

}  // namespace

std::string FormatRanks(const std::vector<uint32_t>& ranks) {
  constexpr size_t kShown = 16;
  if (ranks.empty()) return "none";
  std::string text;
  for (size_t i = 0; i < ranks.size() && i < kShown; ++i) {
    text += (i == 0 ? "" : ",") + N(ranks[i]);
  }
  if (ranks.size() > kShown) text += ",... (" + N(ranks.size()) + " ranks)";
  return text;
}

std::string NcclComm::Version() {
  int v = 0;
  if (ncclGetVersion(&v) != ncclSuccess) return "unknown";
  return N(v / 10000) + "." + N(v / 100 % 100) + "." + N(v % 100);  // NCCL >= 2.9 coding
}

Result<std::unique_ptr<NcclComm>> NcclComm::Create(MpiComm* mpi, std::string where,
                                                   double deadline_s) {
  std::unique_ptr<NcclComm> comm(new NcclComm(mpi->rank(), mpi->size(), std::move(where)));
  ncclUniqueId id{};
  if (mpi->rank() == 0) EPSIM_NCCL_CHECK(comm->where_, ncclGetUniqueId(&id));
  EPSIM_RETURN_IF_ERROR(
      mpi->Broadcast(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&id), sizeof id), deadline_s)
          .WithContext(comm->where_ + ": broadcasting the NCCL unique id"));
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  const ncclResult_t r = ncclCommInitRankConfig(&comm->comm_, static_cast<int>(comm->num_ranks_),
                                                id, static_cast<int>(comm->rank_), &config);
  if (r != ncclSuccess && r != ncclInProgress) {
    return comm->AbortWith(NcclError(r, "ncclCommInitRankConfig(&comm, n, id, rank, &config)",
                                     __FILE__, __LINE__, comm->where_));
  }
  EPSIM_RETURN_IF_ERROR(comm->Wait({}, "", deadline_s, "NCCL communicator init", [] {
    return std::string("every rank must reach ncclCommInitRankConfig; NCCL cannot tell which "
                       "did not");
  }));
  return comm;
}

NcclComm::~NcclComm() {
  if (comm_ == nullptr) return;
  ncclResult_t state = ncclCommFinalize(comm_);
  const double until_s = Backend::NowS() + kFinalizeWait_s;
  while (state == ncclInProgress && Backend::NowS() < until_s) {
    if (ncclCommGetAsyncError(comm_, &state) != ncclSuccess) break;
    std::this_thread::yield();
  }
  if (state == ncclSuccess) {
    ncclCommDestroy(comm_);
  } else {
    ncclCommAbort(comm_);
  }
}

Status NcclComm::AbortWith(Status status) {
  if (comm_ != nullptr) ncclCommAbort(comm_);
  comm_ = nullptr;
  aborted_ = true;
  return status;
}

Status NcclComm::Wait(const std::function<cudaError_t()>& query, const char* query_name,
                      double deadline_s, const char* what,
                      const std::function<std::string()>& peers) {
  for (;;) {
    ncclResult_t state = ncclSuccess;
    const ncclResult_t r = ncclCommGetAsyncError(comm_, &state);
    if (r != ncclSuccess) {
      return AbortWith(
          NcclError(r, "ncclCommGetAsyncError(comm, &state)", __FILE__, __LINE__, where_));
    }
    if (state != ncclSuccess && state != ncclInProgress) {
      return AbortWith(Append(NcclError(state, what, __FILE__, __LINE__, where_), peers()));
    }
    if (state == ncclSuccess) {
      if (!query) return Status::Ok();
      const cudaError_t q = query();
      if (q == cudaSuccess) return Status::Ok();
      if (q != cudaErrorNotReady) return CudaError(q, query_name, __FILE__, __LINE__, where_);
    }
    if (Backend::NowS() > deadline_s) {
      return AbortWith(Status::PeerFailure(where_ + ": " + what +
                                           " did not finish by the deadline; " + peers() +
                                           "; NCCL communicator aborted"));
    }
    std::this_thread::yield();
  }
}

Status NcclComm::CheckSpec(const Buffer& send, const Buffer& recv, const AllToAllSpec& spec,
                           size_t row_bytes) const {
  const auto bad = [&](const std::string& what) {
    return Status::Internal(where_ + ": all-to-all-v: " + what);
  };
  if (spec.send_rows.size() != num_ranks_ || spec.send_offset.size() != num_ranks_ ||
      spec.recv_rows.size() != num_ranks_ || spec.recv_offset.size() != num_ranks_) {
    return bad("spec is not sized for " + N(num_ranks_) + " ranks");
  }
  if (spec.send_rows[rank_] != spec.recv_rows[rank_]) {
    return bad("self segment sends " + N(spec.send_rows[rank_]) + " rows, receives " +
               N(spec.recv_rows[rank_]));
  }
  for (uint32_t p = 0; p < num_ranks_; ++p) {
    if ((spec.send_offset[p] + spec.send_rows[p]) * row_bytes > send.bytes ||
        (spec.recv_offset[p] + spec.recv_rows[p]) * row_bytes > recv.bytes) {
      return bad("segment of peer " + N(p) + " outside the send (" + N(send.bytes) +
                 " B) or receive (" + N(recv.bytes) + " B) buffer");
    }
  }
  return Status::Ok();
}

// Inside ncclGroupStart/End; an error leaves the group to be closed.
Status NcclComm::Issue(const Buffer& send, const Buffer& recv, const AllToAllSpec& spec,
                       size_t row_bytes, cudaStream_t stream) {
  const auto* s = static_cast<const uint8_t*>(send.ptr);
  auto* r = static_cast<uint8_t*>(recv.ptr);
  for (uint32_t p = 0; p < num_ranks_; ++p) {
    if (p == rank_) continue;
    const int peer = static_cast<int>(p);
    if (spec.send_rows[p] > 0) {
      EPSIM_NCCL_CHECK_ASYNC(where_, ncclSend(s + spec.send_offset[p] * row_bytes,
                                              spec.send_rows[p] * row_bytes, ncclUint8, peer,
                                              comm_, stream));
    }
    if (spec.recv_rows[p] > 0) {
      EPSIM_NCCL_CHECK_ASYNC(where_, ncclRecv(r + spec.recv_offset[p] * row_bytes,
                                              spec.recv_rows[p] * row_bytes, ncclUint8, peer,
                                              comm_, stream));
    }
  }
  return Status::Ok();
}

Status NcclComm::AllToAllV(const Buffer& send, const Buffer& recv, const AllToAllSpec& spec,
                           size_t row_bytes, cudaStream_t stream, double deadline_s) {
  EPSIM_RETURN_IF_ERROR(StartAllToAllV(send, recv, spec, row_bytes, stream));
  return Wait([stream] { return cudaStreamQuery(stream); }, "cudaStreamQuery(stream)",
              deadline_s, "all-to-all-v", [&] {
    return "this rank sends to ranks " + FormatRanks(PeersWithRows(spec.send_rows, rank_)) +
           " and receives from ranks " + FormatRanks(PeersWithRows(spec.recv_rows, rank_)) +
           "; NCCL cannot tell which of them is missing";
  });
}

Status NcclComm::WaitEvent(cudaEvent_t event, double deadline_s) {
  return Wait([event] { return cudaEventQuery(event); }, "cudaEventQuery(event)", deadline_s,
              "all-to-all-v on the communication stream",
              [] { return std::string("NCCL cannot tell which peer is missing"); });
}

Status NcclComm::StartAllToAllV(const Buffer& send, const Buffer& recv, const AllToAllSpec& spec,
                                size_t row_bytes, cudaStream_t stream) {
  if (aborted_) {
    return Status::PeerFailure(where_ + ": all-to-all-v: the NCCL communicator was aborted "
                               "after an earlier failure");
  }
  EPSIM_RETURN_IF_ERROR(CheckSpec(send, recv, spec, row_bytes));
  const size_t self_bytes = spec.send_rows[rank_] * row_bytes;
  if (self_bytes > 0) {
    EPSIM_CUDA_CHECK(where_, cudaMemcpyAsync(
        static_cast<uint8_t*>(recv.ptr) + spec.recv_offset[rank_] * row_bytes,
        static_cast<const uint8_t*>(send.ptr) + spec.send_offset[rank_] * row_bytes, self_bytes,
        cudaMemcpyDeviceToDevice, stream));
  }
  EPSIM_NCCL_CHECK_ASYNC(where_, ncclGroupStart());
  const Status issued = Issue(send, recv, spec, row_bytes, stream);
  const ncclResult_t ended = ncclGroupEnd();
  if (!issued.ok()) return AbortWith(issued);
  if (ended != ncclSuccess && ended != ncclInProgress) {
    return AbortWith(NcclError(ended, "ncclGroupEnd()", __FILE__, __LINE__, where_));
  }
  return Status::Ok();
}

Status NcclComm::StartAllReduceBf16(const Buffer& data, size_t count, cudaStream_t stream) {
  if (aborted_) {
    return Status::PeerFailure(where_ + ": gradient all-reduce: the NCCL communicator was "
                               "aborted after an earlier failure");
  }
  if (count * 2 > data.bytes) {
    return Status::Internal(where_ + ": gradient all-reduce of " + std::to_string(count) +
                            " BF16 values on a buffer of " + std::to_string(data.bytes) + " B");
  }
  if (count == 0) return Status::Ok();
  const ncclResult_t rc =
      ncclAllReduce(data.ptr, data.ptr, count, ncclBfloat16, ncclSum, comm_, stream);
  if (rc != ncclSuccess && rc != ncclInProgress)
    return AbortWith(NcclError(rc, "ncclAllReduce", __FILE__, __LINE__, where_));
  return Status::Ok();
}

Status NcclComm::AllReduceBf16(const Buffer& data, size_t count, cudaStream_t stream,
                               double deadline_s) {
  EPSIM_RETURN_IF_ERROR(StartAllReduceBf16(data, count, stream));
  return Wait([stream] { return cudaStreamQuery(stream); }, "cudaStreamQuery(stream)",
              deadline_s, "gradient all-reduce",
              [] { return std::string("every rank takes part; NCCL cannot tell which is missing"); });
}

}  // namespace epsim::hw
