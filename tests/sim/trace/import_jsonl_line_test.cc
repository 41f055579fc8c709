// The JSON-lines line parser's two readers: the scanner of usual route
// lines and simdjson. The scanner must accept only what simdjson accepts,
// with the same row, bit for bit, and decline the rest (which simdjson then
// reads or words the error of). Checked on hand cases, every prefix of a
// usual line, and random lines with random mutations against a parser that
// uses simdjson alone.
#include "sim/trace/import_jsonl_line.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

namespace epsim::trace {
namespace {

JsonlFields VllmFields() {
  JsonlFields f;
  f.layer = "layer";
  f.ids = "topk_ids";
  f.scores = "topk_weights";
  f.token = "token_idx";
  f.sequence = "req_id";
  return f;
}

// One object for every call: a parser re-indexes (and forgets the key
// spellings it remembers) when handed another.
const JsonlFields& VllmFieldsOnce() {
  static const JsonlFields fields = VllmFields();
  return fields;
}

struct Parsed {
  Status status;
  JsonlRow row;
  JsonlArrays arrays;
};

// `padding`: what the 64 readable bytes past the end hold (the scanner may
// read there and must not take it for the line).
Parsed ParseWith(JsonlLineParser& parser, const JsonlFields& fields, const std::string& line,
                 char padding) {
  std::string buffer = line + std::string(64, padding);
  Parsed p;
  JsonlMeta meta;
  p.status = parser.Parse(buffer.data(), line.size(), fields, &p.row, &meta, &p.arrays, nullptr);
  return p;
}

// The same result: status, and for a row every field and array entry (the
// scores bit for bit).
void ExpectSame(const Parsed& a, const Parsed& b, const std::string& line) {
  SCOPED_TRACE(line);
  ASSERT_EQ(a.status.ok(), b.status.ok()) << a.status.message() << " | " << b.status.message();
  if (!a.status.ok()) {
    EXPECT_EQ(a.status.message(), b.status.message());
    return;
  }
  const JsonlRow &x = a.row, &y = b.row;
  EXPECT_EQ(x.layer, y.layer);
  EXPECT_EQ(x.token, y.token);
  EXPECT_EQ(x.sequence, y.sequence);
  EXPECT_EQ(x.sequence_bytes, y.sequence_bytes);
  EXPECT_EQ(x.num_ids, y.num_ids);
  EXPECT_EQ(x.num_scores, y.num_scores);
  EXPECT_EQ(x.ids_at, y.ids_at);
  EXPECT_EQ(x.scores_at, y.scores_at);
  EXPECT_EQ(x.is_meta, y.is_meta);
  EXPECT_EQ(x.has_layer, y.has_layer);
  EXPECT_EQ(x.has_ids, y.has_ids);
  EXPECT_EQ(x.has_scores, y.has_scores);
  EXPECT_EQ(x.has_token, y.has_token);
  EXPECT_EQ(x.has_sequence, y.has_sequence);
  EXPECT_EQ(x.sequence_is_string, y.sequence_is_string);
  EXPECT_EQ(x.has_routed, y.has_routed);
  EXPECT_EQ(a.arrays.ids, b.arrays.ids);
  EXPECT_EQ(a.arrays.strings, b.arrays.strings);
  ASSERT_EQ(a.arrays.scores.size(), b.arrays.scores.size());
  if (!a.arrays.scores.empty()) {  // data() may be null when empty
    EXPECT_EQ(std::memcmp(a.arrays.scores.data(), b.arrays.scores.data(),
                          a.arrays.scores.size() * sizeof(float)),
              0);
  }
}

// Parses `line` with the scanner first and with simdjson alone; expects
// the same result and returns whether the scanner read it.
// `scanning` may have read other lines before (it remembers how their keys
// were spelled); true when the scanner read this one.
bool CompareWith(JsonlLineParser& scanning, const std::string& line, char padding = ' ') {
  const JsonlFields& fields = VllmFieldsOnce();
  JsonlLineParser dom(/*scan=*/false);
  const uint64_t before = scanning.scanned();
  const Parsed a = ParseWith(scanning, fields, line, padding);
  const Parsed b = ParseWith(dom, fields, line, padding);
  ExpectSame(a, b, line);
  EXPECT_EQ(dom.scanned(), 0u);
  return scanning.scanned() == before + 1;
}

bool Compare(const std::string& line, char padding = ' ') {
  JsonlLineParser scanning;
  return CompareWith(scanning, line, padding);
}

constexpr char kUsual[] =
    R"({"type": "route", "req_id": "cmpl-7", "token_idx": 12, "layer": 3, )"
    R"("topk_ids": [0, 44, 28, 17], "topk_weights": [0.23743962, 0.0957535123, 0.00639166705, 1]})";

TEST(JsonlLineScanner, ReadsTheUsualLineExactly) {
  const JsonlFields fields = VllmFields();
  JsonlLineParser parser;
  const Parsed p = ParseWith(parser, fields, kUsual, '9');
  ASSERT_TRUE(p.status.ok()) << p.status.message();
  EXPECT_EQ(parser.scanned(), 1u);
  EXPECT_EQ(p.row.layer, 3u);
  EXPECT_EQ(p.row.token, 12u);
  EXPECT_TRUE(p.row.sequence_is_string);
  EXPECT_EQ(p.arrays.strings, "cmpl-7");
  EXPECT_EQ(p.arrays.ids, (std::vector<uint32_t>{0, 44, 28, 17}));
  EXPECT_EQ(p.arrays.scores, (std::vector<float>{static_cast<float>(0.23743962),
                                                 static_cast<float>(0.0957535123),
                                                 static_cast<float>(0.00639166705), 1.0f}));
  EXPECT_TRUE(Compare(kUsual));
}

TEST(JsonlLineScanner, ReadsTheSubsetItPromises) {
  // Whitespace of every JSON kind, integer ids as sequence, unknown keys
  // with strings, numbers and literals, numbers with exponents, negative
  // scores, an empty score list, many decimals (from_chars' path).
  for (const char* line : {
           "\t{ \"layer\":0,\"topk_ids\":[5],\"token_idx\":0,\"req_id\":17}\r",
           R"({"req_id": 3, "layer": 1, "topk_ids": [1 , 2], "topk_weights": [-0.5, 2.5e-3, 1E2]})",
           R"({"ts": 1733.25, "ok": true, "x": null, "y": false, "s": "a b", "layer": 2, "topk_ids": [9]})",
           R"({"layer": 2, "topk_ids": [9], "topk_weights": []})",
           R"({"layer": 2, "topk_ids": [9], "topk_weights": [0.12345678901234567890123, 123456789012345.5]})",
           R"({"layer": 4294967295, "token_idx": 9999999999999999999, "topk_ids": [4294967295]})",
           R"({})",
       })
    EXPECT_TRUE(Compare(line)) << line;
}

TEST(JsonlLineScanner, LeavesEverythingElseToSimdjson) {
  // Escapes, non-ASCII, nested unknown values, repeated fields, "-0",
  // integers beyond 2^53 as scores, 20-digit integers, meta lines: the
  // scanner declines, simdjson reads them as before.
  for (const char* line : {
           R"({"req_id": "a\"b", "layer": 1, "topk_ids": [1]})",
           "{\"req_id\": \"caf\xc3\xa9\", \"layer\": 1, \"topk_ids\": [1]}",
           R"({"extra": [1, 2], "layer": 1, "topk_ids": [1]})",
           R"({"extra": {"a": 1}, "layer": 1, "topk_ids": [1]})",
           R"({"layer": 1, "layer": 2, "topk_ids": [1]})",
           R"({"layer": 1, "topk_ids": [1], "topk_weights": [-0, -0.0, -0e3]})",
           R"({"layer": 1, "topk_ids": [1], "topk_weights": [9007199254740993]})",
           R"({"layer": 1, "token_idx": 18446744073709551615, "topk_ids": [1]})",
           R"({"type": "meta", "num_experts": 8, "top_k": 2})",
       })
    EXPECT_FALSE(Compare(line)) << line;
}

TEST(JsonlLineScanner, NeverAcceptsMalformedLines) {
  for (const char* line : {
           R"({"layer": 01, "topk_ids": [1]})",      R"({"layer": 1, "topk_ids": [1,]})",
           R"({"layer": 1, "topk_ids": []})",        R"({"layer": 1.5, "topk_ids": [1]})",
           R"({"layer": -1, "topk_ids": [1]})",      R"({"layer": 1, "topk_ids": [1]} x)",
           R"({"layer": 1, "topk_ids": [1]}})",      R"({"layer": 1 "topk_ids": [1]})",
           R"({"layer": 1, "topk_weights": [1.]})",  R"({"layer": 1, "topk_weights": [.5]})",
           R"({"layer": 1, "topk_weights": [1e]})",  R"({"layer": 1, "topk_weights": [NaN]})",
           R"({"layer": 1, "topk_weights": [1e999]})", R"({"layer": 1, "topk_weights": [+1]})",
           R"({"layer": 4294967296, "topk_ids": [1]})", "{\"req_id\": \"a\tb\", \"layer\": 1}",
           R"({"layer": 1, "x": tru})",               R"({"layer": 1,})",
           R"({layer: 1})",                           R"(["layer", 1])",
           "",                                        "   ",
       })
    EXPECT_FALSE(Compare(line)) << line;
}

TEST(JsonlLineScanner, EveryPrefixOfAUsualLineIsDeclined) {
  const std::string usual = kUsual;
  for (size_t n = 0; n < usual.size(); ++n)
    for (char padding : {' ', '9', '"', '}'})
      EXPECT_FALSE(Compare(usual.substr(0, n), padding)) << n;
}

// The number reader alone, double for double against simdjson: random
// decimals of 1 to 19 digits with 0 to 22 decimals (Clinger's path and
// beyond), and exponents (from_chars' path).
TEST(JsonlLineScanner, NumbersAreSimdjsonsDoubles) {
  std::mt19937_64 rng(7);
  simdjson::dom::parser parser;
  int read = 0;
  for (int i = 0; i < 200000; ++i) {
    const int digits = 1 + static_cast<int>(rng() % 19);
    std::string d;
    for (int k = 0; k < digits; ++k) d += static_cast<char>('0' + rng() % 10);
    const size_t point = rng() % (d.size() + 1);
    std::string text = (rng() % 4 == 0 ? "-" : "") +
                       (point == 0 ? std::string("0") : d.substr(0, point)) +
                       (point < d.size() ? "." + d.substr(point) : "");
    if (rng() % 5 == 0) text += "e" + std::to_string(static_cast<int>(rng() % 40) - 20);
    std::string buffer = text + std::string(64, '9');
    double mine = 0;
    if (!ScanJsonNumber(buffer.data(), text.size(), &mine)) continue;
    ++read;
    double theirs = 0;
    ASSERT_EQ(parser.parse(text).get_double().get(theirs), simdjson::SUCCESS) << text;
    ASSERT_EQ(std::memcmp(&mine, &theirs, sizeof(double)), 0)
        << text << ": " << fmt::format("{:.17g} vs {:.17g}", mine, theirs);
  }
  EXPECT_GT(read, 100000);  // most are in the subset (leading zeros and -0 are not)
}

// Random route lines: random key order, whitespace, number spellings and
// extra keys, then for half of them a random mutation (a byte replaced,
// inserted or deleted, or the line cut).
TEST(JsonlLineScanner, AgreesWithSimdjsonOnRandomLines) {
  std::mt19937_64 rng(20261202);
  const auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  const auto space = [&]() -> std::string {
    static const char* kSpaces[] = {"", "", " ", "  ", "\t", " \n", "\r"};
    return kSpaces[pick(7)];
  };
  const auto number = [&]() -> std::string {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const double v = pick(8) == 0 ? -unit(rng) : unit(rng) * (pick(4) == 0 ? 1e6 : 1.0);
    switch (pick(7)) {
      case 0: return fmt::format("{:.9g}", static_cast<float>(v));
      case 1: return fmt::format("{}", v);  // shortest round trip, up to 17 digits
      case 2: return fmt::format("{:e}", v);
      case 3: return fmt::format("{}", pick(1000));
      case 4: return fmt::format("{:.{}f}", v, pick(25));
      case 5: return fmt::format("{:.3g}", v);
      default: return fmt::format("{:.8f}", v);
    }
  };
  const auto ids = [&]() {
    std::string s = "[" + space();
    const int n = 1 + pick(9);
    for (int i = 0; i < n; ++i)
      s += (i ? "," + space() : "") + std::to_string(pick(3) == 0 ? pick(100000) : pick(64)) + space();
    return s + "]";
  };
  const auto scores = [&]() {
    std::string s = "[" + space();
    const int n = pick(9);
    for (int i = 0; i < n; ++i) s += (i ? "," + space() : "") + number() + space();
    return s + "]";
  };
  const auto sequence = [&]() -> std::string {
    switch (pick(4)) {
      case 0: return std::to_string(rng() % 100000);
      case 1: return "\"run\"";
      case 2: return "\"cmpl-" + std::to_string(pick(1000)) + "\"";
      default: return "\"r\\u00e9q\"";
    }
  };
  int scanned_clean = 0, clean = 0, scanned_mutated = 0;
  JsonlLineParser scanning;  // across lines, as in a log
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::string> members = {
        "\"type\":" + space() + "\"route\"",
        "\"req_id\":" + space() + sequence(),
        "\"token_idx\":" + space() + std::to_string(rng() % 5000),
        "\"layer\":" + space() + std::to_string(pick(48)),
        "\"topk_ids\":" + space() + ids(),
        "\"topk_weights\":" + space() + scores(),
    };
    if (pick(4) == 0) members.push_back("\"ts\":" + space() + number());
    if (pick(8) == 0) members.push_back("\"flags\":" + space() + "[1, 2]");
    if (pick(8) == 0) members.pop_back();
    std::shuffle(members.begin(), members.end(), rng);
    std::string line = space() + "{" + space();
    for (size_t m = 0; m < members.size(); ++m)
      line += (m ? "," + space() : "") + members[m] + space();
    line += "}" + space();
    const bool mutate = i % 2 == 1;
    if (mutate && !line.empty()) {
      static const char kBytes[] = "{}[],:\" 0123456789.-+eE\\x\x01\xff";
      const size_t at = rng() % line.size();
      switch (pick(4)) {
        case 0: line[at] = kBytes[pick(sizeof(kBytes) - 1)]; break;
        case 1: line.insert(at, 1, kBytes[pick(sizeof(kBytes) - 1)]); break;
        case 2: line.erase(at, 1); break;
        default: line.resize(at); break;
      }
    }
    const bool read = CompareWith(scanning, line, "9 \"}"[pick(4)]);
    if (::testing::Test::HasFailure()) return;  // one line's report is enough
    if (mutate) {
      scanned_mutated += read;
    } else {
      ++clean;
      scanned_clean += read;
    }
  }
  // The scanner must carry the usual lines (else this test compares
  // simdjson with itself): most of the unmutated ones are in its subset.
  EXPECT_GT(scanned_clean, clean / 3);
  EXPECT_GT(scanned_mutated, 0);
}

// A log's lines spell their keys alike, and the scanner takes a key spelled
// as at its place in the previous line by comparing bytes. Lines of one
// layout, every other one mutated (a byte of a key, of its quotes, colon or
// spaces changed, inserted or deleted, a key renamed, escaped or moved),
// through one parser: each still reads as simdjson reads it.
TEST(JsonlLineScanner, RememberedKeySpellingsNeverMisreadALine) {
  std::mt19937_64 rng(20261203);
  const auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  JsonlLineParser scanning;
  int scanned = 0, mutated_scanned = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string line = fmt::format(
        R"({{"type": "route", "req_id": "run", "token_idx": {}, "layer": {}, )"
        R"("topk_ids": [{}, {}], "topk_weights": [0.{}, 0.{}]}})",
        pick(5000), pick(48), pick(64), 64 + pick(64), 100000 + pick(900000), pick(1000));
    const bool mutate = i % 2 == 1;
    if (mutate) {
      // Mostly inside the keys and what separates them.
      static const char kBytes[] = "\" :,{}[]\\ayLe\t\x01\xc3";
      std::vector<size_t> places;
      for (size_t at = 0; at < line.size(); ++at)
        if (!std::isdigit(static_cast<unsigned char>(line[at]))) places.push_back(at);
      const size_t at = places[rng() % places.size()];
      switch (pick(6)) {
        case 0: line[at] = kBytes[pick(sizeof(kBytes) - 1)]; break;
        case 1: line.insert(at, 1, kBytes[pick(sizeof(kBytes) - 1)]); break;
        case 2: line.erase(at, 1); break;
        case 3: line.replace(line.find("layer"), 5, "lay\\u0065r"); break;
        case 4: line.replace(line.find("\"layer\": "), 9, "\"layer\":  "); break;
        default: line.replace(line.find("token_idx"), 9, "token_idy"); break;
      }
    }
    const bool read = CompareWith(scanning, line, "9 \"}"[pick(4)]);
    if (::testing::Test::HasFailure()) return;
    scanned += read;
    if (mutate) mutated_scanned += read;
  }
  EXPECT_GT(scanned - mutated_scanned, 9000);  // the unmutated lines are in the subset
  EXPECT_GT(mutated_scanned, 1000);            // and many mutated ones still are
}

}  // namespace
}  // namespace epsim::trace
