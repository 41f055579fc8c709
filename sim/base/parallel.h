// Runs independent pieces of work (layers, mostly) on the machine's cores.
#ifndef EPSIM_SIM_BASE_PARALLEL_H_
#define EPSIM_SIM_BASE_PARALLEL_H_

#include <cstddef>
#include <functional>

namespace epsim {

// The threads ParallelFor uses: $EPSIM_THREADS when it is a positive
// integer, else the machine's hardware threads (at least 1).
unsigned WorkerThreads();

// Calls fn(i) for every i in [0, n), on up to WorkerThreads() threads (the
// calling one included), each taking the next index when it is free. fn
// must not touch shared state unguarded; whatever it writes to slot i of a
// result vector is deterministic whatever the interleaving. Returns when
// every call has returned. An exception thrown by fn ends the program
// (std::terminate), as it would on one thread without a handler.
void ParallelFor(size_t n, const std::function<void(size_t)>& fn);

}  // namespace epsim

#endif  // EPSIM_SIM_BASE_PARALLEL_H_
