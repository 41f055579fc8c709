#include "hw/common/backend.h"

#include <chrono>

namespace epsim::hw {

size_t DTypeBytes(DType t) { return t == DType::kF32 ? 4 : 2; }
const char* DTypeName(DType t) { return t == DType::kF32 ? "fp32" : "bf16"; }

double Backend::NowS() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace epsim::hw
