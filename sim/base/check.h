// EPSIM_CHECK: an assertion for programmer errors that stays on in release
// builds and names file:line. Bad input is never checked this way: it gets a
// Status (status.h).
#ifndef EPSIM_SIM_BASE_CHECK_H_
#define EPSIM_SIM_BASE_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define EPSIM_CHECK(cond)                                                     \
  do {                                                                        \
    if (!(cond)) {                                                            \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,  \
                   #cond);                                                    \
      std::abort();                                                           \
    }                                                                         \
  } while (0)

#endif  // EPSIM_SIM_BASE_CHECK_H_
