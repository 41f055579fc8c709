#include "sim/placement/replicate.h"

#include <algorithm>
#include <tuple>

namespace epsim::placement {
namespace {

// The copy a token held on `src` uses (ChooseReplica without preference).
uint32_t TargetOf(const std::vector<uint32_t>& copies, uint32_t src,
                  const std::vector<uint32_t>& host_of_rank) {
  for (uint32_t r : copies)
    if (r == src) return r;
  for (uint32_t r : copies)
    if (host_of_rank[r] == host_of_rank[src]) return r;
  return copies[0];
}

// Adds (sign +1) or removes (-1) expert e's expected pairs.
void AddExpert(const std::vector<uint32_t>& copies, uint64_t load,
               const std::vector<uint32_t>& host_of_rank, int sign, std::vector<int64_t>* rank_load) {
  for (uint32_t src = 0; src < host_of_rank.size(); ++src)
    (*rank_load)[TargetOf(copies, src, host_of_rank)] += sign * static_cast<int64_t>(load);
}

// (max, sum of squares): what a copy is chosen to lower, in that order.
std::pair<int64_t, double> Spread(const std::vector<int64_t>& rank_load) {
  double squares = 0;
  for (int64_t x : rank_load) squares += static_cast<double>(x) * static_cast<double>(x);
  return {*std::max_element(rank_load.begin(), rank_load.end()), squares};
}

struct Candidate {
  std::pair<int64_t, double> spread;
  uint32_t expert = 0, rank = 0;
  bool valid = false;
};

}  // namespace

std::vector<uint64_t> ExpectedRankLoad(const ReplicaRanks& ranks,
                                       const std::vector<uint64_t>& load,
                                       const std::vector<uint32_t>& host_of_rank) {
  std::vector<int64_t> signed_load(host_of_rank.size(), 0);
  for (uint32_t e = 0; e < ranks.size(); ++e)
    AddExpert(ranks[e], load[e], host_of_rank, +1, &signed_load);
  return {signed_load.begin(), signed_load.end()};
}

ReplicaRanks Replicate(const std::vector<uint32_t>& primary, const std::vector<uint64_t>& load,
                       const std::vector<uint32_t>& host_of_rank, uint32_t replica_slots) {
  const uint32_t d = static_cast<uint32_t>(host_of_rank.size());
  ReplicaRanks ranks(primary.size());
  for (uint32_t e = 0; e < primary.size(); ++e) ranks[e] = {primary[e]};
  const std::vector<uint64_t> start = ExpectedRankLoad(ranks, load, host_of_rank);
  std::vector<int64_t> rank_load(start.begin(), start.end());
  std::vector<uint32_t> slots_left(d, replica_slots);
  while (true) {
    const auto current = Spread(rank_load);
    Candidate best;
    for (uint32_t e = 0; e < ranks.size(); ++e) {
      std::vector<uint32_t> grown = ranks[e];
      grown.push_back(0);
      for (uint32_t r = 0; r < d; ++r) {
        if (slots_left[r] == 0 || std::count(ranks[e].begin(), ranks[e].end(), r)) continue;
        grown.back() = r;
        std::vector<int64_t> trial = rank_load;
        AddExpert(ranks[e], load[e], host_of_rank, -1, &trial);
        AddExpert(grown, load[e], host_of_rank, +1, &trial);
        const auto spread = Spread(trial);
        if (spread >= current) continue;
        const bool better =
            !best.valid ||
            std::make_tuple(spread, -static_cast<int64_t>(load[e])) <
                std::make_tuple(best.spread, -static_cast<int64_t>(load[best.expert]));
        if (better) best = {spread, e, r, true};
      }
    }
    if (!best.valid) break;
    AddExpert(ranks[best.expert], load[best.expert], host_of_rank, -1, &rank_load);
    ranks[best.expert].push_back(best.rank);
    AddExpert(ranks[best.expert], load[best.expert], host_of_rank, +1, &rank_load);
    --slots_left[best.rank];
  }
  return ranks;
}

}  // namespace epsim::placement
