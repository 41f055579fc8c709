#include <cblas.h>

#include <cmath>
#include <cstring>
#include <deque>
#include <vector>

#include <fmt/format.h>

#include "hw/common/data.h"
#include "hw/host/host_backend.h"

extern "C" void openblas_set_num_threads(int);
extern "C" char* openblas_get_config(void);

namespace epsim::hw {
namespace {

struct Ffn {
  size_t hidden = 0, width = 0;
  std::vector<float> gate_up;  // hidden x (2 width): gate columns then up columns
  std::vector<float> down;     // width x hidden
};

struct Spec {
  ReduceSpec spec;
};

// `n` elements from `src` (row `src_row`) to `dst` (row `dst_row`), rows of
// `n` elements, converted; the dtype branch stays out of the element loop.
void ConvertRow(const void* src, DType src_t, size_t src_row, void* dst, DType dst_t,
                size_t dst_row, size_t n) {
  if (src_t == dst_t) {
    const size_t b = n * DTypeBytes(src_t);
    std::memcpy(static_cast<uint8_t*>(dst) + dst_row * b,
                static_cast<const uint8_t*>(src) + src_row * b, b);
  } else if (src_t == DType::kF32) {
    const float* in = static_cast<const float*>(src) + src_row * n;
    uint16_t* out = static_cast<uint16_t*>(dst) + dst_row * n;
    for (size_t h = 0; h < n; ++h) out[h] = ToBf16(in[h]);
  } else {
    const uint16_t* in = static_cast<const uint16_t*>(src) + src_row * n;
    float* out = static_cast<float*>(dst) + dst_row * n;
    for (size_t h = 0; h < n; ++h) out[h] = FromBf16(in[h]);
  }
}

}  // namespace

struct HostCompute::Impl {
  // Owned allocations; Buffers point into them.
  std::deque<std::vector<uint8_t>> memory;
  std::deque<Ffn> ffns;
  std::deque<Spec> specs;
};

HostCompute::HostCompute(int blas_threads) : impl_(std::make_unique<Impl>()) {
  openblas_set_num_threads(blas_threads);
}
HostCompute::~HostCompute() = default;

std::string HostCompute::BlasVersion() { return openblas_get_config(); }

Result<Buffer> HostCompute::Alloc(size_t bytes) {
  impl_->memory.emplace_back(bytes, 0);
  return Buffer{impl_->memory.back().data(), bytes};
}

Status HostCompute::Upload(const Buffer& dst, const void* src, size_t bytes) {
  if (bytes > dst.bytes) return Status::Internal("upload larger than its buffer");
  std::memcpy(dst.ptr, src, bytes);
  return Status::Ok();
}

Status HostCompute::Download(void* dst, const Buffer& src, size_t bytes) {
  if (bytes > src.bytes) return Status::Internal("download larger than its buffer");
  std::memcpy(dst, src.ptr, bytes);
  return Status::Ok();
}

Result<Buffer> HostCompute::UploadIndex(std::span<const uint32_t> idx) {
  EPSIM_ASSIGN_OR_RETURN(Buffer b, Alloc(std::max<size_t>(idx.size_bytes(), 4)));
  if (!idx.empty()) std::memcpy(b.ptr, idx.data(), idx.size_bytes());
  return b;
}

Status HostCompute::GatherRows(const Buffer& src, DType src_t, const Buffer& idx, size_t n,
                               size_t hidden, const Buffer& dst, DType dst_t) {
  const uint32_t* rows = static_cast<const uint32_t*>(idx.ptr);
  if (n * hidden * DTypeBytes(dst_t) > dst.bytes) return Status::Internal("gather overflows dst");
  for (size_t i = 0; i < n; ++i) ConvertRow(src.ptr, src_t, rows[i], dst.ptr, dst_t, i, hidden);
  return Status::Ok();
}

Result<Buffer> HostCompute::UploadReduce(const ReduceSpec& spec) {
  impl_->specs.push_back({spec});
  return Buffer{&impl_->specs.back(), sizeof(Spec)};
}

Status HostCompute::WeightedReduce(const Buffer& in, DType in_t, const Buffer& spec_buf,
                                   size_t n_out, size_t hidden, const Buffer& out, DType out_t) {
  const ReduceSpec& s = static_cast<const Spec*>(spec_buf.ptr)->spec;
  std::vector<float> acc(hidden);
  for (size_t o = 0; o < n_out; ++o) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (uint32_t j = s.offsets[o]; j < s.offsets[o + 1]; ++j) {
      const size_t base = size_t{s.idx[j]} * hidden;
      const float c = s.coef[j];
      if (in_t == DType::kF32) {
        const float* row = static_cast<const float*>(in.ptr) + base;
        for (size_t h = 0; h < hidden; ++h) acc[h] += c * row[h];
      } else {
        const uint16_t* row = static_cast<const uint16_t*>(in.ptr) + base;
        for (size_t h = 0; h < hidden; ++h) acc[h] += c * FromBf16(row[h]);
      }
    }
    ConvertRow(acc.data(), DType::kF32, 0, out.ptr, out_t, s.out_rows[o], hidden);
  }
  return Status::Ok();
}

Result<Buffer> HostCompute::UploadFfn(std::span<const float> w_gate, std::span<const float> w_up,
                                      std::span<const float> w_down, size_t hidden,
                                      size_t width) {
  Ffn f;
  f.hidden = hidden;
  f.width = width;
  f.gate_up.resize(hidden * 2 * width);
  for (size_t h = 0; h < hidden; ++h) {
    std::memcpy(&f.gate_up[h * 2 * width], &w_gate[h * width], width * 4);
    std::memcpy(&f.gate_up[h * 2 * width + width], &w_up[h * width], width * 4);
  }
  f.down.assign(w_down.begin(), w_down.end());
  impl_->ffns.push_back(std::move(f));
  return Buffer{&impl_->ffns.back(), sizeof(Ffn)};
}

Status HostCompute::SwigluFfn(const Buffer& ffn, const Buffer& x, size_t n, const Buffer& scratch,
                              const Buffer& y) {
  if (n == 0) return Status::Ok();
  const Ffn& f = *static_cast<const Ffn*>(ffn.ptr);
  const size_t h = f.hidden, w = f.width;
  if (scratch.bytes < 3 * n * w * 4) return Status::Internal("FFN scratch too small");
  float* gu = static_cast<float*>(scratch.ptr);  // n x 2w: [a | b], kept for the backward
  float* act = gu + 2 * n * w;                   // n x w: silu(a) * b
  // One GEMM for gate and up: [n x h] x [h x 2w].
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n),
              static_cast<int>(2 * w), static_cast<int>(h), 1.0f,
              static_cast<const float*>(x.ptr), static_cast<int>(h), f.gate_up.data(),
              static_cast<int>(2 * w), 0.0f, gu, static_cast<int>(2 * w));
  for (size_t i = 0; i < n; ++i) {
    const float* row = gu + i * 2 * w;
    float* out = act + i * w;
    for (size_t j = 0; j < w; ++j) out[j] = row[j] / (1.0f + std::exp(-row[j])) * row[w + j];
  }
  // [n x w] x [w x h].
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(n),
              static_cast<int>(h), static_cast<int>(w), 1.0f, act, static_cast<int>(w),
              f.down.data(), static_cast<int>(h), 0.0f, static_cast<float*>(y.ptr),
              static_cast<int>(h));
  return Status::Ok();
}

Status HostCompute::SwigluFfnBackward(const Buffer& ffn, const Buffer& x, const Buffer& dy,
                                      const Buffer& saved, size_t n, const Buffer& scratch,
                                      const Buffer& dx, const Buffer& grad) {
  if (n == 0) return Status::Ok();
  const Ffn& f = *static_cast<const Ffn*>(ffn.ptr);
  const size_t h = f.hidden, w = f.width;
  if (scratch.bytes < 3 * n * w * 4 || saved.bytes < 2 * n * w * 4 ||
      grad.bytes < 3 * h * w * 4 || x.bytes < n * h * 4 || dy.bytes < n * h * 4 ||
      dx.bytes < n * h * 4)
    return Status::Internal("FFN backward buffers too small");
  const auto I = [](size_t v) { return static_cast<int>(v); };
  const float* gu = static_cast<const float*>(saved.ptr);  // n x 2w: [a | b]
  float* dgu = static_cast<float*>(scratch.ptr);           // n x 2w: [dh, then da | db]
  float* act = dgu + 2 * n * w;                            // n x w: silu(a) * b
  const float* xs = static_cast<const float*>(x.ptr);
  const float* dys = static_cast<const float*>(dy.ptr);
  float* g = static_cast<float*>(grad.ptr);  // dWg | dWu (h x w each), dWd (w x h)
  // dh = dy Wd^T: [n x h] x [h x w], into the da columns.
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, I(n), I(w), I(h), 1.0f, dys, I(h),
              f.down.data(), I(h), 0.0f, dgu, I(2 * w));
  for (size_t i = 0; i < n; ++i) {
    const float* ab = gu + i * 2 * w;
    float* d = dgu + i * 2 * w;
    float* out = act + i * w;
    for (size_t j = 0; j < w; ++j) {
      const float a = ab[j], b = ab[w + j], dh = d[j];
      const float sig = 1.0f / (1.0f + std::exp(-a));
      const float silu = a * sig;
      out[j] = silu * b;
      d[j] = dh * b * sig * (1.0f + a * (1.0f - sig));  // silu'(a) = s (1 + a (1 - s))
      d[w + j] = dh * silu;
    }
  }
  // dWd = act^T dy: [w x n] x [n x h].
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, I(w), I(h), I(n), 1.0f, act, I(w), dys,
              I(h), 0.0f, g + 2 * h * w, I(h));
  // dx = [da | db] [Wg | Wu]^T: [n x 2w] x [2w x h].
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, I(n), I(h), I(2 * w), 1.0f, dgu,
              I(2 * w), f.gate_up.data(), I(2 * w), 0.0f, static_cast<float*>(dx.ptr), I(h));
  // dWg = x^T da and dWu = x^T db: [h x n] x [n x w] each.
  for (size_t part = 0; part < 2; ++part)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, I(h), I(w), I(n), 1.0f, xs, I(h),
                dgu + part * w, I(2 * w), 0.0f, g + part * h * w, I(w));
  return Status::Ok();
}

Status HostCompute::Gemm(size_t m, size_t n, size_t k, const Buffer& a, const Buffer& b,
                         const Buffer& c) {
  if (m * k * 4 > a.bytes || k * n * 4 > b.bytes || m * n * 4 > c.bytes)
    return Status::Internal("stand-in GEMM operands too small");
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), 1.0f, static_cast<const float*>(a.ptr),
              static_cast<int>(k), static_cast<const float*>(b.ptr), static_cast<int>(n), 0.0f,
              static_cast<float*>(c.ptr), static_cast<int>(n));
  return Status::Ok();
}

}  // namespace epsim::hw
