// The order in which every executor issues an all-to-all's transfers:
// NCCL's pairwise schedule, round k = 1..n-1 sends to (r + k) mod n and
// receives from (r - k) mod n, so no rank is everyone's first destination.
// The SimGrid engine's windowed replay and the harness's MPI all-to-all-v
// both take their order from here.
#ifndef EPSIM_SIM_EXEC_PAIRWISE_H_
#define EPSIM_SIM_EXEC_PAIRWISE_H_

#include <cstdint>

namespace epsim::exec {

// Peer `rank` sends to in round k (1 <= k < num_ranks).
inline uint32_t PairwiseSendPeer(uint32_t rank, uint32_t k, uint32_t num_ranks) {
  return (rank + k) % num_ranks;
}

// Peer `rank` receives from in round k.
inline uint32_t PairwiseRecvPeer(uint32_t rank, uint32_t k, uint32_t num_ranks) {
  return (rank + num_ranks - k % num_ranks) % num_ranks;
}

}  // namespace epsim::exec

#endif  // EPSIM_SIM_EXEC_PAIRWISE_H_
