#include "sim/base/fatal_cleanup.h"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>

namespace epsim {

namespace {

constexpr int kSlots = 16;
constexpr size_t kPathBytes = 4096;

// A slot's path is written while it is free, then published by `used`
// (release); the handler reads only published slots (acquire).
struct Slot {
  std::atomic<bool> used{false};
  char path[kPathBytes];
};

Slot g_slots[kSlots];
std::mutex g_mu;  // serializes Add/Remove (never taken by the handler)

}  // namespace

bool AddFatalCleanup(const std::string& path) {
  if (path.size() >= kPathBytes) return false;
  std::lock_guard<std::mutex> lock(g_mu);
  for (Slot& s : g_slots) {
    if (s.used.load(std::memory_order_relaxed)) continue;
    std::memcpy(s.path, path.c_str(), path.size() + 1);
    s.used.store(true, std::memory_order_release);
    return true;
  }
  return false;
}

void RemoveFatalCleanup(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_mu);
  for (Slot& s : g_slots) {
    if (s.used.load(std::memory_order_relaxed) && path == s.path) {
      s.used.store(false, std::memory_order_release);
      return;
    }
  }
}

void RemoveFatalCleanupFiles() {
  for (Slot& s : g_slots)
    if (s.used.load(std::memory_order_acquire)) ::unlink(s.path);
}

}  // namespace epsim
