// A backend for tests: N ranks as threads of one process, the host
// backend's compute kernels (HostCompute), an in-process all-to-all, and a
// clock that follows a roofline instead of the wall: each GEMM advances the
// rank's clock by flops / kFlopsPerS, each all-to-all by the bytes the rank
// sends and receives over links / kBytesPerS, everything else by nothing.
// So a runner's timings and reports are exact and checkable without MPI,
// CUDA or a quiet machine. Deadlines are ignored (threads cannot hang here).
#ifndef EPSIM_TESTS_HW_COMMON_FAKE_BACKEND_H_
#define EPSIM_TESTS_HW_COMMON_FAKE_BACKEND_H_

#include <barrier>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "hw/common/backend.h"
#include "hw/common/data.h"
#include "hw/host/host_backend.h"

namespace epsim::hw::testing {

inline constexpr double kFlopsPerS = 1e12;
inline constexpr double kBytesPerS = 1e9;

// What the threads share.
struct FakeWorld {
  explicit FakeWorld(uint32_t n) : num_ranks(n), sync(n), slots(n), values(n) {}
  uint32_t num_ranks;
  std::barrier<> sync;
  struct Slot {
    const uint8_t* send = nullptr;
    const AllToAllSpec* spec = nullptr;
    size_t row_bytes = 0;
  };
  std::vector<Slot> slots;
  std::vector<std::vector<double>> values;
};

class FakeBackend : public Backend {
 public:
  FakeBackend(FakeWorld* world, uint32_t rank) : world_(world), rank_(rank) {}

  uint32_t rank() const override { return rank_; }
  uint32_t num_ranks() const override { return world_->num_ranks; }
  std::string Where() const override { return "fake rank " + std::to_string(rank_); }
  std::vector<std::pair<std::string, std::string>> Describe() const override {
    return {{"backend", "fake (threads, roofline clock)"}};
  }
  DType compute_dtype() const override { return DType::kF32; }
  double compute_rounding() const override { return 0x1p-24; }
  Result<Buffer> Alloc(size_t bytes) override { return compute_.Alloc(bytes); }
  Status Upload(const Buffer& d, const void* s, size_t b) override { return compute_.Upload(d, s, b); }
  Status Download(void* d, const Buffer& s, size_t b) override { return compute_.Download(d, s, b); }
  Status GatherRows(const Buffer& src, DType st, const Buffer& idx, size_t n, size_t h,
                    const Buffer& dst, DType dt) override {
    return compute_.GatherRows(src, st, idx, n, h, dst, dt);
  }
  Result<Buffer> UploadReduce(const ReduceSpec& s) override { return compute_.UploadReduce(s); }
  Status WeightedReduce(const Buffer& in, DType it, const Buffer& spec, size_t n, size_t h,
                        const Buffer& out, DType ot) override {
    return compute_.WeightedReduce(in, it, spec, n, h, out, ot);
  }
  Result<Buffer> UploadIndex(std::span<const uint32_t> idx) override {
    return compute_.UploadIndex(idx);
  }
  Result<Buffer> UploadFfn(std::span<const float> g, std::span<const float> u,
                           std::span<const float> d, size_t h, size_t w) override {
    ffn_width_[g.data()] = w;
    auto b = compute_.UploadFfn(g, u, d, h, w);
    if (b.ok()) shapes_[b->ptr] = {h, w};
    return b;
  }
  Status SwigluFfn(const Buffer& ffn, const Buffer& x, size_t n, const Buffer& scratch,
                   const Buffer& y) override {
    const auto [h, w] = shapes_.at(ffn.ptr);
    clock_s_ += 6.0 * n * h * w / kFlopsPerS;
    return compute_.SwigluFfn(ffn, x, n, scratch, y);
  }
  Status SwigluFfnBackward(const Buffer& ffn, const Buffer& x, const Buffer& dy,
                           const Buffer& saved, size_t n, const Buffer& scratch, const Buffer& dx,
                           const Buffer& grad) override {
    const auto [h, w] = shapes_.at(ffn.ptr);
    clock_s_ += 12.0 * n * h * w / kFlopsPerS;
    return compute_.SwigluFfnBackward(ffn, x, dy, saved, n, scratch, dx, grad);
  }
  Status Gemm(size_t m, size_t n, size_t k, const Buffer& a, const Buffer& b,
              const Buffer& c) override {
    clock_s_ += 2.0 * m * n * k / kFlopsPerS;
    return Status::Ok();  // the stand-in's result is unused; skip the work
  }
  Status AllToAllV(const Buffer& send, const Buffer& recv, const AllToAllSpec& spec,
                   size_t row_bytes, double) override {
    world_->slots[rank_] = {static_cast<const uint8_t*>(send.ptr), &spec, row_bytes};
    world_->sync.arrive_and_wait();
    uint64_t wire = 0;
    for (uint32_t p = 0; p < world_->num_ranks; ++p) {
      const FakeWorld::Slot& s = world_->slots[p];
      const uint64_t rows = s.spec->send_rows[rank_];
      if (rows != spec.recv_rows[p])
        return Status::Internal(Where() + ": peer sends a different row count");
      std::memcpy(static_cast<uint8_t*>(recv.ptr) + spec.recv_offset[p] * row_bytes,
                  s.send + s.spec->send_offset[rank_] * s.row_bytes, rows * row_bytes);
      if (p != rank_) wire += (rows + spec.send_rows[p]) * row_bytes;
    }
    world_->sync.arrive_and_wait();
    clock_s_ += static_cast<double>(wire) / kBytesPerS;
    return Status::Ok();
  }
  // In-process BF16 sum over ranks, rank order; the clock advances by a
  // ring's 2 (n - 1) / n of the bytes sent and as many received.
  Status AllReduceBf16(const Buffer& data, size_t count, double) override {
    auto* mine = static_cast<uint16_t*>(data.ptr);
    world_->slots[rank_] = {static_cast<const uint8_t*>(data.ptr), nullptr, 0};
    world_->sync.arrive_and_wait();
    std::vector<uint16_t> sum(count, 0);
    for (uint32_t p = 0; p < world_->num_ranks; ++p) {
      const auto* theirs = reinterpret_cast<const uint16_t*>(world_->slots[p].send);
      for (size_t i = 0; i < count; ++i) sum[i] = ToBf16(FromBf16(sum[i]) + FromBf16(theirs[i]));
    }
    world_->sync.arrive_and_wait();
    std::memcpy(mine, sum.data(), count * 2);
    const double n = world_->num_ranks;
    clock_s_ += 2.0 * 2.0 * (n - 1) / n * static_cast<double>(count * 2) / kBytesPerS;
    return Status::Ok();
  }
  Status Barrier(double) override {
    world_->sync.arrive_and_wait();
    return Status::Ok();
  }
  Result<std::vector<double>> AllReduceSum(std::vector<double> v, double) override {
    world_->values[rank_] = v;
    world_->sync.arrive_and_wait();
    std::vector<double> sum(v.size(), 0.0);
    for (const auto& w : world_->values)
      for (size_t i = 0; i < v.size(); ++i) sum[i] += w[i];
    world_->sync.arrive_and_wait();
    return sum;
  }
  Result<std::vector<std::vector<double>>> GatherToRoot(const std::vector<double>& v,
                                                        double) override {
    world_->values[rank_] = v;
    world_->sync.arrive_and_wait();
    std::vector<std::vector<double>> all;
    if (rank_ == 0) all = world_->values;
    world_->sync.arrive_and_wait();
    return all;
  }
  Status MarkPassStart(size_t n) override {
    marks_.assign(n, 0.0);
    clock_s_ = 0;
    return Status::Ok();
  }
  Status Mark(size_t i) override {
    marks_.at(i) = clock_s_;
    return Status::Ok();
  }
  Result<Marks> ReadMarks() override { return marks_; }

 private:
  FakeWorld* world_;
  uint32_t rank_;
  HostCompute compute_;
  std::map<const void*, size_t> ffn_width_;
  std::map<const void*, std::pair<size_t, size_t>> shapes_;
  Marks marks_;
  double clock_s_ = 0;
};

// Runs body(backend) on num_ranks threads; returns each rank's Status.
inline std::vector<Status> RunRanks(uint32_t num_ranks,
                                    const std::function<Status(Backend*)>& body) {
  FakeWorld world(num_ranks);
  std::vector<Status> status(num_ranks);
  std::vector<std::thread> threads;
  for (uint32_t r = 0; r < num_ranks; ++r)
    threads.emplace_back([&, r] {
      FakeBackend backend(&world, r);
      status[r] = body(&backend);
    });
  for (std::thread& t : threads) t.join();
  return status;
}

}  // namespace epsim::hw::testing

#endif  // EPSIM_TESTS_HW_COMMON_FAKE_BACKEND_H_
