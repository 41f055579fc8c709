// Routing logs as real tools write them: a vLLM logger whose token_idx
// restarts with every forward batch (prefill chunks and decode steps), logs
// with expert ids only, one request per line with its routed experts,
// gzip / zstd logs and standard input, and the same trace for any number of
// parsing threads and chunk sizes.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/trace/importer.h"
#include "sim/trace/reader.h"
#include "sim/trace/validate.h"
#include "tests/sim/trace/test_util.h"

namespace epsim::trace {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A row of the per-batch logger: req_id stays "run" for the whole run.
std::string Row(int token, int layer, int e0, int e1, bool scores = true) {
  std::string s = "{\"type\": \"route\", \"req_id\": \"run\", \"token_idx\": " +
                  std::to_string(token) + ", \"layer\": " + std::to_string(layer) +
                  ", \"topk_ids\": [" + std::to_string(e0) + ", " + std::to_string(e1) + "]";
  if (scores) s += ", \"topk_weights\": [0.75, 0.25]";
  return s + "}\n";
}

// A prefill batch of 3 tokens, then 2 decode steps of 2 tokens (two
// sequences), each batch logging layers 0 and 1; token_idx restarts at 0.
std::string PerBatchLog(bool scores = true) {
  std::string log = R"({"type": "meta", "num_experts": 4, "top_k": 2})" "\n";
  const int sizes[] = {3, 2, 2};
  int e = 0;
  for (int batch = 0; batch < 3; ++batch)
    for (int layer = 0; layer < 2; ++layer)
      for (int t = 0; t < sizes[batch]; ++t, ++e) log += Row(t, layer, e % 4, (e + 1) % 4, scores);
  return log;
}

ImportOptions Options(const ScopedTempDir& dir, const std::string& input) {
  ImportOptions o;
  o.inputs = {input};
  o.output = dir.Path("out.trace");
  return o;
}

TEST(ImportStepsTest, PerBatchTokenIdxStartsForwardSteps) {
  ScopedTempDir dir;
  ImportOptions o = Options(dir, dir.Write("log.jsonl", PerBatchLog()));
  Result<ImportSummary> s = Import(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->steps, 3u);
  EXPECT_EQ(s->rows, 14u);
  EXPECT_EQ(s->tokens, 7u);
  EXPECT_EQ(s->min_step_rows, 4u);
  EXPECT_EQ(s->median_step_rows, 4u);
  EXPECT_EQ(s->max_step_rows, 6u);
  EXPECT_EQ(s->incomplete_tokens, 0u);
  Result<Trace> t = ReadTrace(o.output);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->header.num_steps(), 3u);
  for (const LayerRouting& l : t->layers) {
    EXPECT_EQ(l.token_ids, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5, 6}));
    ASSERT_EQ(l.steps.size(), 3u);
    EXPECT_EQ(l.steps[0].count, 3u);
    EXPECT_EQ(l.steps[1].count, 2u);
    EXPECT_EQ(l.steps[2].count, 2u);
  }
  // Layer 1's row 3 is step 1's token 0 (id 3): the generator's row e = 8
  // (batch 0: 2 x 3 rows, batch 1 layer 0: 2 rows), experts {0, 1}.
  EXPECT_EQ(t->layers[1].topk(3)[0], 0u);
  EXPECT_EQ(t->layers[1].topk(3)[1], 1u);
  Result<ValidationSummary> v = ValidateTrace(o.output);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->steps, 3u);
}

TEST(ImportStepsTest, StrictModeRejectsTheFirstRepeat) {
  ScopedTempDir dir;
  ImportOptions o = Options(dir, dir.Write("log.jsonl", PerBatchLog()));
  o.repeats = "error";
  Status st = Import(o).status();
  EXPECT_EQ(st.code(), Status::Code::kBadInput);
  // Line 1 is the meta line, 2-7 the prefill batch: line 8 repeats token 0.
  EXPECT_NE(st.message().find("log.jsonl:8: layer 0: req_id 0 token_idx 0 repeated"),
            std::string::npos)
      << st.message();
  EXPECT_FALSE(std::filesystem::exists(o.output));
}

TEST(ImportStepsTest, IdsOnlyLogImportsWithoutScores) {
  ScopedTempDir dir;
  ImportOptions o = Options(dir, dir.Write("log.jsonl", PerBatchLog(/*scores=*/false)));
  Result<ImportSummary> s = Import(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->scores_absent);
  Result<Trace> t = ReadTrace(o.output);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->header.scores_absent());
  for (float w : t->layers[0].topk_weights) EXPECT_EQ(w, 0.5f);
  // The same log with scores has the same ids.
  ImportOptions with = Options(dir, dir.Write("with.jsonl", PerBatchLog(true)));
  with.output = dir.Path("with.trace");
  ASSERT_TRUE(Import(with).ok());
  Result<Trace> w = ReadTrace(with.output);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->layers[1].topk_idx, t->layers[1].topk_idx);
}

TEST(ImportStepsTest, RoutedExpertsPerRequest) {
  ScopedTempDir dir;
  // Request 7: 2 tokens x 3 layers x top-2, layer 1 dense (-1); request 9: 1 token.
  const std::string log =
      R"({"request_id": 7, "routed_experts": [[[0, 1], [-1, -1], [2, 3]], [[1, 2], [-1, -1], [3, 0]]]})"
      "\n"
      R"({"request_id": 9, "routed_experts": [[[3, 2], [-1, -1], [1, 0]]]})"
      "\n";
  ImportOptions o = Options(dir, dir.Write("routed.jsonl", log));
  o.num_experts = 4;
  Result<ImportSummary> s = Import(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->format, "jsonl/routed");
  EXPECT_TRUE(s->scores_absent);
  Result<Trace> t = ReadTrace(o.output);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->layers.size(), 2u);  // the dense layer has no rows
  EXPECT_EQ(t->layers[0].layer, 0u);
  EXPECT_EQ(t->layers[1].layer, 2u);
  EXPECT_EQ(t->layers[0].token_ids, (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(t->layers[0].sequence_ids, (std::vector<uint64_t>{7, 7, 9}));
  EXPECT_EQ(t->layers[0].topk_idx, (std::vector<uint32_t>{0, 1, 1, 2, 3, 2}));
  EXPECT_EQ(t->layers[1].topk_idx, (std::vector<uint32_t>{2, 3, 3, 0, 1, 0}));
  // A -1 beside a real id is an error naming the line.
  const std::string bad = R"({"routed_experts": [[[0, -1]]]})" "\n";
  ImportOptions b = Options(dir, dir.Write("bad.jsonl", bad));
  b.num_experts = 4;
  b.output = dir.Path("bad.trace");
  Status st = Import(b).status();
  EXPECT_NE(st.message().find("bad.jsonl:1: token 0 layer 0: -1 among expert ids"),
            std::string::npos)
      << st.message();
  // SGLang's base64 string form is named, not misread.
  ImportOptions b64 = Options(dir, dir.Write("b64.jsonl", R"({"routed_experts": "AAAA"})" "\n"));
  b64.num_experts = 4;
  b64.output = dir.Path("b64.trace");
  st = Import(b64).status();
  EXPECT_NE(st.message().find("is a string (base64"), std::string::npos) << st.message();
}

std::string Gzip(const std::string& text, int members) {
  std::string out;
  const size_t part = text.size() / members + 1;
  for (int m = 0; m < members; ++m) {
    const std::string piece = text.substr(m * part, part);
    z_stream z{};
    deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    std::string buf(compressBound(piece.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
    z.avail_in = piece.size();
    z.next_out = reinterpret_cast<Bytef*>(buf.data());
    z.avail_out = buf.size();
    deflate(&z, Z_FINISH);
    buf.resize(buf.size() - z.avail_out);
    deflateEnd(&z);
    out += buf;
  }
  return out;
}

std::string Zstd(const std::string& text) {
  std::string buf(ZSTD_compressBound(text.size()), '\0');
  buf.resize(ZSTD_compress(buf.data(), buf.size(), text.data(), text.size(), 3));
  return buf;
}

// Many batches so that small chunks cut the log in many places.
std::string LongLog() {
  std::string log = R"({"type": "meta", "num_experts": 8, "top_k": 2})" "\n";
  for (int batch = 0; batch < 40; ++batch)
    for (int layer = 0; layer < 3; ++layer)
      for (int t = 0; t < 5 + batch % 7; ++t) log += Row(t, layer, (t + batch) % 8, (t + batch + 3) % 8);
  return log;
}

TEST(ImportStepsTest, CompressedLogsGiveTheSameTrace) {
  ScopedTempDir dir;
  const std::string log = LongLog();
  ImportOptions plain = Options(dir, dir.Write("log.jsonl", log));
  ASSERT_TRUE(Import(plain).ok());
  const std::string want = Slurp(plain.output);
  // Names say nothing: the magic bytes do (a .gz named .jsonl too).
  for (const auto& [name, bytes] :
       std::vector<std::pair<std::string, std::string>>{{"log.jsonl.gz", Gzip(log, 1)},
                                                        {"three-members.jsonl", Gzip(log, 3)},
                                                        {"log.jsonl.zst", Zstd(log)}}) {
    ImportOptions o = Options(dir, dir.Write(name, bytes));
    o.output = dir.Path(name + ".trace");
    o.chunk_bytes = 1000;
    Result<ImportSummary> s = Import(o);
    ASSERT_TRUE(s.ok()) << name << ": " << s.status().ToString();
    EXPECT_EQ(s->bytes_read, log.size()) << name;
    // Provenance names the input file, so compare everything after it.
    Result<Trace> a = ReadTrace(plain.output), b = ReadTrace(o.output);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->layers.size(), b->layers.size());
    for (size_t i = 0; i < a->layers.size(); ++i) {
      EXPECT_EQ(a->layers[i].token_ids, b->layers[i].token_ids) << name;
      EXPECT_EQ(a->layers[i].topk_idx, b->layers[i].topk_idx) << name;
    }
    EXPECT_EQ(b->header.num_steps(), 40u);
  }
  // A cut gzip stream is an error, and no trace is left.
  const std::string gz = Gzip(log, 1);
  ImportOptions cut = Options(dir, dir.Write("cut.jsonl.gz", gz.substr(0, gz.size() / 2)));
  cut.output = dir.Path("cut.trace");
  Status st = Import(cut).status();
  EXPECT_EQ(st.code(), Status::Code::kBadInput) << st.ToString();
  EXPECT_NE(st.message().find("truncated gzip stream"), std::string::npos) << st.message();
  EXPECT_FALSE(std::filesystem::exists(cut.output));
}

TEST(ImportStepsTest, AnyThreadCountAndChunkSizeGiveIdenticalBytes) {
  ScopedTempDir dir;
  const std::string log = LongLog();
  const std::string path = dir.Write("log.jsonl", log);
  ImportOptions ref = Options(dir, path);
  ref.threads = 1;
  ASSERT_TRUE(Import(ref).ok());
  const std::string want = Slurp(ref.output);
  for (unsigned threads : {1u, 2u, 3u, 5u}) {
    for (size_t chunk : {size_t{1}, size_t{97}, size_t{4096}, size_t{1} << 22}) {
      ImportOptions o = ref;
      o.output = dir.Path("t.trace");
      o.threads = threads;
      o.chunk_bytes = chunk;
      Result<ImportSummary> s = Import(o);
      ASSERT_TRUE(s.ok()) << threads << "/" << chunk << ": " << s.status().ToString();
      EXPECT_EQ(Slurp(o.output), want) << threads << " threads, chunks of " << chunk;
    }
  }
  // An error deep in the log is reported at the same line by every count.
  std::string bad = log;
  const size_t at = bad.find("\"layer\": 2", bad.size() / 2);
  bad.replace(at, 10, "\"layer\": x");
  const size_t line = std::count(bad.begin(), bad.begin() + at, '\n') + 1;
  const std::string bad_path = dir.Write("bad.jsonl", bad);
  for (unsigned threads : {1u, 2u, 4u}) {
    ImportOptions o = Options(dir, bad_path);
    o.output = dir.Path("bad.trace");
    o.threads = threads;
    o.chunk_bytes = 500;
    Status st = Import(o).status();
    EXPECT_NE(st.message().find("bad.jsonl:" + std::to_string(line) + ": malformed JSON"),
              std::string::npos)
        << threads << ": " << st.message();
    EXPECT_FALSE(std::filesystem::exists(o.output));
  }
}

TEST(ImportStepsTest, StandardInput) {
  ScopedTempDir dir;
  const std::string log = LongLog();
  const std::string gz = dir.Write("log.jsonl.gz", Gzip(log, 1));
  ImportOptions ref = Options(dir, dir.Write("log.jsonl", log));
  ASSERT_TRUE(Import(ref).ok());
  // Redirect stdin to the gzip file for this process.
  const int saved = ::dup(STDIN_FILENO);
  const int fd = ::open(gz.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ::dup2(fd, STDIN_FILENO);
  ::close(fd);
  ImportOptions o = Options(dir, "-");
  o.output = dir.Path("stdin.trace");
  Result<ImportSummary> s = Import(o);
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Result<Trace> a = ReadTrace(ref.output), b = ReadTrace(o.output);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->layers[2].topk_idx, b->layers[2].topk_idx);
  EXPECT_EQ(b->header.provenance().source_files(0), "-");
}

}  // namespace
}  // namespace epsim::trace
