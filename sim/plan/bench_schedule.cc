#include "sim/plan/bench_schedule.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>
#include <random>
#include <sstream>

#include "sim/base/check.h"
#include "sim/base/string_util.h"

namespace epsim::plan {
namespace {

uint64_t WholeElements(uint64_t bytes, uint64_t type_bytes) {
  return bytes / type_bytes * type_bytes;
}

struct TypeName {
  const char* name;
  uint64_t bytes;
};
// nccl-tests' test_typenames (src/common.cu) and their sizes.
constexpr TypeName kTypes[] = {{"int8", 1},   {"uint8", 1},    {"int32", 4},  {"uint32", 4},
                               {"int64", 8},  {"uint64", 8},   {"half", 2},   {"float", 4},
                               {"double", 8}, {"bfloat16", 2}, {"f8e4m3", 1}, {"f8e5m2", 1}};

proto::Schedule EmptyBench(BenchOp op, uint32_t n) {
  proto::Schedule s;
  s.set_model("bench");
  s.set_strategy(BenchOpName(op));
  s.set_placement("none");
  s.set_pass("bench");
  s.set_num_ranks(n);
  return s;
}

proto::Phase* AddPhase(proto::Schedule* s, const std::vector<uint64_t>& send_bytes) {
  proto::Phase* phase = s->add_phases();
  phase->set_id(s->phases_size() - 1);
  phase->set_kind(proto::DISPATCH);
  phase->set_phase_class(proto::ALL_TO_ALL);
  phase->mutable_send_bytes()->Assign(send_bytes.begin(), send_bytes.end());
  return phase;
}

proto::Schedule OnePhase(BenchOp op, uint32_t n, std::vector<uint64_t> send_bytes) {
  proto::Schedule s = EmptyBench(op, n);
  for (uint32_t r = 0; r < n; ++r) send_bytes[r * n + r] = 0;  // the self chunk stays local
  AddPhase(&s, send_bytes);
  return s;
}

}  // namespace

Result<BenchOp> ParseBenchOp(const std::string& name) {
  if (name == "sendrecv") return BenchOp::kSendRecv;
  if (name == "alltoall") return BenchOp::kAllToAll;
  if (name == "alltoallv") return BenchOp::kAllToAllv;
  if (name == "allreduce") return BenchOp::kAllReduce;
  if (name == "allgather") return BenchOp::kAllGather;
  if (name == "reducescatter") return BenchOp::kReduceScatter;
  return Status::Usage("unknown benchmark '" + name +
                       "' (sendrecv, alltoall, alltoallv, allreduce, allgather, reducescatter)");
}

const char* BenchOpName(BenchOp op) {
  switch (op) {
    case BenchOp::kSendRecv: return "sendrecv";
    case BenchOp::kAllToAll: return "alltoall";
    case BenchOp::kAllToAllv: return "alltoallv";
    case BenchOp::kAllReduce: return "allreduce";
    case BenchOp::kAllGather: return "allgather";
    case BenchOp::kReduceScatter: return "reducescatter";
  }
  return "unknown";
}

bool IsRingCollective(BenchOp op) {
  return op == BenchOp::kAllReduce || op == BenchOp::kAllGather || op == BenchOp::kReduceScatter;
}

const char* BenchRedOp(BenchOp op) {
  return op == BenchOp::kAllReduce || op == BenchOp::kReduceScatter ? "sum" : "none";
}

Result<BenchType> ParseBenchType(const std::string& name) {
  std::vector<std::string> names;
  for (const TypeName& t : kTypes) {
    if (name == t.name) return BenchType{t.name, t.bytes};
    names.push_back(t.name);
  }
  if (name == "all")
    return Status::Usage("-d all: a simulated run takes one type; run once per type");
  const std::string near = NearestName(name, names);
  return Status::Usage(fmt::format("-d {}: unknown type{} (int8, uint8, int32, uint32, int64, "
                                   "uint64, half, float, double, bfloat16, f8e4m3, f8e5m2)",
                                   name, near.empty() ? "" : "; did you mean " + near + "?"));
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
  const double factor = static_cast<double>(num_ranks - 1) / num_ranks;
  return op == BenchOp::kAllReduce ? 2 * factor : factor;
}

double AlgBwGbps(uint64_t bytes, double time_s) {
  return time_s > 0 ? static_cast<double>(bytes) / time_s / 1e9 : 0.0;
}

double BusBwGbps(BenchOp op, uint32_t num_ranks, uint64_t size_bytes, uint64_t max_rank_bytes,
                 double time_s) {
  if (op == BenchOp::kAllToAllv) return AlgBwGbps(max_rank_bytes, time_s);
  return AlgBwGbps(size_bytes, time_s) * BusBwFactor(op, num_ranks);
}

proto::Schedule SendRecvSchedule(uint32_t num_ranks, uint64_t bytes) {
  EPSIM_CHECK(num_ranks >= 2);
  std::vector<uint64_t> cells(static_cast<size_t>(num_ranks) * num_ranks, 0);
  for (uint32_t r = 0; r < num_ranks; ++r) cells[r * num_ranks + (r + 1) % num_ranks] = bytes;
  return OnePhase(BenchOp::kSendRecv, num_ranks, std::move(cells));
}

proto::Schedule AllToAllSchedule(uint32_t num_ranks, uint64_t bytes, uint64_t type_bytes) {
  EPSIM_CHECK(num_ranks >= 2 && type_bytes > 0);
  const uint64_t per_pair = WholeElements(bytes / num_ranks, type_bytes);
  std::vector<uint64_t> cells(static_cast<size_t>(num_ranks) * num_ranks, per_pair);
  return OnePhase(BenchOp::kAllToAll, num_ranks, std::move(cells));
}

proto::Schedule AllToAllvSchedule(const std::vector<uint64_t>& matrix, uint32_t num_ranks) {
  EPSIM_CHECK(num_ranks >= 2 && matrix.size() == static_cast<size_t>(num_ranks) * num_ranks);
  return OnePhase(BenchOp::kAllToAllv, num_ranks, matrix);
}

CollectiveSize RingCollectiveSize(BenchOp op, uint32_t num_ranks, uint64_t bytes,
                                  uint64_t type_bytes) {
  EPSIM_CHECK(IsRingCollective(op) && num_ranks >= 2 && type_bytes > 0 && type_bytes <= 16);
  const uint64_t count = bytes / type_bytes;
  CollectiveSize size;
  if (op == BenchOp::kAllReduce) {
    size.count = count;
    size.printed_bytes = count * type_bytes;
    size.chunk_bytes = (count + num_ranks - 1) / num_ranks * type_bytes;
    return size;
  }
  // nccl-tests trims the per-rank count to whole 16-byte units so that every
  // rank's slice of the big buffer stays aligned.
  const uint64_t align_elements = 16 / type_bytes;
  size.count = count / num_ranks / align_elements * align_elements;
  size.chunk_bytes = size.count * type_bytes;
  size.printed_bytes = size.chunk_bytes * num_ranks;
  return size;
}

uint32_t RingSteps(BenchOp op, uint32_t num_ranks) {
  EPSIM_CHECK(IsRingCollective(op) && num_ranks >= 2);
  return op == BenchOp::kAllReduce ? 2 * (num_ranks - 1) : num_ranks - 1;
}

proto::Schedule RingSchedule(BenchOp op, uint32_t num_ranks, uint64_t bytes,
                             uint64_t type_bytes) {
  const uint64_t chunk = RingCollectiveSize(op, num_ranks, bytes, type_bytes).chunk_bytes;
  std::vector<uint64_t> cells(static_cast<size_t>(num_ranks) * num_ranks, 0);
  for (uint32_t r = 0; r < num_ranks; ++r) cells[r * num_ranks + (r + 1) % num_ranks] = chunk;
  proto::Schedule s = EmptyBench(op, num_ranks);
  const uint32_t steps = RingSteps(op, num_ranks);
  for (uint32_t step = 0; step < steps; ++step) {
    proto::Phase* phase = AddPhase(&s, cells);
    // A rank forwards in step s+1 what it received in step s.
    // NCCL pipelines the steps: one base latency, then a hop per step.
    if (step > 0) {
      phase->add_depends_on(step - 1);
      phase->set_pipelined(true);
    }
  }
  return s;
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

std::vector<uint64_t> SkewedMatrix(uint32_t num_ranks, uint64_t bytes_per_rank, uint64_t seed,
                                   uint64_t type_bytes) {
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
          static_cast<uint64_t>(static_cast<double>(bytes_per_rank) * weight[d] / total),
          type_bytes);
  return cells;
}

std::vector<uint64_t> ScaleMatrix(const std::vector<uint64_t>& matrix, uint32_t num_ranks,
                                  uint64_t bytes_per_rank, uint64_t type_bytes) {
  long double sum = 0;
  for (uint64_t b : matrix) sum += b;
  std::vector<uint64_t> out(matrix.size(), 0);
  if (sum == 0) return out;
  const long double scale = static_cast<long double>(bytes_per_rank) * num_ranks / sum;
  for (size_t i = 0; i < matrix.size(); ++i)
    out[i] = WholeElements(static_cast<uint64_t>(matrix[i] * scale), type_bytes);
  return out;
}

std::vector<uint64_t> MultiplyMatrix(const std::vector<uint64_t>& matrix, double factor,
                                     uint64_t type_bytes) {
  std::vector<uint64_t> out(matrix.size());
  for (size_t i = 0; i < matrix.size(); ++i)
    out[i] = WholeElements(
        static_cast<uint64_t>(static_cast<long double>(matrix[i]) * factor), type_bytes);
  return out;
}

std::vector<uint64_t> FractionsTimes(const std::vector<double>& fractions, uint64_t bytes,
                                     uint64_t type_bytes) {
  std::vector<uint64_t> out(fractions.size());
  for (size_t i = 0; i < fractions.size(); ++i)
    out[i] = WholeElements(
        static_cast<uint64_t>(std::llround(static_cast<long double>(fractions[i]) * bytes)),
        type_bytes);
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
