#include "hw/common/backend.h"

#include <algorithm>
#include <chrono>

namespace epsim::hw {

size_t DTypeBytes(DType t) { return t == DType::kF32 ? 4 : 2; }
const char* DTypeName(DType t) { return t == DType::kF32 ? "fp32" : "bf16"; }

AllToAllSpec AllToAllSpec::FromRows(std::vector<uint64_t> send_rows,
                                    std::vector<uint64_t> recv_rows) {
  AllToAllSpec s;
  s.send_rows = std::move(send_rows);
  s.recv_rows = std::move(recv_rows);
  s.send_offset.assign(s.send_rows.size(), 0);
  s.recv_offset.assign(s.recv_rows.size(), 0);
  for (size_t p = 1; p < s.send_rows.size(); ++p)
    s.send_offset[p] = s.send_offset[p - 1] + s.send_rows[p - 1];
  for (size_t p = 1; p < s.recv_rows.size(); ++p)
    s.recv_offset[p] = s.recv_offset[p - 1] + s.recv_rows[p - 1];
  return s;
}

uint64_t AllToAllSpec::SendTotal() const {
  uint64_t n = 0;
  for (uint64_t r : send_rows) n += r;
  return n;
}

uint64_t AllToAllSpec::RecvTotal() const {
  uint64_t n = 0;
  for (uint64_t r : recv_rows) n += r;
  return n;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double Backend::NowS() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace epsim::hw
