// LogInput: a regular file read through per-chunk memory maps gives the same
// bytes, cut at the same kind of places, as the read(2) path; the padding
// past every chunk is readable; a mapped file that shrinks stops the process
// with a message and exit code 2, its registered temporaries removed.
#include "sim/trace/log_input.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "sim/base/fatal_cleanup.h"
#include "tests/sim/trace/test_util.h"

namespace epsim::trace {
namespace {

struct Chunks {
  std::string bytes;  // every chunk's text, in order
  size_t chunks = 0;
  size_t mapped = 0;  // chunks that came from a mapping
};

// Reads every chunk, checks each ends at a newline (the last may not) and
// that its padding is readable (with the sanitizers, reading it faults
// if it is not mapped or allocated).
Chunks ReadAll(const std::string& path, LogReadMode mode, size_t chunk_bytes) {
  Chunks out;
  auto in = LogInput::Open(path, mode);
  EXPECT_TRUE(in.ok()) << in.status().message();
  if (!in.ok()) return out;
  LogChunk chunk;
  while (true) {
    Result<bool> more = (*in)->NextChunk(chunk_bytes, &chunk);
    EXPECT_TRUE(more.ok()) << more.status().message();
    if (!more.ok() || !*more) break;
    EXPECT_FALSE(chunk.text.empty());
    EXPECT_EQ(chunk.offset, out.bytes.size());
    volatile char sink = 0;
    for (size_t i = 0; i < kChunkPadding; ++i) sink = sink + chunk.text.data()[chunk.text.size() + i];
    out.bytes += chunk.text;
    ++out.chunks;
    if (chunk.mapping.mapped()) ++out.mapped;
    if (chunk.text.back() != '\n') {
      EXPECT_EQ(chunk.offset + chunk.text.size(), std::filesystem::file_size(path))
          << "only the last chunk may end without a newline";
    }
  }
  return out;
}

std::string Lines(std::mt19937_64& rng, size_t bytes, size_t max_line) {
  std::string s;
  while (s.size() < bytes) {
    const size_t n = 1 + rng() % max_line;
    for (size_t i = 0; i < n; ++i) s += static_cast<char>('a' + rng() % 26);
    s += '\n';
  }
  s.resize(bytes);
  return s;
}

TEST(LogInput, MappedAndReadGiveTheSameBytes) {
  ScopedTempDir dir;
  std::mt19937_64 rng(20261203);
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  // Sizes around the page and the padding, with and without a final newline.
  std::vector<size_t> sizes = {1, 63, 64, 65, page - 65, page - 64, page - 1, page, page + 1,
                               3 * page, 3 * page + 17, 100000};
  for (size_t size : sizes) {
    for (size_t max_line : {size_t{10}, size_t{300}, size_t{5000}}) {
      for (bool final_newline : {true, false}) {
        std::string text = Lines(rng, size, max_line);
        text.back() = final_newline ? '\n' : 'z';
        const std::string path = dir.Write("log.jsonl", text);
        for (size_t chunk_bytes : {size_t{1}, size_t{100}, page, size_t{64} << 10}) {
          SCOPED_TRACE(::testing::Message() << "size " << size << " lines up to " << max_line
                                            << " chunk " << chunk_bytes);
          const Chunks mapped = ReadAll(path, LogReadMode::kAuto, chunk_bytes);
          const Chunks read = ReadAll(path, LogReadMode::kRead, chunk_bytes);
          EXPECT_EQ(mapped.bytes, text);
          EXPECT_EQ(read.bytes, text);
          EXPECT_EQ(read.mapped, 0u);
          // A file with room for a chunk and its padding before its end is
          // mapped, not read.
          if (size > 2 * (max_line + 1) + chunk_bytes + kChunkPadding) {
            EXPECT_GT(mapped.mapped, 0u);
          }
        }
      }
    }
  }
}

// A line longer than the chunk widens the window until it fits.
TEST(LogInput, MappedLineLongerThanTheChunk) {
  ScopedTempDir dir;
  const std::string text = std::string(10000, 'x') + "\n" + std::string(70000, 'y') + "\nend\n" +
                           std::string(5000, 'z') + "\n";
  const std::string path = dir.Write("long.jsonl", text);
  const Chunks mapped = ReadAll(path, LogReadMode::kAuto, 100);
  EXPECT_EQ(mapped.bytes, text);
  EXPECT_GE(mapped.chunks, 2u);
  EXPECT_GT(mapped.mapped, 0u);
}

// Another process truncating the log while it is mapped: SIGBUS at the
// next access, turned into a message and exit code 2, the temporaries
// registered for removal gone.
TEST(LogInputDeathTest, MappedFileThatShrinksStopsWithExitCode2) {
  ScopedTempDir dir;
  std::mt19937_64 rng(7);
  const std::string path = dir.Write("shrinks.jsonl", Lines(rng, 1 << 20, 200));
  const std::string temp = dir.Write("out.trace.tmp.1", "partial");
  auto in = LogInput::Open(path);
  ASSERT_TRUE(in.ok());
  LogChunk chunk;
  Result<bool> more = (*in)->NextChunk(size_t{256} << 10, &chunk);
  ASSERT_TRUE(more.ok() && *more);
  ASSERT_TRUE(chunk.mapping.mapped());
  ASSERT_TRUE(AddFatalCleanup(temp));
  EXPECT_EXIT(
      {
        ASSERT_EQ(::truncate(path.c_str(), 0), 0);
        volatile char sink = 0;
        for (char c : chunk.text) sink = sink + c;
      },
      ::testing::ExitedWithCode(2), "shrinks.jsonl: the file shrank while it was being read");
  RemoveFatalCleanup(temp);
  EXPECT_FALSE(std::filesystem::exists(temp)) << "the child removes the registered temporary";
}

}  // namespace
}  // namespace epsim::trace
