// The executor of a plan on one rank, shared by every backend: lays out the
// plan (layout.h), allocates and fills the backend's buffers with seeded
// data (data.h), walks the schedule's phases in order issuing the backend's
// kernels and all-to-alls, times every phase (warm-up and timed passes, each
// started by a barrier), and optionally verifies the outputs (verify.h).
//
// Streams: a plan without overlap (every phase waits for the one before it)
// runs everything in order on one stream. A plan with overlap (e.g.
// --overlap shared-expert) issues each all-to-all on the backend's
// communication stream and goes on; a phase first waits for the
// all-to-alls it depends on, and every pass waits for all of them before
// it ends. The host backend's communication stream is a thread, the CUDA
// backend's a second CUDA stream ordered by events.
//
// What runs for real: the MoE phases (permute, dispatch, forward, expert
// SwiGLU FFNs, stage-1 and relay reduces, combine, un-permute reduce) on
// real data, and in a train pass their backward (every step transposed,
// every all-to-all reversed, the SwiGLU backward of each expert on its
// kept inputs and activations) and the gradient all-reduce. What runs as a stand-in of the same cost: attention (one GEMM
// of the schedule's FLOPs), the router GEMM (its real shape, output
// unused: routing is the plan's), shared-expert and dense FFNs (the real
// SwiGLU shape on seeded weights, output unused).
//
// Wire bytes: every all-to-all's per-peer byte counts, as passed to the
// backend, are checked against the schedule's send matrix before the call;
// a difference is an error naming phase, ranks and both figures.
#ifndef EPSIM_HW_COMMON_RUNNER_H_
#define EPSIM_HW_COMMON_RUNNER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hw/common/backend.h"
#include "hw/common/layout.h"
#include "sim/base/status.h"
#include "sim/exec/timings.h"
#include "sim/proto/plan.pb.h"

namespace epsim::hw {

struct RunOptions {
  uint32_t warmup = 5;      // -w
  uint32_t iterations = 20; // -n
  bool check = false;       // --check
  double timeout_s = 60;    // --timeout: every collective must finish within it
  uint64_t seed = 1;        // data seed
  // Testing hook (--inject-hang R): rank R stops itself (SIGSTOP) when it
  // reaches its first dispatch of the first timed pass.
  int inject_hang_rank = -1;
  // Testing hook (--inject-wrong R): rank R adds 1 to its first output
  // element before the check, which must then report it.
  int inject_wrong_rank = -1;
};

// What one rank measured, and on rank 0 the whole job's view.
struct RunResult {
  // Rank 0 only: every rank's op times (medians over timed passes, ranges).
  exec::OpTimes times{0, 0};
  std::vector<double> pass_s;  // rank 0: pass time of each timed pass (max over ranks)
  uint64_t wrong = 0;          // with check: elements outside tolerance, all ranks
  uint64_t checked = 0;        // elements compared, all ranks
  double max_error = 0;        // largest |out - ref| / tolerance seen
  std::string first_wrong;     // where the first wrong element was (rank 0's view)
};

class Runner {
 public:
  Runner(const proto::Plan& plan, Backend* backend, RunOptions options);
  ~Runner();

  // Layout, buffers, seeded inputs and weights. BadInput when the plan does
  // not fit the launch (num_ranks != backend ranks) or the wire dtype is not
  // supported.
  Status Setup();
  // Warm-up and timed passes, then the check pass when asked.
  Result<RunResult> Run();

 private:
  struct Buffers;
  Status Alloc(Buffer* out, size_t bytes);
  Status AllocateBuffers();
  Status UploadInputsAndWeights();
  Status UploadLayouts();
  Status CheckExperts(const proto::Phase& phase, const LayerLayout& layout) const;
  Status RunExperts(const LayerLayout& layout, size_t li);
  Status RunExpertsBackward(const LayerLayout& layout, size_t li);
  Status AllocateTrainBuffers(size_t grad_values, size_t standin_saved);
  Status AssignRoles();
  Status RunGradientExchange(const proto::Phase& phase, uint32_t index, const LayerLayout& layout,
                             size_t li);
  Status RunGradientAllReduce(const proto::Phase& phase, uint32_t index);
  static Buffer RowsFrom(const Buffer& buffer, size_t row, size_t row_bytes);
  std::vector<double> Summary() const;
  Status GatherTimes(RunResult* result);
  Status CheckPass(RunResult* result);
  Status RunPass(bool timed, bool check, RunResult* result);
  // Two streams: waits for the all-to-all of `phase` if it is in flight.
  Status WaitComm(uint32_t phase);
  Status RunPhase(const proto::Phase& phase, uint32_t index, bool check, RunResult* result);
  Status RunCompute(const proto::Phase& phase);
  Status RunMoeCompute(const proto::Phase& phase, const LayerLayout& layout, size_t li);
  Status RunAllToAll(const proto::Phase& phase, uint32_t index, const LayerLayout& layout,
                     size_t li);
  Status Exchange(const proto::Phase& phase, uint32_t index, const AllToAllSpec& spec,
                  const Buffer& send, const Buffer& recv, size_t recv_offset_rows,
                  DType wire);
  Status CheckWireBytes(const proto::Phase& phase, uint32_t index, const AllToAllSpec& spec,
                        size_t row_bytes) const;
  Status Reduce(size_t li, int which, const Buffer& in, DType in_t, const Buffer& out,
                DType out_t);
  Status VerifyLayer(size_t layout, bool backward, RunResult* result);
  double Deadline() const;
  std::string PhaseLabel(const proto::Phase& phase, uint32_t index) const;

  const proto::Plan& plan_;
  Backend* backend_;
  RunOptions options_;
  uint32_t rank_ = 0, d_ = 0, hidden_ = 0;
  DType wire_dispatch_ = DType::kBF16, wire_combine_ = DType::kBF16;
  std::vector<LayerLayout> layouts_;
  // (step, layer, micro-batch) of a plan's routes -> index into layouts_
  // (= into plan.layers); LayoutOf gives -1 for phases of dense blocks.
  std::map<std::array<uint32_t, 3>, int> layout_of_;
  int LayoutOf(const proto::Phase& phase) const;
  std::unique_ptr<Buffers> buf_;
  bool hang_armed_ = false;
  // Train passes: the forward, then the backward phases; role_[phase] says
  // which forward exchange a backward all-to-all mirrors.
  bool train_ = false;
  enum class Role { kNone, kCombineMirror, kGatherMirror, kForwardMirror, kDispatchMirror };
  std::vector<Role> role_;
  // Plans with overlap run all-to-alls on the backend's communication
  // stream (Backend::AllToAllVAsync); pending_[phase] is the handle of one
  // in flight, -1 none.
  bool two_streams_ = false;
  std::vector<int> pending_;
};

}  // namespace epsim::hw

#endif  // EPSIM_HW_COMMON_RUNNER_H_
