// Sanitizer defaults of epsim-hw, compiled in only where AddressSanitizer or
// ThreadSanitizer is (CMake -DEPSIM_SANITIZE=address|thread, or any such
// -fsanitize build); the ASAN_OPTIONS, LSAN_OPTIONS and TSAN_OPTIONS of the
// environment still come after them.
//
// AddressSanitizer: Open MPI keeps allocations of MPI_Init (its components, PMIx and libevent
// state) after MPI_Finalize by design, in libraries that are not built with
// frame pointers: with ASan's fast unwinder their stacks stop inside a
// component that MPI_Finalize has unloaded, so no suppression can name
// them. epsim-hw allocates little, so it unwinds every allocation with the
// slow, exact unwinder, and suppresses leaks whose stack passes through
// Open MPI's libraries and components. A leak whose stack stays in epsim's
// code is still reported, and fails the run. The suppressions need the
// default stack depth (malloc_context_size=30): an ASAN_OPTIONS that cuts
// it to 10 stops some stacks before they reach Open MPI's frames.
#include "sim/base/sanitizers.h"

#ifdef EPSIM_ASAN
extern "C" {

const char* __asan_default_options() { return "fast_unwind_on_malloc=0"; }

// The list of suppressions used is not printed: a run's stderr is its own.
const char* __lsan_default_options() { return "print_suppressions=0"; }

const char* __lsan_default_suppressions() {
  return "leak:libmpi.so\n"
         "leak:libopen-pal.so\n"
         "leak:libopen-rte.so\n"
         "leak:libpmix.so\n"
         "leak:libhwloc.so\n"
         "leak:libevent\n"
         "leak:mca_\n";
}

}  // extern "C"
#endif

// ThreadSanitizer (CMake -DEPSIM_SANITIZE=thread): Open MPI's TCP transport
// takes two of its own locks in one order when it adds peers (MPI_Init) and
// in the other when it removes them (MPI_Finalize), on the main thread both
// times, which TSan reports as a potential deadlock. Only reports whose
// stacks are inside Open MPI's components are suppressed; every race or
// lock cycle in epsim's code still fails the run.
#ifdef EPSIM_TSAN
extern "C" const char* __tsan_default_suppressions() {
  return "deadlock:mca_btl_tcp_add_procs\n";
}
#endif
