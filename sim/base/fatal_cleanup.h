// Files to remove when the process must stop at once from a signal handler
// (for instance a memory-mapped input file that shrank while it was read
// raises SIGBUS): the temporaries of unfinished outputs, so that such a
// stop leaves no partial file behind either.
//
// AddFatalCleanup / RemoveFatalCleanup are called by normal code (thread
// safe); RemoveFatalCleanupFiles only uses unlink(2) and may be called from
// a signal handler.
#ifndef EPSIM_SIM_BASE_FATAL_CLEANUP_H_
#define EPSIM_SIM_BASE_FATAL_CLEANUP_H_

#include <string>

namespace epsim {

// Registers `path`; false (and nothing registered) when the table is full
// (16 paths) or the path is longer than 4095 bytes.
bool AddFatalCleanup(const std::string& path);
void RemoveFatalCleanup(const std::string& path);
void RemoveFatalCleanupFiles();

}  // namespace epsim

#endif  // EPSIM_SIM_BASE_FATAL_CLEANUP_H_
