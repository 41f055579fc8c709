#include "sim/trace/log_input.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace epsim::trace {

namespace {

constexpr size_t kReadBytes = size_t{1} << 20;

Status ErrnoError(const std::string& name, const std::string& what) {
  return Status::IoError(fmt::format("{}: {}: {}", name, what, std::strerror(errno)));
}

// read() until `n` bytes or the end; returns bytes read.
Result<size_t> ReadFully(int fd, const std::string& name, char* buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    const ssize_t got = ::read(fd, buf + done, n - done);
    if (got < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(name, "read failed");
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  return done;
}

}  // namespace

// Decodes a byte stream: raw, gzip (any number of members) or zstd (any
// number of frames). Raw bytes read before the format was known are fed
// first.
class LogInput::Decoder {
 public:
  Decoder(int fd, std::string name, std::string kind, std::string head)
      : fd_(fd), name_(std::move(name)), kind_(std::move(kind)), in_(std::move(head)) {}
  ~Decoder() {
    if (kind_ == "gzip" && gz_started_) inflateEnd(&gz_);
    if (zstd_ != nullptr) ZSTD_freeDStream(zstd_);
  }

  // Appends decoded bytes to `out`; false at the end of the stream.
  Result<bool> Decode(std::string* out) {
    if (in_pos_ == in_.size() && !in_eof_) EPSIM_RETURN_IF_ERROR(ReadMore());
    if (kind_.empty()) {
      if (in_pos_ == in_.size()) return false;
      out->append(in_, in_pos_, std::string::npos);
      in_pos_ = in_.size();
      return true;
    }
    if (kind_ == "gzip") return Inflate(out);
    return Unzstd(out);
  }

 private:
  Status ReadMore() {
    in_.resize(kReadBytes);
    EPSIM_ASSIGN_OR_RETURN(size_t got, ReadFully(fd_, name_, in_.data(), in_.size()));
    in_.resize(got);
    in_pos_ = 0;
    if (got == 0) in_eof_ = true;
    return Status::Ok();
  }

  Result<bool> Inflate(std::string* out) {
    if (!gz_started_) {
      std::memset(&gz_, 0, sizeof(gz_));
      if (inflateInit2(&gz_, 15 + 32) != Z_OK)  // +32: gzip or zlib header
        return Status::Internal(name_ + ": cannot start zlib");
      gz_started_ = true;
    }
    if (in_pos_ == in_.size()) {
      if (member_done_) return false;  // clean end after a whole member
      return Status::BadInput(name_ + ": truncated gzip stream (it ends inside a member)");
    }
    std::vector<char> buf(kReadBytes);
    gz_.next_in = reinterpret_cast<Bytef*>(in_.data() + in_pos_);
    gz_.avail_in = static_cast<uInt>(in_.size() - in_pos_);
    gz_.next_out = reinterpret_cast<Bytef*>(buf.data());
    gz_.avail_out = static_cast<uInt>(buf.size());
    const int rc = inflate(&gz_, Z_NO_FLUSH);
    in_pos_ = in_.size() - gz_.avail_in;
    out->append(buf.data(), buf.size() - gz_.avail_out);
    if (rc == Z_STREAM_END) {
      member_done_ = true;
      if (inflateReset(&gz_) != Z_OK) return Status::Internal(name_ + ": zlib reset failed");
      return true;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      return Status::BadInput(fmt::format("{}: corrupt gzip stream at compressed byte ~{}: {}",
                                          name_, gz_.total_in, gz_.msg ? gz_.msg : "error"));
    member_done_ = false;
    return true;
  }

  Result<bool> Unzstd(std::string* out) {
    if (zstd_ == nullptr) {
      zstd_ = ZSTD_createDStream();
      if (zstd_ == nullptr) return Status::Internal(name_ + ": cannot start zstd");
      ZSTD_initDStream(zstd_);
    }
    if (in_pos_ == in_.size()) {
      if (frame_done_) return false;
      return Status::BadInput(name_ + ": truncated zstd stream (it ends inside a frame)");
    }
    std::vector<char> buf(ZSTD_DStreamOutSize() * 4);
    ZSTD_inBuffer input = {in_.data() + in_pos_, in_.size() - in_pos_, 0};
    ZSTD_outBuffer output = {buf.data(), buf.size(), 0};
    const size_t rc = ZSTD_decompressStream(zstd_, &output, &input);
    in_pos_ += input.pos;
    if (ZSTD_isError(rc))
      return Status::BadInput(
          fmt::format("{}: corrupt zstd stream: {}", name_, ZSTD_getErrorName(rc)));
    out->append(buf.data(), output.pos);
    frame_done_ = rc == 0;
    return true;
  }

  int fd_;
  std::string name_;
  std::string kind_;
  std::string in_;
  size_t in_pos_ = 0;
  bool in_eof_ = false;
  z_stream gz_{};
  bool gz_started_ = false;
  bool member_done_ = false;
  ZSTD_DStream* zstd_ = nullptr;
  bool frame_done_ = false;
};

Result<std::unique_ptr<LogInput>> LogInput::Open(const std::string& path) {
  std::unique_ptr<LogInput> in(new LogInput());
  in->name_ = path == "-" ? "<stdin>" : path;
  if (path == "-") {
    in->fd_ = ::dup(STDIN_FILENO);
    if (in->fd_ < 0) return ErrnoError(in->name_, "cannot read standard input");
  } else {
    in->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (in->fd_ < 0)
      return Status::NotFound(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  struct stat st{};
  if (::fstat(in->fd_, &st) != 0) return ErrnoError(in->name_, "cannot stat");
  if (S_ISDIR(st.st_mode)) return Status::BadInput(in->name_ + ": is a directory");
  const bool regular = S_ISREG(st.st_mode);
  if (regular) in->disk_bytes_ = static_cast<uint64_t>(st.st_size);
  // Magic bytes: gzip 1f 8b, zstd 28 b5 2f fd.
  std::string head(4, '\0');
  EPSIM_ASSIGN_OR_RETURN(size_t got, ReadFully(in->fd_, in->name_, head.data(), head.size()));
  head.resize(got);
  const auto byte = [&head](size_t i) { return static_cast<unsigned char>(head[i]); };
  if (got >= 2 && byte(0) == 0x1f && byte(1) == 0x8b) {
    in->compression_ = "gzip";
  } else if (got >= 4 && byte(0) == 0x28 && byte(1) == 0xb5 && byte(2) == 0x2f &&
             byte(3) == 0xfd) {
    in->compression_ = "zstd";
  }
  if (regular) ::posix_fadvise(in->fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  if (in->compression_.empty()) {
    // Uncompressed: read(2) straight into each chunk's buffer (measured
    // cheaper than faulting a memory map in, and the buffers are reused).
    in->carry_ = head;
    return in;
  }
  in->decoder_ = std::make_unique<Decoder>(in->fd_, in->name_, in->compression_, head);
  return in;
}

LogInput::~LogInput() {
  if (map_ != nullptr) ::munmap(const_cast<char*>(map_), map_bytes_);
  if (fd_ >= 0) ::close(fd_);
}

Status LogInput::Fill(size_t want) {
  while (buffered_.size() < want && !at_end_) {
    EPSIM_ASSIGN_OR_RETURN(bool more, decoder_->Decode(&buffered_));
    if (!more) at_end_ = true;
  }
  return Status::Ok();
}

Result<std::string> LogInput::FirstLine() {
  std::string_view text;
  if (map_ != nullptr) {
    text = std::string_view(map_, map_bytes_);
  } else if (decoder_ == nullptr) {
    while (carry_.find('\n') == std::string::npos && !at_end_ && carry_.size() <= kMaxLineBytes) {
      const size_t have = carry_.size();
      const size_t want = std::max<size_t>(4096, have);
      carry_.resize(have + want);
      EPSIM_ASSIGN_OR_RETURN(size_t got, ReadFully(fd_, name_, carry_.data() + have, want));
      carry_.resize(have + got);
      if (got < want) at_end_ = true;
    }
    text = carry_;
  } else {
    size_t want = 4096;
    while (true) {
      EPSIM_RETURN_IF_ERROR(Fill(want));
      if (buffered_.find('\n') != std::string::npos || at_end_ || want > kMaxLineBytes) break;
      want *= 2;
    }
    text = buffered_;
  }
  const size_t nl = text.find('\n');
  std::string line(text.substr(0, nl));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

Result<bool> LogInput::NextChunk(size_t bytes, LogChunk* chunk) {
  chunk->storage.clear();
  if (decoder_ == nullptr && map_ == nullptr) return NextRawChunk(bytes, chunk);
  if (map_ != nullptr) {
    if (map_pos_ >= map_bytes_) return false;
    size_t end = std::min(map_bytes_, map_pos_ + bytes);
    if (end < map_bytes_) {
      const void* nl = std::memchr(map_ + end, '\n', map_bytes_ - end);
      end = nl == nullptr ? map_bytes_ : static_cast<const char*>(nl) - map_ + 1;
    }
    chunk->offset = map_pos_;
    if (end + kChunkPadding > map_bytes_) {
      // The map may end right behind the last line: copy it, padded.
      chunk->storage.reserve(end - map_pos_ + kChunkPadding);
      chunk->storage.assign(map_ + map_pos_, end - map_pos_);
      chunk->text = chunk->storage;
    } else {
      chunk->text = std::string_view(map_ + map_pos_, end - map_pos_);
    }
    map_pos_ = end;
    return true;
  }
  EPSIM_RETURN_IF_ERROR(Fill(bytes));
  if (buffered_.empty()) return false;
  size_t end = buffered_.size();
  if (!at_end_) {
    // Cut behind the last newline; a line longer than the buffer grows it.
    size_t nl = buffered_.rfind('\n');
    while (nl == std::string::npos && !at_end_) {
      if (buffered_.size() > kMaxLineBytes)
        return Status::BadInput(fmt::format("{}: a line longer than {} MB (not a routing log?)",
                                            name_, kMaxLineBytes >> 20));
      EPSIM_RETURN_IF_ERROR(Fill(buffered_.size() * 2));
      nl = buffered_.rfind('\n');
    }
    end = nl == std::string::npos ? buffered_.size() : nl + 1;
  }
  chunk->storage.reserve(end + kChunkPadding);
  chunk->storage.assign(buffered_, 0, end);
  buffered_.erase(0, end);
  chunk->text = chunk->storage;
  chunk->offset = stream_pos_;
  stream_pos_ += end;
  return true;
}

// Uncompressed input: the partial line left from the previous chunk, then
// read(2) into the chunk's own buffer, cut behind its last newline.
Result<bool> LogInput::NextRawChunk(size_t bytes, LogChunk* chunk) {
  std::string& buf = chunk->storage;
  buf.assign(carry_);
  carry_.clear();
  size_t want = std::max<size_t>(bytes, 1);
  while (true) {
    const size_t have = buf.size();
    if (!at_end_) {
      buf.resize(have + want + kChunkPadding);
      EPSIM_ASSIGN_OR_RETURN(size_t got, ReadFully(fd_, name_, buf.data() + have, want));
      buf.resize(have + got);
      if (got < want) at_end_ = true;
    }
    if (buf.empty()) return false;
    if (at_end_) break;
    const size_t nl = buf.rfind('\n');
    if (nl != std::string::npos) {
      carry_.assign(buf, nl + 1, std::string::npos);
      buf.resize(nl + 1);
      break;
    }
    if (buf.size() > kMaxLineBytes)
      return Status::BadInput(fmt::format("{}: a line longer than {} MB (not a routing log?)",
                                          name_, kMaxLineBytes >> 20));
    want = buf.size();  // one line longer than the chunk: read on
  }
  if (buf.capacity() < buf.size() + kChunkPadding) buf.reserve(buf.size() + kChunkPadding);
  chunk->text = buf;
  chunk->offset = stream_pos_;
  stream_pos_ += buf.size();
  return true;
}

void LogInput::Release(const LogChunk& chunk) {
  if (map_ == nullptr || !chunk.storage.empty()) return;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t begin = (chunk.offset + page - 1) / page * page;
  const size_t end = (chunk.offset + chunk.text.size()) / page * page;
  if (end > begin) ::madvise(const_cast<char*>(map_) + begin, end - begin, MADV_DONTNEED);
}

Result<bool> LineReader::Next(std::string_view* line) {
  while (!have_chunk_ || pos_ >= chunk_.text.size()) {
    if (have_chunk_) in_->Release(chunk_);
    EPSIM_ASSIGN_OR_RETURN(have_chunk_, in_->NextChunk(size_t{1} << 20, &chunk_));
    pos_ = 0;
    if (!have_chunk_) return false;
  }
  const std::string_view text = chunk_.text;
  size_t nl = text.find('\n', pos_);
  if (nl == std::string_view::npos) nl = text.size();
  *line = text.substr(pos_, nl - pos_);
  pos_ = nl + 1;
  return true;
}

}  // namespace epsim::trace
