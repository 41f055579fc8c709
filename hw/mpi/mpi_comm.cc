#include "hw/mpi/mpi_comm.h"

#include <mpi.h>
#include <sched.h>

#include <cstdio>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "hw/common/backend.h"
#include "hw/common/data.h"
#include "sim/exec/pairwise.h"

namespace epsim::hw {
namespace {

// Tags of the control plane and the data plane; a data tag per call kind
// keeps a late message of one phase from matching the next.
constexpr int kBarrierTag = 101;
constexpr int kReduceTag = 102;
constexpr int kGatherTag = 103;
constexpr int kBcastTag = 104;
constexpr int kAllToAllTag = 105;
constexpr int kHostTag = 106;

std::string MpiError(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  return std::string(text, len);
}

// Polls `reqs` until all are complete or the deadline passes. On timeout
// returns the indices still pending (requests are left to MPI_Abort).
Status WaitAll(std::vector<MPI_Request>* reqs, double deadline_s, std::vector<size_t>* pending) {
  int spins = 0;
  for (;;) {
    int done = 0;
    const int rc = MPI_Testall(static_cast<int>(reqs->size()), reqs->data(), &done,
                               MPI_STATUSES_IGNORE);
    if (rc != MPI_SUCCESS) return Status::PeerFailure("MPI_Testall: " + MpiError(rc));
    if (done) return Status::Ok();
    if (Backend::NowS() > deadline_s) break;
    // Oversubscribed runs (more ranks than cores) need the core back.
    if (++spins % 64 == 0) sched_yield();
  }
  pending->clear();
  for (size_t i = 0; i < reqs->size(); ++i) {
    int flag = 0;
    if ((*reqs)[i] == MPI_REQUEST_NULL) continue;
    MPI_Test(&(*reqs)[i], &flag, MPI_STATUS_IGNORE);
    if (!flag) pending->push_back(i);
  }
  return Status::PeerFailure("deadline");
}

std::string RankList(const std::vector<uint32_t>& ranks) {
  std::string out;
  for (uint32_t r : ranks) out += (out.empty() ? "" : ", ") + std::to_string(r);
  return out;
}

}  // namespace

// Every MPI call that can fail is checked; the message names the call and
// this process (MPI_ERRORS_RETURN is set at Init).
#define EPSIM_MPI_CHECK(call, name)                                                   \
  do {                                                                               \
    const int _rc = (call);                                                          \
    if (_rc != MPI_SUCCESS)                                                          \
      return Status::PeerFailure(fmt::format("{}: {}: {}", Where(), name, MpiError(_rc))); \
  } while (0)

Result<std::unique_ptr<MpiComm>> MpiComm::Init(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  int provided = MPI_THREAD_SINGLE;
  if (!initialized) {
    // Serialized: the host backend's communication thread runs the
    // all-to-alls of plans with overlap while this thread computes.
    const int rc = MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided);
    if (rc != MPI_SUCCESS) return Status::Internal("MPI_Init_thread: " + MpiError(rc));
  } else {
    MPI_Query_thread(&provided);
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  std::unique_ptr<MpiComm> comm(new MpiComm());
  int rank = 0, size = 1, len = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  char name[MPI_MAX_PROCESSOR_NAME];
  MPI_Get_processor_name(name, &len);
  comm->rank_ = static_cast<uint32_t>(rank);
  comm->size_ = static_cast<uint32_t>(size);
  comm->host_.assign(name, len);
  comm->serialized_threads_ = provided >= MPI_THREAD_SERIALIZED;
  return comm;
}

MpiComm::~MpiComm() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

std::string MpiComm::Where() const { return fmt::format("host {} rank {}", host_, rank_); }

std::string MpiComm::LibraryVersion() const {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(text, &len);
  std::string v(text, len);
  const size_t cut = v.find_first_of(",\n");
  return cut == std::string::npos ? v : v.substr(0, cut);
}

Status MpiComm::Barrier(double deadline_s) {
  // Every rank sends a token to every other: a rank that does not arrive is
  // named by every rank that waited for it (MPI_Ibarrier could not say who).
  std::vector<MPI_Request> reqs;
  std::vector<uint8_t> in(size_, 0);
  uint8_t token = 1;
  std::vector<uint32_t> peers;
  for (uint32_t p = 0; p < size_; ++p) {
    if (p == rank_) continue;
    reqs.emplace_back();
    EPSIM_MPI_CHECK(MPI_Irecv(&in[p], 1, MPI_BYTE, static_cast<int>(p), kBarrierTag, MPI_COMM_WORLD, &reqs.back()), "MPI_Irecv");
    peers.push_back(p);
  }
  for (uint32_t p = 0; p < size_; ++p) {
    if (p == rank_) continue;
    reqs.emplace_back();
    EPSIM_MPI_CHECK(MPI_Isend(&token, 1, MPI_BYTE, static_cast<int>(p), kBarrierTag, MPI_COMM_WORLD, &reqs.back()), "MPI_Isend");
  }
  std::vector<size_t> pending;
  Status st = WaitAll(&reqs, deadline_s, &pending);
  if (st.ok()) return st;
  std::vector<uint32_t> missing;
  for (size_t i : pending)
    if (i < peers.size()) missing.push_back(peers[i]);
  return Status::PeerFailure(fmt::format("{}: barrier: rank(s) {} did not arrive in time",
                                         Where(), RankList(missing)));
}

Result<std::vector<double>> MpiComm::AllReduceSum(std::vector<double> values, double deadline_s) {
  auto gathered = GatherToRoot(values, deadline_s);
  if (!gathered.ok()) return gathered.status();
  if (rank_ == 0) {
    for (size_t r = 1; r < gathered->size(); ++r)
      for (size_t i = 0; i < values.size(); ++i) values[i] += (*gathered)[r][i];
  }
  std::span<uint8_t> bytes(reinterpret_cast<uint8_t*>(values.data()), values.size() * 8);
  EPSIM_RETURN_IF_ERROR(Broadcast(bytes, deadline_s));
  return values;
}

Result<std::vector<std::vector<double>>> MpiComm::GatherToRoot(const std::vector<double>& values,
                                                               double deadline_s) {
  std::vector<std::vector<double>> out;
  std::vector<MPI_Request> reqs;
  const int n = static_cast<int>(values.size());
  if (rank_ != 0) {
    reqs.emplace_back();
    EPSIM_MPI_CHECK(MPI_Isend(values.data(), n, MPI_DOUBLE, 0, kGatherTag, MPI_COMM_WORLD, &reqs.back()), "MPI_Isend");
  } else {
    out.assign(size_, std::vector<double>(values.size()));
    out[0] = values;
    for (uint32_t p = 1; p < size_; ++p) {
      reqs.emplace_back();
      EPSIM_MPI_CHECK(MPI_Irecv(out[p].data(), n, MPI_DOUBLE, static_cast<int>(p), kGatherTag, MPI_COMM_WORLD,
                &reqs.back()), "MPI_Irecv");
    }
  }
  std::vector<size_t> pending;
  Status st = WaitAll(&reqs, deadline_s, &pending);
  if (!st.ok()) {
    std::vector<uint32_t> missing;
    for (size_t i : pending) missing.push_back(rank_ == 0 ? static_cast<uint32_t>(i + 1) : 0);
    return Status::PeerFailure(fmt::format("{}: gather: no data from rank(s) {} in time", Where(),
                                           RankList(missing)));
  }
  return out;
}

Status MpiComm::Broadcast(std::span<uint8_t> bytes, double deadline_s) {
  std::vector<MPI_Request> reqs;
  const int n = static_cast<int>(bytes.size());
  if (rank_ == 0) {
    for (uint32_t p = 1; p < size_; ++p) {
      reqs.emplace_back();
      EPSIM_MPI_CHECK(MPI_Isend(bytes.data(), n, MPI_BYTE, static_cast<int>(p), kBcastTag, MPI_COMM_WORLD,
                &reqs.back()), "MPI_Isend");
    }
  } else {
    reqs.emplace_back();
    EPSIM_MPI_CHECK(MPI_Irecv(bytes.data(), n, MPI_BYTE, 0, kBcastTag, MPI_COMM_WORLD, &reqs.back()), "MPI_Irecv");
  }
  std::vector<size_t> pending;
  Status st = WaitAll(&reqs, deadline_s, &pending);
  if (!st.ok())
    return Status::PeerFailure(fmt::format(
        "{}: broadcast: {} in time", Where(),
        rank_ == 0 ? fmt::format("{} rank(s) did not take rank 0's data", pending.size())
                   : std::string("rank 0 sent nothing")));
  return Status::Ok();
}

Result<std::vector<uint32_t>> MpiComm::HostOfRank(std::vector<std::string>* names,
                                                  double deadline_s) {
  // Fixed-size names through the gather (MPI_MAX_PROCESSOR_NAME bytes).
  std::vector<double> mine((MPI_MAX_PROCESSOR_NAME + 7) / 8, 0.0);
  std::memcpy(mine.data(), host_.data(), std::min<size_t>(host_.size(), mine.size() * 8 - 1));
  EPSIM_ASSIGN_OR_RETURN(auto all, GatherToRoot(mine, deadline_s));
  std::vector<double> flat(size_t{size_} * mine.size(), 0.0);
  if (rank_ == 0)
    for (uint32_t r = 0; r < size_; ++r)
      std::copy(all[r].begin(), all[r].end(), flat.begin() + r * mine.size());
  std::span<uint8_t> bytes(reinterpret_cast<uint8_t*>(flat.data()), flat.size() * 8);
  EPSIM_RETURN_IF_ERROR(Broadcast(bytes, deadline_s));
  std::vector<uint32_t> out(size_);
  std::map<std::string, uint32_t> dense;
  names->clear();
  for (uint32_t r = 0; r < size_; ++r) {
    const char* p = reinterpret_cast<const char*>(flat.data() + r * mine.size());
    std::string name(p, strnlen(p, mine.size() * 8));
    auto [it, fresh] = dense.emplace(name, static_cast<uint32_t>(dense.size()));
    if (fresh) names->push_back(name);
    out[r] = it->second;
  }
  (void)kHostTag;
  return out;
}

Status MpiComm::AllToAllV(const uint8_t* send, std::span<const uint64_t> send_bytes,
                          std::span<const uint64_t> send_offset, uint8_t* recv,
                          std::span<const uint64_t> recv_bytes,
                          std::span<const uint64_t> recv_offset, double deadline_s,
                          const char* what) {
  std::vector<MPI_Request> reqs;
  std::vector<uint32_t> recv_peer;
  // Receives first, then sends in pairwise order (r + k) mod n, as NCCL's
  // all_to_all does, so no rank is everyone's first destination.
  for (uint32_t k = 1; k < size_; ++k) {
    const uint32_t p = exec::PairwiseRecvPeer(rank_, k, size_);
    if (recv_bytes[p] == 0) continue;
    if (recv_bytes[p] > static_cast<uint64_t>(INT32_MAX))
      return Status::BadInput(fmt::format("{}: {}: {} bytes from rank {} exceed MPI's int count",
                                          Where(), what, recv_bytes[p], p));
    reqs.emplace_back();
    EPSIM_MPI_CHECK(MPI_Irecv(recv + recv_offset[p], static_cast<int>(recv_bytes[p]), MPI_BYTE,
              static_cast<int>(p), kAllToAllTag, MPI_COMM_WORLD, &reqs.back()), "MPI_Irecv");
    recv_peer.push_back(p);
  }
  const size_t num_recvs = reqs.size();
  std::vector<uint32_t> send_peer;
  for (uint32_t k = 1; k < size_; ++k) {
    const uint32_t p = exec::PairwiseSendPeer(rank_, k, size_);
    if (send_bytes[p] == 0) continue;
    if (send_bytes[p] > static_cast<uint64_t>(INT32_MAX))
      return Status::BadInput(fmt::format("{}: {}: {} bytes to rank {} exceed MPI's int count",
                                          Where(), what, send_bytes[p], p));
    reqs.emplace_back();
    EPSIM_MPI_CHECK(MPI_Isend(send + send_offset[p], static_cast<int>(send_bytes[p]), MPI_BYTE,
              static_cast<int>(p), kAllToAllTag, MPI_COMM_WORLD, &reqs.back()), "MPI_Isend");
    send_peer.push_back(p);
  }
  if (send_bytes[rank_] > 0)
    std::memcpy(recv + recv_offset[rank_], send + send_offset[rank_], send_bytes[rank_]);
  std::vector<size_t> pending;
  Status st = WaitAll(&reqs, deadline_s, &pending);
  if (st.ok()) return st;
  std::vector<uint32_t> silent, unreceived;
  for (size_t i : pending) {
    if (i < num_recvs) silent.push_back(recv_peer[i]);
    else unreceived.push_back(send_peer[i - num_recvs]);
  }
  std::string msg = fmt::format("{}: {}: ", Where(), what);
  if (!silent.empty()) msg += fmt::format("no data from rank(s) {}", RankList(silent));
  if (!unreceived.empty())
    msg += fmt::format("{}rank(s) {} did not take their data", silent.empty() ? "" : "; ",
                       RankList(unreceived));
  return Status::PeerFailure(msg + " before the deadline");
}

namespace {

// MPI_User_function: inout[i] = bf16(f32(in[i]) + f32(inout[i])).
void SumBf16(void* in, void* inout, int* len, MPI_Datatype* /*type*/) {
  const auto* a = static_cast<const uint16_t*>(in);
  auto* b = static_cast<uint16_t*>(inout);
  for (int i = 0; i < *len; ++i) b[i] = ToBf16(FromBf16(a[i]) + FromBf16(b[i]));
}

}  // namespace

Status MpiComm::AllReduceBf16(uint16_t* data, size_t count, double deadline_s) {
  if (count == 0 || size_ < 2) return Status::Ok();
  if (count > static_cast<size_t>(INT32_MAX))
    return Status::BadInput(fmt::format("{}: gradient all-reduce of {} values exceeds MPI's int "
                                        "count", Where(), count));
  static MPI_Op sum_bf16 = MPI_OP_NULL;
  if (sum_bf16 == MPI_OP_NULL)
    EPSIM_MPI_CHECK(MPI_Op_create(&SumBf16, /*commute=*/1, &sum_bf16), "MPI_Op_create");
  std::vector<MPI_Request> reqs(1);
  EPSIM_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(count), MPI_UINT16_T,
                                 sum_bf16, MPI_COMM_WORLD, &reqs[0]),
                  "MPI_Iallreduce");
  std::vector<size_t> pending;
  if (WaitAll(&reqs, deadline_s, &pending).ok()) return Status::Ok();
  return Status::PeerFailure(fmt::format(
      "{}: gradient all-reduce of {} BF16 values: not every rank took part before the deadline",
      Where(), count));
}

void MpiComm::Abort(const std::string& message, int code) {
  std::fprintf(stderr, "epsim-hw: %s\n", message.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::abort();
}

}  // namespace epsim::hw
