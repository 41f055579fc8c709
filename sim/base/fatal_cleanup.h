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

// Registers `path` (a file, or an empty directory to remove after the files
// registered before it); false (and nothing registered) when the table is
// full (64 paths) or the path is longer than 4095 bytes.
bool AddFatalCleanup(const std::string& path);
void RemoveFatalCleanup(const std::string& path);
void RemoveFatalCleanupFiles();

// Installs handlers for SIGINT, SIGTERM, SIGHUP and SIGPIPE that remove the
// registered paths, then end the process by the same signal (its default
// action), so an interrupted run leaves no temporary behind. Once per
// process; main() calls it.
void InstallInterruptCleanup();

// Removes the temporaries `path` + ".tmp." + PID (and ".tmp2.") that a run
// killed outright (SIGKILL, a power cut) left beside `path`, when no
// process with that PID is alive. Writers call it before making their own.
void RemoveStaleTemporaries(const std::string& path);

}  // namespace epsim

#endif  // EPSIM_SIM_BASE_FATAL_CLEANUP_H_
