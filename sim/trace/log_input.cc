#include "sim/trace/log_input.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "sim/base/output_file.h"
#include "sim/base/fatal_cleanup.h"

namespace epsim::trace {

namespace {

constexpr size_t kReadBytes = size_t{1} << 20;

Status ErrnoError(const std::string& name, const std::string& what) {
  return Status::IoError(fmt::format("{}: {}: {}", name, what, std::strerror(errno)));
}

// read() until `n` bytes or the end, or pread() from `offset` when it is
// given (>= 0); returns bytes read.
Result<size_t> ReadFully(int fd, const std::string& name, char* buf, size_t n,
                         int64_t offset = -1) {
  size_t done = 0;
  while (done < n) {
    const ssize_t got = offset < 0 ? ::read(fd, buf + done, n - done)
                                   : ::pread(fd, buf + done, n - done,
                                             static_cast<off_t>(offset + static_cast<int64_t>(done)));
    if (got < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(name, "read failed");
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  return done;
}

// ---- SIGBUS from a mapped file that shrank ----

std::atomic<int> g_live_mappings{0};
// The file mapped last, for the handler's message (written before its
// first mapping is made, read only by the handler).
char g_mapped_name[4096];
std::atomic<bool> g_have_name{false};

void WriteAll(const char* text, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(STDERR_FILENO, text, n);
    if (w <= 0) return;
    text += w;
    n -= static_cast<size_t>(w);
  }
}

// Only async-signal-safe calls: unlink, write, _exit, sigaction, raise.
void OnSigbus(int sig) {
  if (g_live_mappings.load() == 0) {  // not ours: the default action
    struct sigaction dfl{};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(sig, &dfl, nullptr);
    ::raise(sig);
    return;
  }
  RemoveFatalCleanupFiles();
  static const char kHead[] = "epsim: ";
  static const char kTail[] =
      ": the file shrank while it was being read (it is memory-mapped): stopped, no output "
      "written\n";
  WriteAll(kHead, sizeof kHead - 1);
  if (g_have_name.load()) WriteAll(g_mapped_name, std::strlen(g_mapped_name));
  WriteAll(kTail, sizeof kTail - 1);
  ::_exit(2);
}

void InstallSigbusHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa{};
    sa.sa_handler = OnSigbus;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGBUS, &sa, nullptr);
  });
}

void NameMappedFile(const std::string& name) {
  g_have_name.store(false);
  const size_t n = std::min(name.size(), sizeof g_mapped_name - 1);
  std::memcpy(g_mapped_name, name.data(), n);
  g_mapped_name[n] = '\0';
  g_have_name.store(true);
}

}  // namespace

MappedRegion& MappedRegion::operator=(MappedRegion&& o) noexcept {
  if (this != &o) {
    Reset();
    base_ = o.base_;
    size_ = o.size_;
    o.base_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

void MappedRegion::Set(void* base, size_t size) {
  Reset();
  base_ = base;
  size_ = size;
  g_live_mappings.fetch_add(1);
}

void MappedRegion::Reset() {
  if (base_ == nullptr) return;
  ::munmap(base_, size_);
  base_ = nullptr;
  size_ = 0;
  g_live_mappings.fetch_sub(1);
}

void ByteBuffer::reserve(size_t n) {
  if (n <= capacity_) return;
  std::unique_ptr<char[]> bigger(new char[n]);  // default-initialised: not written
  if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
  data_ = std::move(bigger);
  capacity_ = n;
}

void ByteBuffer::append(std::string_view bytes) {
  const size_t at = size_;
  resize(size_ + bytes.size());
  if (!bytes.empty()) std::memcpy(data_.get() + at, bytes.data(), bytes.size());
}

// Decodes a compressed stream, gzip (any number of members) or zstd (any
// number of frames), straight into the caller's buffer. The magic bytes read
// to tell the format are fed first.
class LogInput::Decoder {
 public:
  Decoder(int fd, std::string name, std::string kind, std::string head)
      : fd_(fd), name_(std::move(name)), kind_(std::move(kind)), in_(std::move(head)) {}
  ~Decoder() {
    if (gz_started_) inflateEnd(&gz_);
    if (zstd_ != nullptr) ZSTD_freeDStream(zstd_);
  }

  // Appends up to `want` decoded bytes to `out`; false at the end of the stream.
  Result<bool> Decode(size_t want, ByteBuffer* out) {
    if (in_pos_ == in_.size() && !in_eof_) EPSIM_RETURN_IF_ERROR(ReadMore());
    const size_t have = out->size();
    out->resize(have + want);
    Result<size_t> got = kind_ == "gzip" ? Inflate(out->data() + have, want)
                                         : Unzstd(out->data() + have, want);
    out->resize(have + (got.ok() ? *got : 0));
    if (!got.ok()) return got.status();
    return !(*got == 0 && in_eof_ && in_pos_ == in_.size());
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

  Result<size_t> Inflate(char* dst, size_t want) {
    if (!gz_started_) {
      std::memset(&gz_, 0, sizeof(gz_));
      if (inflateInit2(&gz_, 15 + 32) != Z_OK)  // +32: gzip or zlib header
        return Status::Internal(name_ + ": cannot start zlib");
      gz_started_ = true;
    }
    if (in_pos_ == in_.size()) {
      if (member_done_) return size_t{0};  // clean end after a whole member
      return Status::BadInput(name_ + ": truncated gzip stream (it ends inside a member)");
    }
    gz_.next_in = reinterpret_cast<Bytef*>(in_.data() + in_pos_);
    gz_.avail_in = static_cast<uInt>(in_.size() - in_pos_);
    gz_.next_out = reinterpret_cast<Bytef*>(dst);
    gz_.avail_out = static_cast<uInt>(want);
    const int rc = inflate(&gz_, Z_NO_FLUSH);
    in_pos_ = in_.size() - gz_.avail_in;
    const size_t got = want - gz_.avail_out;
    if (rc == Z_STREAM_END) {
      member_done_ = true;
      if (inflateReset(&gz_) != Z_OK) return Status::Internal(name_ + ": zlib reset failed");
      return got;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      return Status::BadInput(fmt::format("{}: corrupt gzip stream at compressed byte ~{}: {}",
                                          name_, gz_.total_in, gz_.msg ? gz_.msg : "error"));
    member_done_ = false;
    return got;
  }

  Result<size_t> Unzstd(char* dst, size_t want) {
    if (zstd_ == nullptr) {
      zstd_ = ZSTD_createDStream();
      if (zstd_ == nullptr) return Status::Internal(name_ + ": cannot start zstd");
      ZSTD_initDStream(zstd_);
    }
    if (in_pos_ == in_.size()) {
      if (frame_done_) return size_t{0};
      return Status::BadInput(name_ + ": truncated zstd stream (it ends inside a frame)");
    }
    ZSTD_inBuffer input = {in_.data() + in_pos_, in_.size() - in_pos_, 0};
    ZSTD_outBuffer output = {dst, want, 0};
    const size_t rc = ZSTD_decompressStream(zstd_, &output, &input);
    in_pos_ += input.pos;
    if (ZSTD_isError(rc))
      return Status::BadInput(
          fmt::format("{}: corrupt zstd stream: {}", name_, ZSTD_getErrorName(rc)));
    frame_done_ = rc == 0;
    return output.pos;
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

Result<std::unique_ptr<LogInput>> LogInput::Open(const std::string& path, LogReadMode mode) {
  std::unique_ptr<LogInput> in(new LogInput());
  in->name_ = path == "-" ? "<stdin>" : path;
  if (path == "-") {
    in->fd_ = ::dup(STDIN_FILENO);
    if (in->fd_ < 0) return ErrnoError(in->name_, "cannot read standard input");
  } else {
    EPSIM_RETURN_IF_ERROR(CheckInputPath(path));
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
    in->carry_.assign(head);  // FirstLine() and the read(2) path go on from here
    // A regular file with a size (not /proc's, which say 0) is mapped.
    if (regular && st.st_size > 0 && mode == LogReadMode::kAuto) {
      in->mapped_ = true;
      in->file_size_ = static_cast<uint64_t>(st.st_size);
      NameMappedFile(in->name_);
      InstallSigbusHandler();
    }
  } else {
    in->decoder_ = std::make_unique<Decoder>(in->fd_, in->name_, in->compression_, head);
  }
  return in;
}

LogInput::~LogInput() {
  if (fd_ >= 0) ::close(fd_);
}

Status LogInput::Append(size_t want, ByteBuffer* buf) {
  if (at_end_) return Status::Ok();
  if (decoder_ != nullptr) {
    EPSIM_ASSIGN_OR_RETURN(bool more, decoder_->Decode(want, buf));
    if (!more) at_end_ = true;
    return Status::Ok();
  }
  const size_t have = buf->size();
  buf->resize(have + want);
  EPSIM_ASSIGN_OR_RETURN(size_t got, ReadFully(fd_, name_, buf->data() + have, want));
  buf->resize(have + got);
  if (got < want) at_end_ = true;
  return Status::Ok();
}

Result<std::string> LogInput::FirstLine() {
  while (carry_.view().find('\n') == std::string::npos && !at_end_ &&
         carry_.size() <= kMaxLineBytes)
    EPSIM_RETURN_IF_ERROR(Append(std::max<size_t>(4096, carry_.size()), &carry_));
  const std::string_view carried = carry_.view();
  std::string line(carried.substr(0, carried.find('\n')));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// The next window of about `bytes` of the file, mapped with kChunkPadding
// more and cut behind its last newline (a longer line doubles the window).
// A window that would reach within the padding of the file's end is the
// last chunk, read instead. If mmap fails the rest is read with read(2).
Result<bool> LogInput::NextMapped(size_t bytes, LogChunk* chunk) {
  chunk->mapping.Reset();
  if (map_pos_ >= file_size_) return false;
  static const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  size_t want = std::max<size_t>(bytes, 1);
  while (true) {
    const uint64_t want_end = map_pos_ + want;
    if (want_end + kChunkPadding >= file_size_) return ReadTail(chunk);
    const uint64_t start = map_pos_ / page * page;
    const size_t size = static_cast<size_t>(want_end + kChunkPadding - start);
    void* base = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd_, static_cast<off_t>(start));
    if (base == MAP_FAILED) {
      mapped_ = false;  // read(2) from here on
      carry_.clear();
      at_end_ = false;
      if (::lseek(fd_, static_cast<off_t>(map_pos_), SEEK_SET) < 0)
        return ErrnoError(name_, "cannot seek");
      stream_pos_ = map_pos_;
      return NextChunk(bytes, chunk);
    }
    chunk->mapping.Set(base, size);
    const char* text = chunk->mapping.data() + (map_pos_ - start);
    const void* nl = ::memrchr(text, '\n', want);
    if (nl != nullptr) {
      const size_t n = static_cast<size_t>(static_cast<const char*>(nl) - text) + 1;
      chunk->text = std::string_view(text, n);
      chunk->offset = map_pos_;
      map_pos_ += n;
      stream_pos_ = map_pos_;
      return true;
    }
    chunk->mapping.Reset();
    if (want > kMaxLineBytes)
      return Status::BadInput(fmt::format("{}: a line longer than {} MB (not a routing log?)",
                                          name_, kMaxLineBytes >> 20));
    want *= 2;  // one line longer than the window: a wider one
  }
}

// The rest of a mapped file, read into the chunk's buffer with zeroed
// padding behind it.
Result<bool> LogInput::ReadTail(LogChunk* chunk) {
  ByteBuffer& buf = chunk->storage;
  const size_t n = static_cast<size_t>(file_size_ - map_pos_);
  buf.clear();
  buf.reserve(n + kChunkPadding);
  buf.resize(n);
  EPSIM_ASSIGN_OR_RETURN(size_t got,
                         ReadFully(fd_, name_, buf.data(), n, static_cast<int64_t>(map_pos_)));
  if (got < n)
    return Status::BadInput(fmt::format("{}: the file shrank while it was being read", name_));
  std::memset(buf.data() + n, 0, kChunkPadding);
  chunk->text = buf.view();
  chunk->offset = map_pos_;
  map_pos_ = file_size_;
  stream_pos_ = map_pos_;
  return true;
}

// The partial line left from the previous chunk, then about `bytes` more of
// the log into the chunk's own buffer, cut behind its last newline.
Result<bool> LogInput::NextChunk(size_t bytes, LogChunk* chunk) {
  if (mapped_) return NextMapped(bytes, chunk);
  chunk->mapping.Reset();
  ByteBuffer& buf = chunk->storage;
  buf.assign(carry_.view());
  carry_.clear();
  size_t want = std::max<size_t>(bytes, 1);
  while (true) {
    // A decoder may return less than asked before the end: ask until the
    // chunk holds `want` more bytes or the log ends.
    const size_t target = buf.size() + want;
    while (buf.size() < target && !at_end_) EPSIM_RETURN_IF_ERROR(Append(target - buf.size(), &buf));
    if (buf.empty()) return false;
    if (at_end_) break;
    const size_t nl = buf.view().rfind('\n');
    if (nl != std::string::npos) {
      carry_.assign(buf.view().substr(nl + 1));
      buf.resize(nl + 1);
      break;
    }
    if (buf.size() > kMaxLineBytes)
      return Status::BadInput(fmt::format("{}: a line longer than {} MB (not a routing log?)",
                                          name_, kMaxLineBytes >> 20));
    want = buf.size();  // one line longer than the chunk: read on
  }
  if (buf.capacity() < buf.size() + kChunkPadding) buf.reserve(buf.size() + kChunkPadding);
  std::memset(buf.data() + buf.size(), 0, kChunkPadding);  // defined bytes for simdjson to read
  chunk->text = buf.view();
  chunk->offset = stream_pos_;
  stream_pos_ += buf.size();
  return true;
}

Result<bool> LineReader::Next(std::string_view* line) {
  while (!have_chunk_ || pos_ >= chunk_.text.size()) {
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
