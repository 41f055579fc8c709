#include "sim/trace/format.h"

#include <fmt/format.h>
#include <isa-l/crc.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstring>

namespace epsim::trace {

// The CRC-32 of zlib and gzip (reflected polynomial 0xEDB88320, initial
// and final inversion): ISA-L's crc32_gzip_refl with initial value 0 is
// exactly zlib's crc32(0, ...).
uint32_t Crc32(std::string_view bytes) {
  return crc32_gzip_refl(0, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

void AppendChecksum(std::string* bytes, size_t from) {
  const uint32_t crc = Crc32(std::string_view(*bytes).substr(from));
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
  // 1 + floor(log2(value) / 7), value 0 taking one byte.
  return static_cast<size_t>(9 * (63 - std::countl_zero(value | 1)) + 73) / 64;
}

void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

namespace {

// LayerRecord's wire tags: (field number << 3) | wire type (0 varint, 2 bytes).
constexpr char kLayerTag = 0x08, kTokenIdsTag = 0x12, kSequenceIdsTag = 0x1a,
               kTopkIdxTag = 0x22, kTopkWeightsTag = 0x2a, kStepTag = 0x30;

// Whether every value takes one byte (below 0x80): an OR of them all, which
// the compiler vectorizes (expert ids nearly always are; token ids rarely).
template <typename T>
bool AllOneByte(const T* values, size_t n) {
  T any = 0;
  for (size_t i = 0; i < n; ++i) any |= values[i];
  return any < 0x80;
}

template <typename T>
size_t PackedVarintsSize(const T* values, size_t n) {
  if (AllOneByte(values, n)) return n;
  size_t bytes = 0;
  for (size_t i = 0; i < n; ++i) bytes += VarintSize(values[i]);
  return bytes;
}

char* PutVarint(uint64_t value, char* p) {
  while (value >= 0x80) {
    *p++ = static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  *p++ = static_cast<char>(value);
  return p;
}

template <typename T>
char* PutPackedVarints(char tag, const T* values, size_t n, size_t payload, char* p) {
  if (n == 0) return p;
  *p++ = tag;
  p = PutVarint(payload, p);
  if (payload == n) {  // every value one byte: a narrowing copy
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<char>(values[i]);
    return p + n;
  }
  for (size_t i = 0; i < n; ++i) {
    if (values[i] < 0x80)
      *p++ = static_cast<char>(values[i]);
    else
      p = PutVarint(values[i], p);
  }
  return p;
}

size_t FieldSize(size_t payload, size_t n) { return n == 0 ? 0 : 1 + VarintSize(payload) + payload; }

// The payload sizes of the packed lists, and of the whole record.
struct RecordSizes {
  size_t tokens, sequences, idx, total;
};

RecordSizes SizesOf(const RecordColumns& r) {
  RecordSizes s;
  s.tokens = PackedVarintsSize(r.token_ids, r.num_tokens);
  s.sequences = PackedVarintsSize(r.sequence_ids, r.num_tokens);
  s.idx = PackedVarintsSize(r.topk_idx, r.num_idx);
  s.total = (r.layer != 0 ? 1 + VarintSize(r.layer) : 0) + FieldSize(s.tokens, r.num_tokens) +
            FieldSize(s.sequences, r.num_tokens) + FieldSize(s.idx, r.num_idx) +
            FieldSize(4 * r.num_weights, r.num_weights) +
            (r.step != 0 ? 1 + VarintSize(r.step) : 0);
  return s;
}

void AppendBody(const RecordColumns& r, const RecordSizes& sizes, std::string* out) {
  static_assert(std::endian::native == std::endian::little,
                "fixed32 floats are written as they lie in memory");
  const size_t at = out->size();
  out->resize(at + sizes.total);
  char* p = out->data() + at;
  if (r.layer != 0) {
    *p++ = kLayerTag;
    p = PutVarint(r.layer, p);
  }
  p = PutPackedVarints(kTokenIdsTag, r.token_ids, r.num_tokens, sizes.tokens, p);
  p = PutPackedVarints(kSequenceIdsTag, r.sequence_ids, r.num_tokens, sizes.sequences, p);
  p = PutPackedVarints(kTopkIdxTag, r.topk_idx, r.num_idx, sizes.idx, p);
  if (r.num_weights > 0) {
    *p++ = kTopkWeightsTag;
    p = PutVarint(4 * r.num_weights, p);
    std::memcpy(p, r.topk_weights, 4 * r.num_weights);
    p += 4 * r.num_weights;
  }
  if (r.step != 0) {
    *p++ = kStepTag;
    p = PutVarint(r.step, p);
  }
}

}  // namespace

size_t LayerRecordSize(const RecordColumns& r) { return SizesOf(r).total; }

void AppendLayerRecord(const RecordColumns& r, std::string* out) { AppendBody(r, SizesOf(r), out); }

void AppendFramedLayerRecord(const RecordColumns& r, std::string* out) {
  const RecordSizes sizes = SizesOf(r);
  AppendVarint(sizes.total + kChecksumBytes, out);
  const size_t at = out->size();
  AppendBody(r, sizes, out);
  AppendChecksum(out, at);
}

bool RowIsPlain(const proto::TraceHeader& header, const uint32_t* idx, const float* weights) {
  const uint32_t n = header.num_candidates();
  const uint32_t experts = header.num_experts();
  if (n > 64 || header.num_topk() != n) return false;
  // A 256-bit mask of the ids' low bits: exact for up to 256 experts, so
  // only a real repeat (or, above 256, an id 256 apart) takes the slow scan.
  uint64_t mask[4] = {0, 0, 0, 0};
  for (uint32_t k = 0; k < n; ++k) {
    uint64_t& word = mask[(idx[k] >> 6) & 3];
    const uint64_t bit = uint64_t{1} << (idx[k] & 63);
    // Scores: finite, >= 0, descending (NaN fails the comparisons).
    if (idx[k] >= experts || (word & bit) != 0 ||
        (weights != nullptr && (!(weights[k] >= 0.0f && weights[k] <= FLT_MAX) ||
                                (k > 0 && weights[k] > weights[k - 1]))))
      return false;
    word |= bit;
  }
  return true;
}

Status CheckRow(const proto::TraceHeader& header, const uint32_t* idx, const float* weights) {
  if (RowIsPlain(header, idx, weights)) return Status::Ok();
  for (uint32_t k = 0; k < header.num_candidates(); ++k) {
    if (idx[k] >= header.num_experts())
      return Status::BadInput(
          fmt::format("expert {} >= num_experts {}", idx[k], header.num_experts()));
  }
  // Scores (a row's weights): finite and non-negative, the selected ones in
  // descending order, the other candidates no higher than the lowest
  // selected: what a router's top-k gives.
  if (weights != nullptr) {
    const uint32_t k_sel = header.num_topk();
    for (uint32_t i = 0; i < header.num_candidates(); ++i) {
      if (!std::isfinite(weights[i]) || weights[i] < 0)
        return Status::BadInput(fmt::format("score {} is {} (scores must be finite and >= 0)", i,
                                            weights[i]));
      if (i > 0 && i < k_sel && weights[i] > weights[i - 1])
        return Status::BadInput(fmt::format("selected scores not descending: {} then {}",
                                            weights[i - 1], weights[i]));
      if (i >= k_sel && weights[i] > weights[k_sel - 1])
        return Status::BadInput(fmt::format("candidate {} scores {} above the lowest selected {}",
                                            i, weights[i], weights[k_sel - 1]));
    }
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
