// The reference rates for the import benchmark (bench.py): how fast this
// machine reads a routing log, and how fast simdjson alone parses it, with
// nothing else done, on T threads. Each thread parses a contiguous part of
// the memory-mapped file (cut at newlines) line by line and reads the route
// fields (layer, req_id, token_idx, topk_ids, topk_weights) into locals,
// summed into a checksum so that nothing is optimised away. Two simdjson
// APIs, as the fastest one differs by machine: DOM (every line fully
// validated; run-time dispatch to the CPU's best kernel) and On-Demand
// (parses only what is read; its stage 1 is run-time dispatched, its value
// parsing compiled for the build's target CPU).
//
// usage: parse_rate LOG [THREADS] [--ondemand]   parse rate, rows/s and MB/s
//        parse_rate LOG --read                   read(2) rate of the file, MB/s
#include <fcntl.h>
#include <simdjson.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Part {
  const char* begin;
  const char* end;
  uint64_t rows = 0;
  uint64_t checksum = 0;
  bool failed = false;
};

// Calls parse(data, len) for every non-empty line of `part`, each readable
// SIMDJSON_PADDING bytes past its end (copied when the map may end there);
// stops when parse returns false.
template <typename Parse>
void ForEachLine(const char* file_end, const Part& part, Parse parse) {
  std::string padded;
  for (const char* p = part.begin; p < part.end;) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', part.end - p));
    const char* line_end = nl == nullptr ? part.end : nl;
    const size_t len = static_cast<size_t>(line_end - p);
    const char* data = p;
    if (line_end + simdjson::SIMDJSON_PADDING > file_end) {  // the map may end here
      padded.assign(p, len);
      padded.reserve(len + simdjson::SIMDJSON_PADDING);
      data = padded.data();
    }
    p = line_end + 1;
    if (len > 0 && !parse(data, len)) return;
  }
}

// The route fields of one key/value pair (layer, token_idx, req_id,
// topk_ids, topk_weights), summed into a checksum; the same code for DOM
// and On-Demand values, whose accessors share their names.
template <typename Value>
uint64_t FieldSum(std::string_view key, Value value) {
  uint64_t sum = 0;
  if (key == "layer" || key == "token_idx") {
    uint64_t v = 0;
    if (value.get_uint64().get(v) == simdjson::SUCCESS) sum += v;
  } else if (key == "req_id") {
    std::string_view s;
    if (value.get_string().get(s) == simdjson::SUCCESS) sum += s.size();
  } else if (key == "topk_ids" || key == "topk_weights") {
    const bool ids = key == "topk_ids";
    auto array = value.get_array();
    if (array.error() != simdjson::SUCCESS) return 0;
    for (auto e : array) {
      if (ids) {
        uint64_t v = 0;
        if (e.get_uint64().get(v) == simdjson::SUCCESS) sum += v;
      } else {
        double v = 0;
        if (e.get_double().get(v) == simdjson::SUCCESS) sum += static_cast<uint64_t>(v * 1e6);
      }
    }
  }
  return sum;
}

void ParsePartDom(const char* file_end, Part* part) {
  simdjson::dom::parser parser;
  ForEachLine(file_end, *part, [&](const char* data, size_t len) {
    simdjson::dom::element doc;
    if (parser.parse(data, len, false).get(doc) != simdjson::SUCCESS) {
      part->failed = true;
      return false;
    }
    simdjson::dom::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) return true;
    uint64_t sum = 0;
    for (auto [key, value] : obj) sum += FieldSum(key, value);
    part->checksum += sum;
    ++part->rows;
    return true;
  });
}

void ParsePartOnDemand(const char* file_end, Part* part) {
  simdjson::ondemand::parser parser;
  ForEachLine(file_end, *part, [&](const char* data, size_t len) {
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    if (parser.iterate(data, len, len + simdjson::SIMDJSON_PADDING).get(doc) != simdjson::SUCCESS ||
        doc.get_object().get(obj) != simdjson::SUCCESS) {
      part->failed = true;
      return false;
    }
    uint64_t sum = 0;
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
        part->failed = true;
        return false;
      }
      sum += FieldSum(key, field.value());
    }
    part->checksum += sum;
    ++part->rows;
    return true;
  });
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help") {
    std::fprintf(stderr, "usage: parse_rate LOG [THREADS] [--ondemand] | parse_rate LOG --read\n");
    return argc < 2 ? 1 : 0;
  }
  const int fd = ::open(argv[1], O_RDONLY);
  struct stat st{};
  if (fd < 0 || ::fstat(fd, &st) != 0 || st.st_size == 0) {
    std::fprintf(stderr, "parse_rate: cannot read %s\n", argv[1]);
    return 2;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (argc > 2 && std::string(argv[2]) == "--read") {
    std::vector<char> buf(1 << 20);
    const double t0 = Now();
    size_t total = 0;
    for (ssize_t n; (n = ::read(fd, buf.data(), buf.size())) > 0;) total += static_cast<size_t>(n);
    const double dt = Now() - t0;
    std::printf("read_bytes %zu\nread_s %.3f\nread_mb_per_s %.1f\n", total, dt, total / dt / 1e6);
    return 0;
  }
  const unsigned threads = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 1;
  const bool ondemand = argc > 3 && std::string(argv[3]) == "--ondemand";
  const char* map = static_cast<const char*>(::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0));
  if (map == MAP_FAILED || threads == 0) return 2;
  std::vector<Part> parts(threads);
  const char* at = map;
  for (unsigned i = 0; i < threads; ++i) {
    const char* end = i + 1 == threads ? map + size : map + size * (i + 1) / threads;
    if (end < map + size) {
      const char* nl = static_cast<const char*>(std::memchr(end, '\n', map + size - end));
      end = nl == nullptr ? map + size : nl + 1;
    }
    parts[i].begin = at;
    parts[i].end = std::max(at, end);
    at = parts[i].end;
  }
  const double t0 = Now();
  std::vector<std::thread> pool;
  for (Part& p : parts) pool.emplace_back(ondemand ? ParsePartOnDemand : ParsePartDom, map + size, &p);
  for (std::thread& t : pool) t.join();
  const double dt = Now() - t0;
  uint64_t rows = 0, checksum = 0;
  for (const Part& p : parts) {
    if (p.failed) {
      std::fprintf(stderr, "parse_rate: malformed JSON in %s\n", argv[1]);
      return 2;
    }
    rows += p.rows;
    checksum += p.checksum;
  }
  std::printf("api %s\nthreads %u\nrows %llu\nparse_s %.3f\nrows_per_s %.4g\nmb_per_s %.1f\nchecksum %llu\n",
              ondemand ? "ondemand" : "dom", threads, static_cast<unsigned long long>(rows), dt, rows / dt, size / dt / 1e6,
              static_cast<unsigned long long>(checksum));
  return 0;
}
