// Which sanitizer this translation unit is built with, for the few places
// that must behave differently under one (CMake -DEPSIM_SANITIZE=address|
// thread, or any -fsanitize=address|thread build): EPSIM_ASAN and EPSIM_TSAN
// are defined to 1 then. gcc says so with __SANITIZE_*__, clang with
// __has_feature.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define EPSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EPSIM_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define EPSIM_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EPSIM_TSAN 1
#endif
#endif
