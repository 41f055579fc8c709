// Sanitizer defaults of epsim-hw, compiled in only where AddressSanitizer is
// (CMake -DEPSIM_SANITIZE=address, or any -fsanitize=address build); the
// ASAN_OPTIONS and LSAN_OPTIONS of the environment still come after them.
//
// Open MPI keeps allocations of MPI_Init (its components, PMIx and libevent
// state) after MPI_Finalize by design, in libraries that are not built with
// frame pointers: with ASan's fast unwinder their stacks stop inside a
// component that MPI_Finalize has unloaded, so no suppression can name
// them. epsim-hw allocates little, so it unwinds every allocation with the
// slow, exact unwinder, and suppresses leaks whose stack passes through
// Open MPI's libraries and components. A leak whose stack stays in epsim's
// code is still reported, and fails the run. The suppressions need the
// default stack depth (malloc_context_size=30): an ASAN_OPTIONS that cuts
// it to 10 stops some stacks before they reach Open MPI's frames.
#if defined(__SANITIZE_ADDRESS__)
#define EPSIM_HW_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EPSIM_HW_ASAN 1
#endif
#endif

#ifdef EPSIM_HW_ASAN
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
