#include "sim/placement/balanced_partition.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "sim/base/check.h"

namespace epsim::placement {
namespace {

constexpr uint32_t kUnplaced = ~0u;
// Gains are sums of counts (integers) in practice; anything above this is
// a real improvement, anything below is rounding.
constexpr double kMinGain = 1e-9;

// Unplaced vertex maximising (or, with `least`, minimising) the summed
// weight to the vertices in `to`; lowest id on ties.
uint32_t PickVertex(const CollabGraph& g, const Assignment& part,
                    const std::vector<uint32_t>& to, bool least) {
  uint32_t best = kUnplaced;
  double best_sum = 0;
  for (uint32_t v = 0; v < g.n; ++v) {
    if (part[v] != kUnplaced) continue;
    double sum = 0;
    for (uint32_t u : to) sum += g.at(v, u);
    if (best == kUnplaced || (least ? sum < best_sum : sum > best_sum)) best = v, best_sum = sum;
  }
  return best;
}

// The pair {i < j} of largest weight among unplaced vertices.
std::pair<uint32_t, uint32_t> HeaviestPair(const CollabGraph& g) {
  std::pair<uint32_t, uint32_t> best{0, 1};
  for (uint32_t i = 0; i < g.n; ++i)
    for (uint32_t j = i + 1; j < g.n; ++j)
      if (g.at(i, j) > g.at(best.first, best.second)) best = {i, j};
  return best;
}

// conn[v * P + p]: weight from v to the vertices of part p other than v.
std::vector<double> Connections(const CollabGraph& g, const Assignment& part, uint32_t num_parts) {
  std::vector<double> conn(size_t{g.n} * num_parts, 0);
  for (uint32_t v = 0; v < g.n; ++v)
    for (uint32_t u = 0; u < g.n; ++u) conn[size_t{v} * num_parts + part[u]] += g.at(v, u);
  return conn;
}

struct Swap {
  uint32_t a = kUnplaced, b = kUnplaced;
  double gain = 0;
};

class KernighanLin {
 public:
  KernighanLin(const CollabGraph& g, const std::vector<uint32_t>& swap_class, Assignment* part)
      : g_(g), part_(*part), swap_class_(swap_class) {
    num_parts_ = *std::max_element(part_.begin(), part_.end()) + 1;
    if (swap_class_.empty()) swap_class_.assign(num_parts_, 0);
    conn_ = Connections(g_, part_, num_parts_);
  }

  // One pass; returns the gain kept.
  double Pass() {
    std::vector<bool> locked(g_.n, false);
    std::vector<Swap> done;
    double cum = 0, best = 0;
    size_t best_len = 0;
    for (Swap s = BestSwap(locked); s.a != kUnplaced; s = BestSwap(locked)) {
      Apply(s.a, s.b);
      locked[s.a] = locked[s.b] = true;
      done.push_back(s);
      cum += s.gain;
      if (cum > best + kMinGain) best = cum, best_len = done.size();
    }
    for (size_t i = done.size(); i > best_len; --i) Apply(done[i - 1].a, done[i - 1].b);
    return best;
  }

 private:
  double Conn(uint32_t v, uint32_t p) const { return conn_[size_t{v} * num_parts_ + p]; }

  Swap BestSwap(const std::vector<bool>& locked) const {
    Swap best;
    for (uint32_t a = 0; a < g_.n; ++a) {
      if (locked[a]) continue;
      const uint32_t pa = part_[a];
      for (uint32_t b = a + 1; b < g_.n; ++b) {
        const uint32_t pb = part_[b];
        if (locked[b] || pa == pb || swap_class_[pa] != swap_class_[pb]) continue;
        const double gain =
            Conn(a, pb) - Conn(a, pa) + Conn(b, pa) - Conn(b, pb) - 2 * g_.at(a, b);
        if (best.a == kUnplaced || gain > best.gain) best = {a, b, gain};
      }
    }
    return best;
  }

  // Swaps the parts of a and b (zero diagonal keeps the update exact).
  void Apply(uint32_t a, uint32_t b) {
    const uint32_t pa = part_[a], pb = part_[b];
    for (uint32_t v = 0; v < g_.n; ++v) {
      const double d = g_.at(v, b) - g_.at(v, a);
      conn_[size_t{v} * num_parts_ + pa] += d;
      conn_[size_t{v} * num_parts_ + pb] -= d;
    }
    std::swap(part_[a], part_[b]);
  }

  const CollabGraph& g_;
  Assignment& part_;
  std::vector<uint32_t> swap_class_;
  uint32_t num_parts_ = 0;
  std::vector<double> conn_;
};

Assignment RandomBalanced(const std::vector<uint32_t>& part_sizes, std::mt19937_64& rng) {
  Assignment in_order = InOrder(part_sizes);
  // Fisher-Yates with our own index draw: the same result on every library.
  for (size_t i = in_order.size(); i > 1; --i) std::swap(in_order[i - 1], in_order[rng() % i]);
  return in_order;
}

}  // namespace

double CollabGraph::TotalWeight() const {
  double sum = 0;
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t j = i + 1; j < n; ++j) sum += at(i, j);
  return sum;
}

CollabGraph GraphFromCoact(const trace::CountMatrix& coact, const std::vector<uint32_t>& vertices) {
  CollabGraph g;
  g.n = static_cast<uint32_t>(vertices.size());
  g.w.assign(size_t{g.n} * g.n, 0);
  for (uint32_t i = 0; i < g.n; ++i)
    for (uint32_t j = 0; j < g.n; ++j)
      if (i != j) g.w[size_t{i} * g.n + j] = static_cast<double>(coact.at(vertices[i], vertices[j]));
  return g;
}

double IntraWeight(const CollabGraph& g, const Assignment& part) {
  double sum = 0;
  for (uint32_t i = 0; i < g.n; ++i)
    for (uint32_t j = i + 1; j < g.n; ++j)
      if (part[i] == part[j]) sum += g.at(i, j);
  return sum;
}

Assignment InOrder(const std::vector<uint32_t>& part_sizes) {
  Assignment part;
  for (uint32_t p = 0; p < part_sizes.size(); ++p) part.insert(part.end(), part_sizes[p], p);
  return part;
}

// Occult normalises the counts by the largest one; that rescaling changes no
// comparison below, so the raw counts are compared (exactly, as integers).
Assignment OccultGreedy(const CollabGraph& g, const std::vector<uint32_t>& part_sizes) {
  EPSIM_CHECK(std::accumulate(part_sizes.begin(), part_sizes.end(), 0u) == g.n);
  Assignment part(g.n, kUnplaced);
  std::vector<uint32_t> placed;
  for (uint32_t p = 0; p < part_sizes.size(); ++p) {
    std::vector<uint32_t> members;
    auto add = [&](uint32_t v) { part[v] = p, members.push_back(v), placed.push_back(v); };
    if (part_sizes[p] == 0) continue;
    if (placed.empty() && g.n >= 2) {
      auto [i, j] = HeaviestPair(g);
      add(i);
      if (part_sizes[p] > 1) add(j);
    } else {
      add(PickVertex(g, part, placed, /*least=*/true));
    }
    while (members.size() < part_sizes[p]) add(PickVertex(g, part, members, /*least=*/false));
  }
  return part;
}

void RefineKernighanLin(const CollabGraph& g, const std::vector<uint32_t>& swap_class,
                        Assignment* part) {
  if (g.n < 2) return;
  KernighanLin kl(g, swap_class, part);
  // Each kept pass gains at least one count; the cap only bounds run time
  // on large expert counts (a pass is O(n^3)).
  for (int pass = 0; pass < 16 && kl.Pass() > kMinGain; ++pass) {
  }
}

Assignment PartitionGraph(const CollabGraph& g, const std::vector<uint32_t>& part_sizes,
                          uint64_t seed, uint32_t random_starts) {
  std::vector<Assignment> starts = {OccultGreedy(g, part_sizes), InOrder(part_sizes)};
  std::mt19937_64 rng(seed);
  for (uint32_t i = 0; i < random_starts; ++i) starts.push_back(RandomBalanced(part_sizes, rng));
  Assignment best;
  double best_weight = -1;
  for (Assignment& start : starts) {
    RefineKernighanLin(g, {}, &start);
    const double weight = IntraWeight(g, start);
    if (weight > best_weight + kMinGain) best_weight = weight, best = start;
  }
  return best;
}

}  // namespace epsim::placement
