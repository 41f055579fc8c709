// Reading routing logs as they come: a regular file, standard input ("-"),
// or either of them compressed with gzip (zlib) or zstd (libzstd), told by
// their magic bytes, not by the file name.
//
// LogInput hands out the log in chunks of whole lines (NextChunk), each
// readable for kChunkPadding bytes past its end, as simdjson requires, so
// the resident memory of an import stays bounded by the chunks in flight
// whatever the file size. A regular uncompressed file is memory-mapped one
// chunk at a time (each chunk's own window of the file, unmapped when the
// chunk is refilled or destroyed; the file's last chunk is read into a
// buffer, so the padding never lies beyond the end of the file): on the VMs
// this was measured on, copying a page-cached log with read(2) cost 3 to 5
// times the system time of mapping it (experiments/import_bench). Standard
// input, other non-regular files and a file whose mapping fails are read
// with read(2) into buffers the chunks own and reuse; compressed input is
// decoded into them.
//
// A mapped file that shrinks while it is read (truncated by another
// process) makes the next access to a lost page raise SIGBUS: the handler
// installed with the first mapping removes the temporaries registered in
// sim/base/fatal_cleanup.h, names the file on stderr and exits with code 2
// (bad input), so no partial output is left and the process does not dump
// core. A mapped file is read as it was when opened: bytes appended later
// are not read.
#ifndef EPSIM_SIM_TRACE_LOG_INPUT_H_
#define EPSIM_SIM_TRACE_LOG_INPUT_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sim/base/status.h"

namespace epsim::trace {

// Bytes readable past the end of every chunk's text (simdjson's padding).
inline constexpr size_t kChunkPadding = 64;
// Longest line a chunk may hold; a longer one is an error (a log of one
// line without newlines is not a routing log).
inline constexpr size_t kMaxLineBytes = size_t{256} << 20;

// A byte buffer that grows without writing its new bytes (std::string's
// resize zero-fills them, which costs as much as the read(2) that then
// overwrites them: 2.4 GB of memset for a 2.4 GB log).
class ByteBuffer {
 public:
  const char* data() const { return data_.get(); }
  char* data() { return data_.get(); }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {data_.get(), size_}; }
  void clear() { size_ = 0; }
  // Keeps the contents.
  void reserve(size_t n);
  // Grows or shrinks to `n` bytes; new bytes are uninitialised.
  void resize(size_t n) {
    if (n > capacity_) reserve(std::max(n, capacity_ * 2));
    size_ = n;
  }
  void assign(std::string_view bytes) {
    size_ = 0;
    append(bytes);
  }
  void append(std::string_view bytes);

 private:
  std::unique_ptr<char[]> data_;
  size_t size_ = 0, capacity_ = 0;
};

// A window of a memory-mapped file, unmapped on Reset() and destruction.
class MappedRegion {
 public:
  MappedRegion() = default;
  ~MappedRegion() { Reset(); }
  MappedRegion(const MappedRegion&) = delete;
  MappedRegion& operator=(const MappedRegion&) = delete;
  MappedRegion(MappedRegion&& o) noexcept : base_(o.base_), size_(o.size_) {
    o.base_ = nullptr;
    o.size_ = 0;
  }
  MappedRegion& operator=(MappedRegion&& o) noexcept;

  // Takes ownership of the mapping at `base` of `size` bytes.
  void Set(void* base, size_t size);
  void Reset();
  const char* data() const { return static_cast<const char*>(base_); }
  bool mapped() const { return base_ != nullptr; }

 private:
  void* base_ = nullptr;
  size_t size_ = 0;
};

struct LogChunk {
  std::string_view text;  // whole lines (the last may lack its newline)
  ByteBuffer storage;     // the buffer text points into, unless mapped
  MappedRegion mapping;   // the file window text points into, if mapped
  uint64_t offset = 0;    // of text within the (decompressed) log
};

// How a regular uncompressed file is read: kAuto maps it (see above),
// kRead copies it with read(2) as a pipe is (tests compare the two).
enum class LogReadMode { kAuto, kRead };

class LogInput {
 public:
  // Opens `path` ("-" = standard input). Missing files are NotFound.
  static Result<std::unique_ptr<LogInput>> Open(const std::string& path,
                                                LogReadMode mode = LogReadMode::kAuto);
  ~LogInput();
  LogInput(const LogInput&) = delete;
  LogInput& operator=(const LogInput&) = delete;

  // "path" as given, or "<stdin>".
  const std::string& name() const { return name_; }
  // "" (none), "gzip" or "zstd".
  const std::string& compression() const { return compression_; }
  // Bytes of the file on disk (compressed size), 0 when unknown (a pipe).
  uint64_t disk_bytes() const { return disk_bytes_; }

  // The first line of the (decompressed) log, without its newline; does not
  // consume anything. "" for an empty log.
  Result<std::string> FirstLine();

  // Fills `chunk` with the next whole lines, about `bytes` of them (more
  // when one line is longer). False at the end of the log.
  Result<bool> NextChunk(size_t bytes, LogChunk* chunk);

 private:
  class Decoder;
  LogInput() = default;
  // Appends up to `want` more bytes of the log to `buf` (read, or decoded);
  // sets at_end_ when the log ends.
  Status Append(size_t want, ByteBuffer* buf);
  // NextChunk of a mapped file; the file's last chunk is read by ReadTail.
  Result<bool> NextMapped(size_t bytes, LogChunk* chunk);
  Result<bool> ReadTail(LogChunk* chunk);

  std::string name_;
  std::string compression_;
  int fd_ = -1;
  uint64_t disk_bytes_ = 0;
  std::unique_ptr<Decoder> decoder_;  // compressed input only
  ByteBuffer carry_;  // bytes read past the last chunk's end (a partial line)
  bool at_end_ = false;
  uint64_t stream_pos_ = 0;
  // Mapped reading: the file's size when opened and the next chunk's offset.
  bool mapped_ = false;
  uint64_t file_size_ = 0;
  uint64_t map_pos_ = 0;
};

// The lines of a LogInput one at a time (the CSV importers).
class LineReader {
 public:
  explicit LineReader(LogInput* in) : in_(in) {}
  // The next line without its newline (a '\r' before it is kept); false at
  // the end. The view lives until the next call.
  Result<bool> Next(std::string_view* line);

 private:
  LogInput* in_;
  LogChunk chunk_;
  size_t pos_ = 0;
  bool have_chunk_ = false;
};

}  // namespace epsim::trace

#endif  // EPSIM_SIM_TRACE_LOG_INPUT_H_
