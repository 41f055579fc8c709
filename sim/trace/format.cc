#include "sim/trace/format.h"

#include <fmt/format.h>
#include <zlib.h>

#include <cmath>

namespace epsim::trace {

uint32_t Crc32(std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32_z(0L, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

void AppendChecksum(std::string* bytes) {
  const uint32_t crc = Crc32(*bytes);
  bytes->push_back(kChecksumTag);
  for (int i = 0; i < 4; ++i) bytes->push_back(static_cast<char>(crc >> (8 * i) & 0xff));
}

Status VerifyChecksum(std::string_view message) {
  if (message.size() < kChecksumBytes || message[message.size() - kChecksumBytes] != kChecksumTag)
    return Status::BadInput("checksum missing (a version-2 message ends with its checksum)");
  uint32_t stored = 0;
  for (int i = 0; i < 4; ++i)
    stored |= uint32_t{static_cast<unsigned char>(message[message.size() - 4 + i])} << (8 * i);
  const uint32_t computed = Crc32(message.substr(0, message.size() - kChecksumBytes));
  if (stored != computed)
    return Status::BadInput(fmt::format("checksum mismatch (stored {:08x}, computed {:08x})",
                                        stored, computed));
  return Status::Ok();
}

size_t VarintSize(uint64_t value) {
  size_t n = 1;
  while (value >= 0x80) value >>= 7, ++n;
  return n;
}

void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

Status CheckRow(const proto::TraceHeader& header, const uint32_t* idx, const float* weights) {
  for (uint32_t k = 0; k < header.num_candidates(); ++k) {
    if (idx[k] >= header.num_experts())
      return Status::BadInput(
          fmt::format("expert {} >= num_experts {}", idx[k], header.num_experts()));
    if (weights != nullptr && !std::isfinite(weights[k]))
      return Status::BadInput(fmt::format("weight of expert {} is not finite", idx[k]));
  }
  // Top-k is small (2..16 in practice): a 64-bit mask of the ids' low bits
  // clears most rows at once; only a collision needs the quadratic scan.
  uint64_t mask = 0;
  bool collision = false;
  for (uint32_t k = 0; k < header.num_topk(); ++k) {
    const uint64_t bit = uint64_t{1} << (idx[k] & 63);
    collision = collision || (mask & bit) != 0;
    mask |= bit;
  }
  if (!collision) return Status::Ok();
  for (uint32_t k = 1; k < header.num_topk(); ++k) {
    for (uint32_t j = 0; j < k; ++j) {
      if (idx[j] == idx[k])
        return Status::BadInput(fmt::format("expert {} selected twice", idx[k]));
    }
  }
  return Status::Ok();
}

}  // namespace epsim::trace
