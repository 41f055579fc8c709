// hw/cuda/cuda_compute.h. The spec checks and packing run everywhere; the
// kernels and GEMMs need a GPU and skip without one, checking each op
// against a slow obvious host reference on hand-sized cases.
#include "hw/cuda/cuda_compute.h"

#include <cuda_bf16.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "hw/cuda/cuda_backend.h"
#include "hw/cuda/kernels.cuh"
#include "tests/hw/common/swiglu_reference.h"

namespace epsim::hw {
namespace {

ReduceSpec TwoOutputSpec() {
  ReduceSpec spec;
  spec.offsets = {0, 2, 3};
  spec.idx = {2, 0, 1};
  spec.coef = {0.5f, 2.0f, -1.0f};
  spec.out_rows = {1, 0};
  return spec;
}

TEST(ReduceSpecTest, AcceptsWellFormedSpec) { EXPECT_TRUE(CheckReduceSpec(TwoOutputSpec()).ok()); }

TEST(ReduceSpecTest, RejectsOffsetsOfWrongLength) {
  ReduceSpec spec = TwoOutputSpec();
  spec.offsets.pop_back();
  EXPECT_EQ(CheckReduceSpec(spec).code(), Status::Code::kBadInput);
}

TEST(ReduceSpecTest, RejectsDecreasingOffsets) {
  ReduceSpec spec = TwoOutputSpec();
  spec.offsets = {0, 3, 2};
  const Status st = CheckReduceSpec(spec);
  EXPECT_EQ(st.code(), Status::Code::kBadInput);
  EXPECT_NE(st.message().find("decrease at output 1"), std::string::npos) << st.message();
}

TEST(ReduceSpecTest, RejectsCoefficientCountMismatch) {
  ReduceSpec spec = TwoOutputSpec();
  spec.coef.pop_back();
  EXPECT_EQ(CheckReduceSpec(spec).code(), Status::Code::kBadInput);
}

TEST(ReduceSpecTest, PackPointsIntoTheSameAllocation) {
  const ReduceSpec spec = TwoOutputSpec();
  const uintptr_t base = 0x10000;
  const std::vector<uint8_t> bytes = PackReduceSpec(spec, base);
  ReduceSpecDevice header;
  std::memcpy(&header, bytes.data(), sizeof header);
  EXPECT_EQ(header.num_out, 2u);
  EXPECT_EQ(header.num_terms, 3u);
  const auto at = [&](const void* p) { return reinterpret_cast<uintptr_t>(p) - base; };
  // Header, then offsets (3), out_rows (2), idx (3), coef (3), 4 bytes each.
  EXPECT_EQ(bytes.size(), at(header.offsets) + 11 * 4);
  EXPECT_EQ(at(header.out_rows), at(header.offsets) + 3 * 4);
  EXPECT_EQ(at(header.idx), at(header.out_rows) + 2 * 4);
  EXPECT_EQ(at(header.coef), at(header.idx) + 3 * 4);
  uint32_t out_rows[2];
  float coef[3];
  std::memcpy(out_rows, bytes.data() + at(header.out_rows), sizeof out_rows);
  std::memcpy(coef, bytes.data() + at(header.coef), sizeof coef);
  EXPECT_EQ(out_rows[0], 1u);
  EXPECT_EQ(out_rows[1], 0u);
  EXPECT_EQ(coef[2], -1.0f);
}

float Bf16(float x) { return __bfloat162float(__float2bfloat16_rn(x)); }

std::vector<float> Random(size_t count, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(count);
  for (float& x : v) x = dist(gen);
  return v;
}

// Device tests: skipped where no GPU is visible.
class CudaComputeGpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const Result<int> count = CheckCudaDevice("test");
    if (!count.ok()) GTEST_SKIP() << count.status().message();
    auto compute = CudaCompute::Create(0, "test device 0");
    ASSERT_TRUE(compute.ok()) << compute.status().ToString();
    compute_ = std::move(compute).value();
  }

  Buffer UploadFloats(const std::vector<float>& values) {
    Result<Buffer> b = compute_->Alloc(values.size() * 4);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_TRUE(compute_->Upload(*b, values.data(), values.size() * 4).ok());
    return *b;
  }

  std::vector<float> DownloadFloats(const Buffer& b, size_t count) {
    std::vector<float> out(count);
    const Status st = compute_->Download(out.data(), b, count * 4);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  std::unique_ptr<CudaCompute> compute_;
};

TEST_F(CudaComputeGpuTest, AllocZeroFills) {
  Result<Buffer> b = compute_->Alloc(64);
  ASSERT_TRUE(b.ok());
  for (float v : DownloadFloats(*b, 16)) EXPECT_EQ(v, 0.0f);
}

TEST_F(CudaComputeGpuTest, GatherRowsConvertsFp32ToBf16AndBack) {
  const size_t hidden = 3;
  const std::vector<float> src = Random(4 * hidden, 1);
  const std::vector<uint32_t> idx = {2, 0, 2};
  const Buffer s = UploadFloats(src);
  Result<Buffer> i = compute_->UploadIndex(idx);
  Result<Buffer> mid = compute_->Alloc(3 * hidden * 2);
  Result<Buffer> out = compute_->Alloc(3 * hidden * 4);
  ASSERT_TRUE(i.ok() && mid.ok() && out.ok());
  ASSERT_TRUE(compute_->GatherRows(s, DType::kF32, *i, 3, hidden, *mid, DType::kBF16).ok());
  Result<Buffer> identity = compute_->UploadIndex(std::vector<uint32_t>{0, 1, 2});
  ASSERT_TRUE(identity.ok());
  ASSERT_TRUE(
      compute_->GatherRows(*mid, DType::kBF16, *identity, 3, hidden, *out, DType::kF32).ok());
  const std::vector<float> got = DownloadFloats(*out, 3 * hidden);
  for (size_t r = 0; r < 3; ++r)
    for (size_t h = 0; h < hidden; ++h)
      EXPECT_EQ(got[r * hidden + h], Bf16(src[idx[r] * hidden + h])) << r << "," << h;
}

TEST_F(CudaComputeGpuTest, GatherRowsRejectsIndexOutsideSource) {
  const Buffer s = UploadFloats(Random(2 * 4, 2));
  Result<Buffer> i = compute_->UploadIndex(std::vector<uint32_t>{0, 2});
  Result<Buffer> d = compute_->Alloc(2 * 4 * 4);
  ASSERT_TRUE(i.ok() && d.ok());
  const Status st = compute_->GatherRows(s, DType::kF32, *i, 2, 4, *d, DType::kF32);
  EXPECT_EQ(st.code(), Status::Code::kInternal);
  EXPECT_NE(st.message().find("source row 2 >= the source's 2 rows"), std::string::npos)
      << st.message();
}

TEST_F(CudaComputeGpuTest, WeightedReduceSumsAndLeavesOtherRows) {
  const size_t hidden = 2;
  const std::vector<float> in = {1, 2, 3, 4, 5, 6};  // rows (1,2) (3,4) (5,6)
  const Buffer i = UploadFloats(in);
  const Buffer o = UploadFloats({9, 9, 9, 9, 9, 9});
  Result<Buffer> spec = compute_->UploadReduce(TwoOutputSpec());
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  ASSERT_TRUE(compute_->WeightedReduce(i, DType::kF32, *spec, 2, hidden, o, DType::kF32).ok());
  // Row 1 = 0.5 * in[2] + 2 * in[0]; row 0 = -in[1]; row 2 untouched.
  const std::vector<float> want = {-3, -4, 4.5f, 7, 9, 9};
  EXPECT_EQ(DownloadFloats(o, 6), want);
}

TEST_F(CudaComputeGpuTest, SwigluFfnMatchesReference) {
  const size_t n = 5, hidden = 64, width = 96;
  const std::vector<float> x = Random(n * hidden, 3), wg = Random(hidden * width, 4),
                           wu = Random(hidden * width, 5), wd = Random(width * hidden, 6);
  Result<Buffer> ffn = compute_->UploadFfn(wg, wu, wd, hidden, width);
  ASSERT_TRUE(ffn.ok()) << ffn.status().ToString();
  const Buffer xb = UploadFloats(x);
  Result<Buffer> scratch = compute_->Alloc(3 * n * width * 4);
  Result<Buffer> y = compute_->Alloc(n * hidden * 4);
  ASSERT_TRUE(scratch.ok() && y.ok());
  const Status st = compute_->SwigluFfn(*ffn, xb, n, *scratch, *y);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const std::vector<float> got = DownloadFloats(*y, n * hidden);
  for (size_t r = 0; r < n; ++r) {
    std::vector<double> h(width);
    for (size_t j = 0; j < width; ++j) {
      double g = 0, u = 0;
      for (size_t k = 0; k < hidden; ++k) {
        g += double(Bf16(x[r * hidden + k])) * Bf16(wg[k * width + j]);
        u += double(Bf16(x[r * hidden + k])) * Bf16(wu[k * width + j]);
      }
      h[j] = Bf16(static_cast<float>(g / (1 + std::exp(-g)) * u));
    }
    for (size_t c = 0; c < hidden; ++c) {
      double want = 0, scale = 0;
      for (size_t j = 0; j < width; ++j) {
        want += h[j] * Bf16(wd[j * hidden + c]);
        scale += std::abs(h[j] * Bf16(wd[j * hidden + c]));
      }
      // h may round one BF16 step differently where FP32 sums differ.
      EXPECT_NEAR(got[r * hidden + c], want, std::ldexp(scale, -7) + 1e-5) << r << "," << c;
    }
  }
}

TEST_F(CudaComputeGpuTest, SwigluFfnBackwardMatchesTheDefinition) {
  // Inputs BF16-representable, so the only roundings are the documented
  // ones (cuda_compute.h): act, da, db and dy to BF16 before their GEMMs.
  const size_t n = 5, hidden = 64, width = 96;
  auto rounded = [](std::vector<float> v) {
    for (float& x : v) x = Bf16(x);
    return v;
  };
  const std::vector<float> x = rounded(Random(n * hidden, 13)), dy = rounded(Random(n * hidden, 14)),
                           wg = rounded(Random(hidden * width, 15)),
                           wu = rounded(Random(hidden * width, 16)),
                           wd = rounded(Random(width * hidden, 17));
  Result<Buffer> ffn = compute_->UploadFfn(wg, wu, wd, hidden, width);
  ASSERT_TRUE(ffn.ok()) << ffn.status().ToString();
  const Buffer xb = UploadFloats(x), dyb = UploadFloats(dy);
  Result<Buffer> saved = compute_->Alloc(3 * n * width * 4);
  Result<Buffer> scratch = compute_->Alloc(3 * n * width * 4);
  Result<Buffer> y = compute_->Alloc(n * hidden * 4);
  Result<Buffer> dx = compute_->Alloc(n * hidden * 4);
  Result<Buffer> grad = compute_->Alloc(3 * hidden * width * 4);
  ASSERT_TRUE(saved.ok() && scratch.ok() && y.ok() && dx.ok() && grad.ok());
  ASSERT_TRUE(compute_->SwigluFfn(*ffn, xb, n, *saved, *y).ok());
  const Status st = compute_->SwigluFfnBackward(*ffn, xb, dyb, *saved, n, *scratch, *dx, *grad);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const std::vector<float> got_dx = DownloadFloats(*dx, n * hidden);
  const std::vector<float> got_grad = DownloadFloats(*grad, 3 * hidden * width);
  const testing::SwigluGrads g =
      testing::SwigluBackwardReference(x, dy, wg, wu, wd, n, hidden, width);
  // dy, act, da and db rounded to BF16 (2^-8 each) on the way: 2^-6 of
  // the sums of |terms| covers them.
  for (size_t i = 0; i < n * hidden; ++i)
    EXPECT_NEAR(got_dx[i], g.dx[i], std::ldexp(g.dx_abs[i], -6) + 1e-5) << "dx " << i;
  const size_t hw = hidden * width;
  for (size_t i = 0; i < hw; ++i) {
    EXPECT_NEAR(got_grad[i], g.dwg[i], std::ldexp(g.dwg_abs[i], -6) + 1e-5) << "dWg " << i;
    EXPECT_NEAR(got_grad[hw + i], g.dwu[i], std::ldexp(g.dwu_abs[i], -6) + 1e-5) << "dWu " << i;
    EXPECT_NEAR(got_grad[2 * hw + i], g.dwd[i], std::ldexp(g.dwd_abs[i], -6) + 1e-5) << "dWd " << i;
  }
}

TEST_F(CudaComputeGpuTest, GemmIsRowMajor) {
  const size_t m = 3, n = 5, k = 4;
  const std::vector<float> a = Random(m * k, 7), b = Random(k * n, 8);
  std::vector<__nv_bfloat16> a16(a.size()), b16(b.size());
  for (size_t i = 0; i < a.size(); ++i) a16[i] = __float2bfloat16_rn(a[i]);
  for (size_t i = 0; i < b.size(); ++i) b16[i] = __float2bfloat16_rn(b[i]);
  Result<Buffer> ab = compute_->Alloc(a.size() * 2), bb = compute_->Alloc(b.size() * 2),
                 cb = compute_->Alloc(m * n * 2);
  ASSERT_TRUE(ab.ok() && bb.ok() && cb.ok());
  ASSERT_TRUE(compute_->Upload(*ab, a16.data(), a.size() * 2).ok());
  ASSERT_TRUE(compute_->Upload(*bb, b16.data(), b.size() * 2).ok());
  ASSERT_TRUE(compute_->Gemm(m, n, k, *ab, *bb, *cb).ok());
  std::vector<__nv_bfloat16> c16(m * n);
  ASSERT_TRUE(compute_->Download(c16.data(), *cb, c16.size() * 2).ok());
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) {
      double want = 0;
      for (size_t l = 0; l < k; ++l) want += double(Bf16(a[i * k + l])) * Bf16(b[l * n + j]);
      EXPECT_NEAR(__bfloat162float(c16[i * n + j]), want, std::abs(want) / 128 + 1e-6)
          << i << "," << j;
    }
}

TEST_F(CudaComputeGpuTest, MarksAreOrderedSecondsSinceThePassStart) {
  Result<Buffer> a = compute_->Alloc(256 * 256 * 2), c = compute_->Alloc(256 * 256 * 2);
  ASSERT_TRUE(a.ok() && c.ok());
  ASSERT_TRUE(compute_->MarkPassStart(2).ok());
  ASSERT_TRUE(compute_->Gemm(256, 256, 256, *a, *a, *c).ok());
  ASSERT_TRUE(compute_->Mark(0).ok());
  ASSERT_TRUE(compute_->Gemm(256, 256, 256, *a, *a, *c).ok());
  ASSERT_TRUE(compute_->Mark(1).ok());
  EXPECT_EQ(compute_->Mark(2).code(), Status::Code::kInternal);
  Result<Marks> marks = compute_->ReadMarks();
  ASSERT_TRUE(marks.ok()) << marks.status().ToString();
  ASSERT_EQ(marks->size(), 2u);
  EXPECT_GT((*marks)[0], 0.0);
  EXPECT_GE((*marks)[1], (*marks)[0]);
  EXPECT_LT((*marks)[1], 1.0);
}

}  // namespace
}  // namespace epsim::hw
