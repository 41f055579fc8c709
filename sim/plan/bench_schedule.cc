#include "sim/plan/bench_schedule.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <numeric>
#include <random>
#include <sstream>

#include "sim/base/check.h"

namespace epsim::plan {
namespace {

uint64_t WholeElements(uint64_t bytes) { return bytes / kBenchTypeBytes * kBenchTypeBytes; }

proto::Schedule OnePhase(BenchOp op, uint32_t n, std::vector<uint64_t> send_bytes) {
  proto::Schedule s;
  s.set_model("bench");
  s.set_strategy(BenchOpName(op));
  s.set_placement("none");
  s.set_pass("bench");
  s.set_num_ranks(n);
  proto::Phase* phase = s.add_phases();
  phase->set_id(0);
  phase->set_kind(proto::DISPATCH);
  phase->set_phase_class(proto::ALL_TO_ALL);
  for (uint32_t r = 0; r < n; ++r) send_bytes[r * n + r] = 0;  // the self chunk stays local
  phase->mutable_send_bytes()->Assign(send_bytes.begin(), send_bytes.end());
  return s;
}

}  // namespace

Result<BenchOp> ParseBenchOp(const std::string& name) {
  if (name == "sendrecv") return BenchOp::kSendRecv;
  if (name == "alltoall") return BenchOp::kAllToAll;
  if (name == "alltoallv") return BenchOp::kAllToAllv;
  return Status::Usage("unknown benchmark '" + name + "' (sendrecv, alltoall, alltoallv)");
}

const char* BenchOpName(BenchOp op) {
  switch (op) {
    case BenchOp::kSendRecv: return "sendrecv";
    case BenchOp::kAllToAll: return "alltoall";
    case BenchOp::kAllToAllv: return "alltoallv";
  }
  return "unknown";
}

Result<uint64_t> ParseSize(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  const std::string suffix = text.substr(digits);
  if (digits == 0 || digits > 18 || suffix.size() > 1)
    return Status::Usage("bad size '" + text + "': want a number with an optional K, M or G");
  uint64_t value = std::stoull(text.substr(0, digits));
  int shift = 0;
  if (!suffix.empty()) {
    switch (std::toupper(static_cast<unsigned char>(suffix[0]))) {
      case 'K': shift = 10; break;
      case 'M': shift = 20; break;
      case 'G': shift = 30; break;
      default:
        return Status::Usage("bad size '" + text + "': suffix must be K, M or G (binary)");
    }
  }
  if (shift > 0 && value > (UINT64_MAX >> shift)) return Status::Usage("size too large: " + text);
  return value << shift;
}

Result<std::vector<uint64_t>> SweepSizes(const SizeSweep& sw) {
  if (sw.min_bytes == 0 || sw.min_bytes > sw.max_bytes)
    return Status::Usage(fmt::format("bad size range -b {} -e {}: want 0 < -b <= -e",
                                     sw.min_bytes, sw.max_bytes));
  if (sw.step_factor <= 1 && sw.step_bytes == 0 && sw.min_bytes != sw.max_bytes)
    return Status::Usage("the sweep does not advance: give -f > 1 or -i > 0");
  std::vector<uint64_t> sizes;
  for (uint64_t size = sw.min_bytes; size <= sw.max_bytes;) {
    sizes.push_back(size);
    const uint64_t next = sw.step_factor > 1 ? size * sw.step_factor : size + sw.step_bytes;
    if (next <= size) break;  // overflow, or a single-size sweep
    size = next;
  }
  return sizes;
}

double BusBwFactor(BenchOp op, uint32_t num_ranks) {
  if (op == BenchOp::kSendRecv || num_ranks == 0) return 1.0;
  return static_cast<double>(num_ranks - 1) / num_ranks;
}

double AlgBwGbps(uint64_t bytes, double time_s) {
  return time_s > 0 ? static_cast<double>(bytes) / time_s / 1e9 : 0.0;
}

proto::Schedule SendRecvSchedule(uint32_t num_ranks, uint64_t bytes) {
  EPSIM_CHECK(num_ranks >= 2);
  std::vector<uint64_t> cells(static_cast<size_t>(num_ranks) * num_ranks, 0);
  for (uint32_t r = 0; r < num_ranks; ++r) cells[r * num_ranks + (r + 1) % num_ranks] = bytes;
  return OnePhase(BenchOp::kSendRecv, num_ranks, std::move(cells));
}

proto::Schedule AllToAllSchedule(uint32_t num_ranks, uint64_t bytes) {
  EPSIM_CHECK(num_ranks >= 2);
  const uint64_t per_pair = WholeElements(bytes / num_ranks);
  std::vector<uint64_t> cells(static_cast<size_t>(num_ranks) * num_ranks, per_pair);
  return OnePhase(BenchOp::kAllToAll, num_ranks, std::move(cells));
}

proto::Schedule AllToAllvSchedule(const std::vector<uint64_t>& matrix, uint32_t num_ranks) {
  EPSIM_CHECK(num_ranks >= 2 && matrix.size() == static_cast<size_t>(num_ranks) * num_ranks);
  return OnePhase(BenchOp::kAllToAllv, num_ranks, matrix);
}

Result<std::vector<uint64_t>> ParseMatrixText(const std::string& text, uint32_t* num_ranks) {
  std::istringstream lines(text);
  std::string line;
  std::vector<uint64_t> cells;
  size_t rows = 0, cols = 0, line_no = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string field;
    size_t n = 0;
    while (fields >> field) {
      if (field.find_first_not_of("0123456789") != std::string::npos || field.size() > 19)
        return Status::BadInput(fmt::format("line {}: '{}' is not a byte count", line_no, field));
      cells.push_back(std::stoull(field));
      ++n;
    }
    if (rows > 0 && n != cols)
      return Status::BadInput(fmt::format("line {}: {} entries, want {}", line_no, n, cols));
    cols = n;
    ++rows;
  }
  if (rows < 2 || rows != cols)
    return Status::BadInput(fmt::format("matrix is {} x {}, want square with >= 2 ranks", rows,
                                        cols));
  *num_ranks = static_cast<uint32_t>(rows);
  return cells;
}

std::vector<uint64_t> SkewedMatrix(uint32_t num_ranks, uint64_t bytes_per_rank, uint64_t seed) {
  std::vector<uint32_t> popularity(num_ranks);
  std::iota(popularity.begin(), popularity.end(), 0);
  std::mt19937_64 rng(seed);
  for (uint32_t i = num_ranks; i > 1; --i) std::swap(popularity[i - 1], popularity[rng() % i]);
  std::vector<double> weight(num_ranks);
  double total = 0;
  for (uint32_t d = 0; d < num_ranks; ++d) total += weight[d] = 1.0 / (popularity[d] + 1);
  std::vector<uint64_t> cells(static_cast<size_t>(num_ranks) * num_ranks);
  for (uint32_t s = 0; s < num_ranks; ++s)
    for (uint32_t d = 0; d < num_ranks; ++d)
      cells[s * num_ranks + d] = WholeElements(
          static_cast<uint64_t>(static_cast<double>(bytes_per_rank) * weight[d] / total));
  return cells;
}

std::vector<uint64_t> ScaleMatrix(const std::vector<uint64_t>& matrix, uint32_t num_ranks,
                                  uint64_t bytes_per_rank) {
  long double sum = 0;
  for (uint64_t b : matrix) sum += b;
  std::vector<uint64_t> out(matrix.size(), 0);
  if (sum == 0) return out;
  const long double scale = static_cast<long double>(bytes_per_rank) * num_ranks / sum;
  for (size_t i = 0; i < matrix.size(); ++i)
    out[i] = WholeElements(static_cast<uint64_t>(matrix[i] * scale));
  return out;
}

uint64_t MaxRankBytes(const proto::Schedule& schedule) {
  const uint32_t n = schedule.num_ranks();
  std::vector<uint64_t> sent(n, 0), received(n, 0);
  for (const proto::Phase& phase : schedule.phases()) {
    if (phase.send_bytes_size() != static_cast<int>(n * n)) continue;
    for (uint32_t s = 0; s < n; ++s)
      for (uint32_t d = 0; d < n; ++d) {
        if (s == d) continue;
        sent[s] += phase.send_bytes(s * n + d);
        received[d] += phase.send_bytes(s * n + d);
      }
  }
  uint64_t most = 0;
  for (uint32_t r = 0; r < n; ++r) most = std::max({most, sent[r], received[r]});
  return most;
}

}  // namespace epsim::plan
