// Private helpers shared by the trace writer and reader: the format version,
// record framing and checksums, and the checks every token row must pass
// (FORMATS.md). Not part of the API.
#ifndef EPSIM_SIM_TRACE_FORMAT_H_
#define EPSIM_SIM_TRACE_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "sim/base/status.h"
#include "sim/proto/trace.pb.h"

namespace epsim::trace {

// Version written; readers accept kOldestTraceVersion..kTraceVersion.
inline constexpr uint32_t kTraceVersion = 2;
inline constexpr uint32_t kOldestTraceVersion = 1;
// The most experts per layer a trace may have (ValidateHeader): 32 times
// DeepSeek-V3's 256, and few enough that the experts x experts matrices
// readers form (co-activation statistics, placement, synthesis) stay under
// 512 MiB (8,192^2 doubles) instead of failing to allocate.
inline constexpr uint32_t kMaxTraceExperts = 8192;
// Layer ids a trace may hold are below this (ValidateHeader, and the writer
// for every row): 16 times the deepest MoE model's layer count (DeepSeek-V3
// has 61 layers, Qwen3-235B 94), and few enough that what writers and
// readers keep per layer (a pending record, per-layer statistics) stays a
// few MB, however a log numbers its layers.
inline constexpr uint32_t kMaxTraceLayers = 4096;

// Largest message a reader accepts; a bigger length prefix means a corrupt
// stream, not a real record (4096 tokens x 256 candidates is about 6 MB).
inline constexpr uint64_t kMaxMessageBytes = uint64_t{1} << 30;

// Version 2 ends every message with its checksum field: tag byte 0x7d
// (field 15, fixed32) and the CRC-32 of the bytes before it, little endian.
inline constexpr char kChecksumTag = 0x7d;
inline constexpr size_t kChecksumBytes = 5;

// zlib's CRC-32 (ISO-HDLC polynomial) of `bytes`.
uint32_t Crc32(std::string_view bytes);
// Appends the checksum field of the bytes from `from` on (a serialized
// message without one).
void AppendChecksum(std::string* bytes, size_t from = 0);
// Checks that `message` ends with a checksum field matching the bytes before
// it; errors say "checksum missing" or "checksum mismatch (stored .., computed ..)".
Status VerifyChecksum(std::string_view message);

// Number of bytes of `value` as a base-128 varint.
size_t VarintSize(uint64_t value);
// Appends `value` as a base-128 varint.
void AppendVarint(uint64_t value, std::string* out);

// The columns of one LayerRecord, for AppendLayerRecord.
struct RecordColumns {
  uint32_t layer = 0;
  uint64_t step = 0;
  const uint64_t* token_ids = nullptr;
  const uint64_t* sequence_ids = nullptr;
  size_t num_tokens = 0;
  const uint32_t* topk_idx = nullptr;
  size_t num_idx = 0;
  const float* topk_weights = nullptr;
  size_t num_weights = 0;
};

// Bytes of the record as protobuf serializes a LayerRecord holding these
// columns (fields in number order, zero scalars and empty lists omitted,
// lists packed), without its checksum.
size_t LayerRecordSize(const RecordColumns& record);
// Appends exactly those bytes to `out` (the writer's encoder: it skips
// building a proto::LayerRecord; a test holds it to protobuf's bytes).
void AppendLayerRecord(const RecordColumns& record, std::string* out);
// Appends the record as a trace file frames it: length prefix, those
// bytes, the checksum field.
void AppendFramedLayerRecord(const RecordColumns& record, std::string* out);

// Checks one row of num_candidates ids and weights against `header`: ids
// below num_experts, no id repeated among the first num_topk, finite
// weights. `weights` may be null (a trace without scores). Returns BadInput
// with a message such as "expert 300 >= num_experts 256", without location
// (callers add it).
Status CheckRow(const proto::TraceHeader& header, const uint32_t* idx, const float* weights);
// CheckRow's common case without building a Status: true when every id is
// below num_experts, all num_candidates ids differ in their low 6 bits and
// the weights are finite, so the row passes. False says nothing (CheckRow
// decides and words it).
bool RowIsPlain(const proto::TraceHeader& header, const uint32_t* idx, const float* weights);

}  // namespace epsim::trace

#endif  // EPSIM_SIM_TRACE_FORMAT_H_
