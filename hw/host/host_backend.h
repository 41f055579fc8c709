// The CPU + MPI backend: every rank is one MPI process (mpirun -np N), its
// "device" the host's memory and the cores OpenBLAS uses for it (one thread
// per rank unless --threads says otherwise). Expert GEMMs are FP32 cblas
// SGEMMs; rows travel as the plan's wire dtype (BF16) through MPI
// point-to-point, which Open MPI moves through shared memory inside a host.
// Marks are host clock readings (ops run synchronously).
#ifndef EPSIM_HW_HOST_HOST_BACKEND_H_
#define EPSIM_HW_HOST_HOST_BACKEND_H_

#include <memory>

#include "hw/common/backend.h"
#include "hw/mpi/mpi_comm.h"

namespace epsim::hw {

struct HostOptions {
  int blas_threads = 1;  // OpenBLAS threads of each rank
};

// `mpi` must outlive the backend.
std::unique_ptr<Backend> MakeHostBackend(MpiComm* mpi, const HostOptions& options);

// The compute kernels of the host backend without any communication, for
// backends that run several ranks in one process (tests).
class HostCompute {
 public:
  explicit HostCompute(int blas_threads = 1);
  ~HostCompute();
  Result<Buffer> Alloc(size_t bytes);
  Status Upload(const Buffer& dst, const void* src, size_t bytes);
  Status Download(void* dst, const Buffer& src, size_t bytes);
  Status GatherRows(const Buffer& src, DType src_t, const Buffer& idx, size_t n, size_t hidden,
                    const Buffer& dst, DType dst_t);
  Result<Buffer> UploadReduce(const ReduceSpec& spec);
  Status WeightedReduce(const Buffer& in, DType in_t, const Buffer& spec, size_t n_out,
                        size_t hidden, const Buffer& out, DType out_t);
  Result<Buffer> UploadIndex(std::span<const uint32_t> idx);
  Result<Buffer> UploadFfn(std::span<const float> w_gate, std::span<const float> w_up,
                           std::span<const float> w_down, size_t hidden, size_t width);
  Status SwigluFfn(const Buffer& ffn, const Buffer& x, size_t n, const Buffer& scratch,
                   const Buffer& y);
  Status SwigluFfnBackward(const Buffer& ffn, const Buffer& x, const Buffer& dy,
                           const Buffer& saved, size_t n, const Buffer& scratch, const Buffer& dx,
                           const Buffer& grad);
  Status Gemm(size_t m, size_t n, size_t k, const Buffer& a, const Buffer& b, const Buffer& c);
  static std::string BlasVersion();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace epsim::hw

#endif  // EPSIM_HW_HOST_HOST_BACKEND_H_
