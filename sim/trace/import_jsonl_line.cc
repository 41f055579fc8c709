#include "sim/trace/import_jsonl_line.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>

namespace epsim::trace {

namespace {

using simdjson::dom::element;

std::string Text(const element& value) { return simdjson::minify(value); }

Status GetUint(const element& value, std::string_view key, uint64_t max, uint64_t* out) {
  uint64_t v = 0;
  if (value.get_uint64().get(v) != simdjson::SUCCESS || v > max)
    return Status::BadInput(
        fmt::format("\"{}\" is {}, expected an integer in 0..{}", key, Text(value), max));
  *out = v;
  return Status::Ok();
}

Status GetIds(const element& value, std::string_view key, std::vector<uint32_t>* ids) {
  simdjson::dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS || array.size() == 0)
    return Status::BadInput(fmt::format("\"{}\" must be a non-empty array of expert ids", key));
  for (element e : array) {
    uint64_t id = 0;
    if (e.get_uint64().get(id) != simdjson::SUCCESS || id > std::numeric_limits<uint32_t>::max())
      return Status::BadInput(fmt::format("\"{}\" holds {}, not an expert id", key, Text(e)));
    ids->push_back(static_cast<uint32_t>(id));
  }
  return Status::Ok();
}

Status GetScores(const element& value, std::string_view key, std::vector<float>* scores) {
  simdjson::dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS)
    return Status::BadInput(fmt::format("\"{}\" must be an array of numbers", key));
  for (element e : array) {
    double p = 0;
    if (e.get_double().get(p) != simdjson::SUCCESS || !std::isfinite(p))
      return Status::BadInput(fmt::format("\"{}\" holds {}, not a number", key, Text(e)));
    scores->push_back(static_cast<float>(p));
  }
  return Status::Ok();
}

// [tokens][layers][k] expert ids; -1 marks a slot without an expert.
Status GetRouted(const element& value, std::string_view key, JsonlRow* out,
                 std::vector<uint32_t>* ids_out) {
  const auto bad = [&](const std::string& what) {
    return Status::BadInput(fmt::format("\"{}\" must be a [tokens][layers][k] array of expert "
                                        "ids: {}", key, what));
  };
  simdjson::dom::array tokens;
  if (value.get_array().get(tokens) != simdjson::SUCCESS) return bad("not an array");
  out->routed_tokens = out->routed_layers = out->routed_k = 0;
  for (element token : tokens) {
    simdjson::dom::array layers;
    if (token.get_array().get(layers) != simdjson::SUCCESS)
      return bad(fmt::format("token {} is {}", out->routed_tokens, Text(token)));
    uint32_t num_layers = 0;
    for (element layer : layers) {
      simdjson::dom::array ids;
      if (layer.get_array().get(ids) != simdjson::SUCCESS)
        return bad(fmt::format("token {} layer {} is {}", out->routed_tokens, num_layers,
                               Text(layer)));
      uint32_t k = 0;
      for (element e : ids) {
        int64_t id = 0;
        if (e.get_int64().get(id) != simdjson::SUCCESS || id < -1 ||
            id >= int64_t{std::numeric_limits<uint32_t>::max()})
          return bad(fmt::format("token {} layer {} holds {}, not an expert id",
                                 out->routed_tokens, num_layers, Text(e)));
        ids_out->push_back(id < 0 ? kNoExpert : static_cast<uint32_t>(id));
        ++k;
      }
      if (out->routed_k == 0) out->routed_k = k;
      if (k == 0 || k != out->routed_k)
        return bad(fmt::format("token {} layer {} has {} ids, earlier ones {}",
                               out->routed_tokens, num_layers, k, out->routed_k));
      ++num_layers;
    }
    if (out->routed_tokens == 0) out->routed_layers = num_layers;
    if (num_layers == 0 || num_layers != out->routed_layers)
      return bad(fmt::format("token {} has {} layers, earlier ones {}", out->routed_tokens,
                             num_layers, out->routed_layers));
    ++out->routed_tokens;
  }
  if (out->routed_tokens == 0) return bad("no tokens");
  return Status::Ok();
}

Status GetSequence(const element& value, std::string_view key, JsonlRow* out,
                   std::string* strings) {
  std::string_view s;
  if (value.get_string().get(s) == simdjson::SUCCESS) {
    out->sequence_is_string = true;
    out->sequence = strings->size();
    out->sequence_bytes = static_cast<uint32_t>(s.size());
    strings->append(s);
    return Status::Ok();
  }
  if (value.get_uint64().get(out->sequence) == simdjson::SUCCESS) return Status::Ok();
  return Status::BadInput(fmt::format(
      "\"{}\" is {}, expected an unsigned integer or a string", key, Text(value)));
}

Status ParseMeta(const simdjson::dom::object& obj, JsonlMeta* out) {
  for (auto [key, value] : obj) {
    if (key == "num_experts") {
      EPSIM_RETURN_IF_ERROR(GetUint(value, key, std::numeric_limits<uint32_t>::max(),
                                    &out->num_experts));
      out->has_num_experts = true;
    } else if (key == "top_k") {
      EPSIM_RETURN_IF_ERROR(GetUint(value, key, std::numeric_limits<uint32_t>::max(),
                                    &out->top_k));
      out->has_top_k = true;
    } else if (key == "model") {
      std::string_view s;
      if (value.get_string().get(s) != simdjson::SUCCESS)
        return Status::BadInput(fmt::format("meta \"model\" is {}, not a string", Text(value)));
      out->model.assign(s);
      out->has_model = true;
    }
  }
  return Status::Ok();
}

// a == b for views of one size (> 0), without a call for short keys:
// overlapping 8- or 4-byte loads from both ends, which stay inside both.
inline bool SameBytes(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  const auto load8 = [](const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  };
  const auto load4 = [](const char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  };
  if (n > 16) return std::memcmp(a.data(), b.data(), n) == 0;
  if (n >= 8)
    return load8(a.data()) == load8(b.data()) && load8(a.data() + n - 8) == load8(b.data() + n - 8);
  if (n >= 4)
    return load4(a.data()) == load4(b.data()) && load4(a.data() + n - 4) == load4(b.data() + n - 4);
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

// The route fields a key may name, in the order they are tried.
enum class Field : uint8_t { kLayer, kIds, kScores, kToken, kSequence, kRouted, kNone };

// The route field names of one log, indexed for the per-key lookup: a
// length and first-byte test rejects most names before a compare.
class FieldIndex {
 public:
  // A key as the last line that had one at its position spelled it: the
  // bytes from its opening quote to its value (`"layer": `), zero padded
  // for 8-byte compares, and what the key was.
  static constexpr size_t kLiteralBytes = 32;
  struct Literal {
    char bytes[kLiteralBytes + 8] = {};
    uint8_t size = 0;  // 0: none
    Field field = Field::kNone;
    bool type = false;  // the "type" key
  };

  void Build(const JsonlFields& f) {
    size_ = 0;
    std::fill(std::begin(guess_), std::end(guess_), uint8_t{0xff});
    for (Literal& l : literals_) l.size = 0;
    Put(f.layer, Field::kLayer);
    Put(f.ids, Field::kIds);
    Put(f.scores, Field::kScores);
    Put(f.token, Field::kToken);
    Put(f.sequence, Field::kSequence);
    Put(f.routed, Field::kRouted);
  }
  // `position`: the key's place in its line. Lines of one log mostly list
  // their keys in one order, so the name found at that place in the
  // previous line is tried first.
  Field Find(std::string_view key, size_t position) {
    const bool remembered = position < kRemembered;
    if (remembered && guess_[position] < size_) {
      const Entry& e = entries_[guess_[position]];
      if (e.name.size() == key.size() && SameBytes(e.name, key)) return e.field;
    }
    for (uint8_t i = 0; i < size_; ++i) {
      const Entry& e = entries_[i];
      if (e.name.size() == key.size() && e.name[0] == key[0] && SameBytes(e.name, key)) {
        if (remembered) guess_[position] = i;
        return e.field;
      }
    }
    return Field::kNone;
  }

  const Literal* LiteralAt(size_t position) const {
    return position < kRemembered && literals_[position].size != 0 ? &literals_[position] : nullptr;
  }
  void Remember(size_t position, const char* begin, size_t size, Field field, bool type) {
    if (position >= kRemembered || size == 0 || size > kLiteralBytes) return;
    Literal& l = literals_[position];
    std::memset(l.bytes, 0, sizeof l.bytes);
    std::memcpy(l.bytes, begin, size);
    l.size = static_cast<uint8_t>(size);
    l.field = field;
    l.type = type;
  }

 private:
  struct Entry {
    std::string_view name;
    Field field;
  };
  void Put(const std::string& name, Field field) {
    if (!name.empty()) entries_[size_++] = {name, field};
  }
  static constexpr size_t kRemembered = 16;
  Entry entries_[6];
  uint8_t size_ = 0;
  uint8_t guess_[kRemembered];  // entry found at each key position, 0xff none
  Literal literals_[kRemembered];
};

// The scanner of usual route lines (see the header). Each function reads
// at `p` (below `end`) and moves `p` past what it read; false means "not in
// the subset", never "malformed": the caller then hands the line to simdjson.
class LineScanner {
 public:
  LineScanner(const char* data, size_t size) : p_(data), end_(data + size) {}

  bool AtEnd() const { return p_ == end_; }
  const char* pos() const { return p_; }

  // Takes the `size` bytes at `lit` (zero padded to size + 8) if they come
  // next, by 8-byte compares (the last one masked; reading up to 8 bytes
  // past end_ is within the padding).
  [[gnu::always_inline]] bool TakeLiteral(const char* lit, size_t size) {
    if (static_cast<size_t>(end_ - p_) < size) return false;
    size_t i = 0;
    for (; i + 8 <= size; i += 8)
      if (Load8(p_ + i) != Load8(lit + i)) return false;
    if (i < size) {
      const uint64_t mask = ~uint64_t{0} >> (64 - 8 * (size - i));
      if (((Load8(p_ + i) ^ Load8(lit + i)) & mask) != 0) return false;
    }
    p_ += size;
    return true;
  }

  // After an array item: true past a ',' and the whitespace after it, false
  // (whitespace skipped) when no ',' follows. ", " before a non-space byte,
  // the usual spelling, is one test.
  [[gnu::always_inline]] bool NextItem() {
    if (end_ - p_ >= 2 && p_[0] == ',' && p_[1] == ' ' && static_cast<unsigned char>(p_[2]) > ' ') {
      p_ += 2;
      return true;
    }
    SkipSpace();
    if (!Take(',')) return false;
    SkipSpace();
    return true;
  }
  [[gnu::always_inline]] bool Peek(char c) const { return p_ < end_ && *p_ == c; }
  [[gnu::always_inline]] bool Take(char c) {
    if (!Peek(c)) return false;
    ++p_;
    return true;
  }
  // JSON's whitespace: ' ', '\t', '\n', '\r', as one bit test. Usual lines
  // have none or one space between tokens, so the first byte is tested
  // before the loop: above ' ' it is no whitespace (reading it at p_ == end_
  // is within the padding, and nothing is consumed there).
  [[gnu::always_inline]] void SkipSpace() {
    if (static_cast<unsigned char>(*p_) > ' ') return;
    constexpr uint64_t kSpace = (1ull << ' ') | (1ull << '\t') | (1ull << '\n') | (1ull << '\r');
    while (p_ < end_ && static_cast<unsigned char>(*p_) <= ' ' &&
           ((kSpace >> static_cast<unsigned char>(*p_)) & 1) != 0)
      ++p_;
  }

  // A string of printable ASCII without escapes (anything else: simdjson's).
  // Eight bytes at a time: the lowest byte that is '"', '\\' or outside
  // 0x20..0x7e ends the scan (exact for the lowest such byte, as in
  // DigitRun), and it must be the closing quote.
  [[gnu::always_inline]] bool String(std::string_view* out) {
    if (!Take('"')) return false;
    const char* begin = p_;
    constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
    while (end_ - p_ >= 8) {
      const uint64_t v = Load8(p_);
      const uint64_t quote = v ^ (kOnes * '"'), backslash = v ^ (kOnes * '\\');
      const uint64_t stop = (((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) |
                             (v - kOnes * 0x20) | v | (v + kOnes)) &
                            kHigh;
      if (stop != 0) {
        p_ += std::countr_zero(stop) / 8;
        break;
      }
      p_ += 8;
    }
    while (p_ < end_) {
      const unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        *out = std::string_view(begin, static_cast<size_t>(p_ - begin));
        ++p_;
        return true;
      }
      if (c < 0x20 || c > 0x7e || c == '\\') return false;
      ++p_;
    }
    return false;
  }

  // 0 or [1-9][0-9]*, at most 19 digits (below 2^64); a sign, fraction or
  // exponent makes it not an unsigned integer, which the structure after it
  // then rejects.
  [[gnu::always_inline]] bool Uint(uint64_t* out) {
    const size_t n = DigitRun(p_);
    if (n == 0 || n > 19 || (n > 1 && *p_ == '0')) return false;
    *out = DigitsValue(p_, n);
    p_ += n;
    return true;
  }

  // A JSON number, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, as the
  // correctly rounded double: exactly w / 10^d (Clinger's fast path: both
  // exact doubles, one IEEE division) when its digits w (at most 19) are at
  // most 2^53 and its decimals d at most 22, else std::from_chars (also
  // correctly rounded). A negative zero, an integer beyond 2^53 and anything
  // out of range are left to simdjson.
  [[gnu::always_inline]] bool Number(double* out) {
    const char* begin = p_;
    const bool negative = Take('-');
    if (p_ >= end_ || *p_ < '0' || *p_ > '9') return false;
    size_t digits = 0;  // significant digits in w (a lone leading 0 is not one)
    uint64_t w = 0;
    if (*p_ == '0') {
      ++p_;
      if (p_ < end_ && *p_ >= '0' && *p_ <= '9') return false;  // a leading zero
    } else {
      digits = DigitRun(p_);
      if (digits <= 19) w = DigitsValue(p_, digits);
      p_ += digits;
    }
    size_t decimals = 0;
    if (Take('.')) {
      decimals = DigitRun(p_);
      if (decimals == 0) return false;
      if (digits + decimals <= 19) w = w * kPow10Int[decimals] + DigitsValue(p_, decimals);
      digits += decimals;
      p_ += decimals;
    }
    bool exponent = false;
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      exponent = true;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      const size_t n = DigitRun(p_);
      if (n == 0) return false;
      p_ += n;
    }
    if (!exponent && digits <= 19 && w <= (uint64_t{1} << 53) && decimals <= 22) {
      if (negative && w == 0) return false;  // -0, -0.0: simdjson's sign rule
      const double v = static_cast<double>(w) / kPow10[decimals];
      *out = negative ? -v : v;
      return true;
    }
    // An integer beyond 2^53: simdjson keeps it as a 64-bit integer (or
    // rejects it), so its double is simdjson's business.
    if (!exponent && decimals == 0) return false;
    double v = 0;
    const auto [at, error] = std::from_chars(begin, p_, v);
    if (error != std::errc() || at != p_ || !std::isfinite(v) || v == 0) return false;
    *out = v;
    return true;
  }

  // Any value of an unknown key: a string, a number or a literal (arrays
  // and objects there go to simdjson).
  bool SkipValue() {
    if (p_ >= end_) return false;
    std::string_view s;
    double d = 0;
    switch (*p_) {
      case '"':
        return String(&s);
      case 't':
        return Word("true");
      case 'f':
        return Word("false");
      case 'n':
        return Word("null");
      default:
        return Number(&d);
    }
  }

 private:
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  static constexpr uint64_t kPow10Int[] = {1ull,
                                           10ull,
                                           100ull,
                                           1000ull,
                                           10000ull,
                                           100000ull,
                                           1000000ull,
                                           10000000ull,
                                           100000000ull,
                                           1000000000ull,
                                           10000000000ull,
                                           100000000000ull,
                                           1000000000000ull,
                                           10000000000000ull,
                                           100000000000000ull,
                                           1000000000000000ull,
                                           10000000000000000ull,
                                           100000000000000000ull,
                                           1000000000000000000ull,
                                           10000000000000000000ull};
  static_assert(std::endian::native == std::endian::little, "the digit loads assume little endian");

  static uint64_t Load8(const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }

  // A byte's high bit in the result is set for every byte of v outside
  // '0'..'9': (v - '0'x8) sets it below '0', (v + 0x46x8) above '9'. The
  // borrows and carries of those sums only reach the bytes after the first
  // such byte, so the lowest set bit is exact.
  static uint64_t NotDigits(uint64_t v) {
    return ((v - 0x3030303030303030ull) | (v + 0x4646464646464646ull)) & 0x8080808080808080ull;
  }

  // How many ASCII digits start at `p` (p <= end_), at most up to end_.
  // Reads 16 bytes from `p` without a loop for the usual numbers (ids of
  // one or two digits, scores of 8 to 10 decimals): within the 64 readable
  // bytes past the end that the caller guarantees.
  [[gnu::always_inline]] size_t DigitRun(const char* p) const {
    size_t n = static_cast<size_t>(std::countr_zero(NotDigits(Load8(p)))) / 8;
    if (n == 8) {
      n += static_cast<size_t>(std::countr_zero(NotDigits(Load8(p + 8)))) / 8;
      if (n == 16) {
        const char* q = p + 16;
        while (q < end_ && *q >= '0' && *q <= '9') ++q;
        n = static_cast<size_t>(q - p);
      }
    }
    return std::min(n, static_cast<size_t>(end_ - p));
  }

  // The value of eight digit values, first digit in the lowest byte, by
  // three multiplies (pairs, then quads, then the eight).
  [[gnu::always_inline]] static uint64_t EightDigits(uint64_t v) {
    v = (v * 10) + (v >> 8);  // pairs in bytes 0, 2, 4, 6
    v = (((v & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
         (((v >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >>
        32;
    return v & 0xffffffffull;
  }

  // The value of 1..8 digits at `p`: shifted to the top of the word, the
  // bytes after them fall out and zero digits come in below.
  [[gnu::always_inline]] static uint64_t FewDigits(const char* p, size_t n) {
    return EightDigits((Load8(p) - 0x3030303030303030ull) << (64 - 8 * n));
  }

  // The value of 1..19 digits at `p`.
  [[gnu::always_inline]] static uint64_t DigitsValue(const char* p, size_t n) {
    if (n <= 8) return FewDigits(p, n);
    if (n <= 16) return EightDigits(Load8(p) - 0x3030303030303030ull) * kPow10Int[n - 8] +
                        FewDigits(p + 8, n - 8);
    uint64_t w = 0;
    for (; n > 0; --n) w = w * 10 + static_cast<uint64_t>(*p++ - '0');
    return w;
  }

  bool Word(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0)
      return false;
    p_ += word.size();
    return true;
  }

  const char* p_;
  const char* end_;
};

// A usual route line straight into the chunk's arrays, with the same
// results as FastRoute on simdjson's DOM. False for anything outside the
// scanner's subset, with `arrays` possibly holding a partial row.
bool ScanRoute(const char* data, size_t size, FieldIndex& index, JsonlRow* out,
               JsonlArrays* arrays) {
  LineScanner in(data, size);
  in.SkipSpace();
  if (!in.Take('{')) return false;
  in.SkipSpace();
  if (!in.Take('}')) {
    size_t position = 0;
    unsigned seen = 0;  // route fields read, one bit each: a repeat goes to simdjson
    for (;;) {
      // A key spelled as in the last line (the same bytes up to its value)
      // is that key; else it is read, and remembered for the next line.
      Field field = Field::kNone;
      bool type_key = false;
      const FieldIndex::Literal* literal = index.LiteralAt(position);
      if (literal != nullptr && in.TakeLiteral(literal->bytes, literal->size)) {
        field = literal->field;
        type_key = literal->type;
        in.SkipSpace();
      } else {
        const char* key_begin = in.pos();
        std::string_view key;
        if (!in.String(&key)) return false;
        in.SkipSpace();
        if (!in.Take(':')) return false;
        in.SkipSpace();
        field = index.Find(key, position);
        type_key = key.size() == 4 && std::memcmp(key.data(), "type", 4) == 0;
        index.Remember(position, key_begin, static_cast<size_t>(in.pos() - key_begin), field,
                       type_key);
      }
      ++position;
      if (type_key) {
        std::string_view type;
        if (field != Field::kNone || !in.String(&type) || type != "route") return false;
      } else if (field == Field::kNone) {
        if (!in.SkipValue()) return false;
      } else {
        const unsigned bit = 1u << static_cast<unsigned>(field);
        if ((seen & bit) != 0) return false;
        seen |= bit;
        switch (field) {
          case Field::kLayer: {
            uint64_t v = 0;
            if (!in.Uint(&v) || v > std::numeric_limits<uint32_t>::max()) return false;
            out->layer = static_cast<uint32_t>(v);
            out->has_layer = true;
            break;
          }
          case Field::kIds: {
            if (!in.Take('[')) return false;
            const size_t at = arrays->ids.size();
            in.SkipSpace();
            do {
              uint64_t id = 0;
              if (!in.Uint(&id) || id > std::numeric_limits<uint32_t>::max()) return false;
              arrays->ids.push_back(static_cast<uint32_t>(id));
            } while (in.NextItem());
            if (!in.Take(']')) return false;
            const size_t n = arrays->ids.size() - at;
            if (n >= 0xffffff) return false;
            out->ids_at = at;
            out->num_ids = static_cast<uint32_t>(n);
            out->has_ids = true;
            break;
          }
          case Field::kScores: {
            if (!in.Take('[')) return false;
            const size_t at = arrays->scores.size();
            in.SkipSpace();
            if (!in.Take(']')) {
              do {
                double score = 0;
                if (!in.Number(&score)) return false;
                arrays->scores.push_back(static_cast<float>(score));
              } while (in.NextItem());
              if (!in.Take(']')) return false;
            }
            const size_t n = arrays->scores.size() - at;
            if (n >= 0xffffff) return false;
            out->scores_at = at;
            out->num_scores = static_cast<uint32_t>(n);
            out->has_scores = true;
            break;
          }
          case Field::kToken:
            if (!in.Uint(&out->token)) return false;
            out->has_token = true;
            break;
          case Field::kSequence: {
            std::string_view text;
            if (in.Peek('"')) {
              if (!in.String(&text)) return false;
              out->sequence_is_string = true;
              out->sequence = arrays->strings.size();
              out->sequence_bytes = static_cast<uint32_t>(text.size());
              arrays->strings.append(text);
            } else if (!in.Uint(&out->sequence)) {
              return false;
            }
            out->has_sequence = true;
            break;
          }
          case Field::kRouted:
          case Field::kNone:
            return false;
        }
      }
      in.SkipSpace();
      if (in.Take(',')) {
        in.SkipSpace();
        continue;
      }
      if (in.Take('}')) break;
      return false;
    }
  }
  in.SkipSpace();
  return in.AtEnd();
}

Status ParseRouteField(Field field, std::string_view key, const element& value, JsonlRow* out,
                       JsonlArrays* arrays) {
  switch (field) {
    case Field::kLayer: {
      uint64_t layer = 0;
      EPSIM_RETURN_IF_ERROR(GetUint(value, key, std::numeric_limits<uint32_t>::max(), &layer));
      out->layer = static_cast<uint32_t>(layer);
      out->has_layer = true;
      return Status::Ok();
    }
    case Field::kIds:
      out->ids_at = arrays->ids.size();
      EPSIM_RETURN_IF_ERROR(GetIds(value, key, &arrays->ids));
      out->num_ids = static_cast<uint32_t>(arrays->ids.size() - out->ids_at);
      out->has_ids = true;
      return Status::Ok();
    case Field::kScores:
      out->scores_at = arrays->scores.size();
      EPSIM_RETURN_IF_ERROR(GetScores(value, key, &arrays->scores));
      out->num_scores = static_cast<uint32_t>(arrays->scores.size() - out->scores_at);
      out->has_scores = true;
      return Status::Ok();
    case Field::kToken:
      EPSIM_RETURN_IF_ERROR(
          GetUint(value, key, std::numeric_limits<uint64_t>::max(), &out->token));
      out->has_token = true;
      return Status::Ok();
    case Field::kSequence:
      EPSIM_RETURN_IF_ERROR(GetSequence(value, key, out, &arrays->strings));
      out->has_sequence = true;
      return Status::Ok();
    case Field::kRouted: {
      std::string_view encoded;
      if (value.get_string().get(encoded) == simdjson::SUCCESS)
        return Status::BadInput(fmt::format(
            "\"{}\" is a string (base64, as SGLang returns it): decode it to a "
            "[tokens][layers][k] array first (experiments/capture/README.md)",
            key));
      out->ids_at = arrays->ids.size();
      EPSIM_RETURN_IF_ERROR(GetRouted(value, key, out, &arrays->ids));
      out->num_ids = static_cast<uint32_t>(arrays->ids.size() - out->ids_at);
      out->has_routed = true;
      return Status::Ok();
    }
    case Field::kNone:
      return Status::Ok();
  }
  return Status::Ok();
}

}  // namespace

class JsonlLineParser::Impl {
 public:
  bool scan = true;
  uint64_t scanned = 0;
  simdjson::dom::parser parser;
  const JsonlFields* indexed = nullptr;  // the fields `index` was built for
  FieldIndex index;
};

JsonlLineParser::JsonlLineParser(bool scan) : impl_(std::make_unique<Impl>()) {
  impl_->scan = scan;
}
JsonlLineParser::~JsonlLineParser() = default;
uint64_t JsonlLineParser::scanned() const { return impl_->scanned; }

bool ScanJsonNumber(const char* data, size_t size, double* out) {
  LineScanner in(data, size);
  return in.Number(out) && in.AtEnd();
}

namespace {

// The common case without Status objects: a route row whose every field is
// well formed (no routed-experts array, no meta line). False for anything
// else, with `arrays` possibly holding a partial row; the caller then
// truncates them and takes the thorough path, which words the error.
bool FastRoute(const simdjson::dom::object& obj, FieldIndex& index, JsonlRow* out,
               JsonlArrays* arrays) {
  using simdjson::SUCCESS;
  size_t position = 0;
  for (auto [key, value] : obj) {
    if (key.size() == 4 && std::memcmp(key.data(), "type", 4) == 0) {
      std::string_view type;
      if (value.get_string().get(type) != SUCCESS || type != "route") return false;
    }
    switch (index.Find(key, position++)) {
      case Field::kLayer: {
        uint64_t v = 0;
        if (value.get_uint64().get(v) != SUCCESS || v > std::numeric_limits<uint32_t>::max())
          return false;
        out->layer = static_cast<uint32_t>(v);
        out->has_layer = true;
        break;
      }
      case Field::kIds: {
        simdjson::dom::array array;
        if (value.get_array().get(array) != SUCCESS) return false;
        const size_t n = array.size();
        if (n == 0 || n >= 0xffffff) return false;  // empty, or a saturated count
        const size_t at = arrays->ids.size();
        arrays->ids.resize(at + n);
        uint32_t* ids = arrays->ids.data() + at;
        for (element e : array) {
          uint64_t id = 0;
          if (e.get_uint64().get(id) != SUCCESS || id > std::numeric_limits<uint32_t>::max())
            return false;
          *ids++ = static_cast<uint32_t>(id);
        }
        out->ids_at = at;
        out->num_ids = static_cast<uint32_t>(n);
        out->has_ids = true;
        break;
      }
      case Field::kScores: {
        simdjson::dom::array array;
        if (value.get_array().get(array) != SUCCESS) return false;
        const size_t n = array.size();
        if (n >= 0xffffff) return false;
        const size_t at = arrays->scores.size();
        arrays->scores.resize(at + n);
        float* scores = arrays->scores.data() + at;
        for (element e : array) {
          double p = 0;
          if (e.get_double().get(p) != SUCCESS || !std::isfinite(p)) return false;
          *scores++ = static_cast<float>(p);
        }
        out->scores_at = at;
        out->num_scores = static_cast<uint32_t>(n);
        out->has_scores = true;
        break;
      }
      case Field::kToken:
        if (value.get_uint64().get(out->token) != SUCCESS) return false;
        out->has_token = true;
        break;
      case Field::kSequence: {
        std::string_view text;
        if (value.get_string().get(text) == SUCCESS) {
          out->sequence_is_string = true;
          out->sequence = arrays->strings.size();
          out->sequence_bytes = static_cast<uint32_t>(text.size());
          arrays->strings.append(text);
        } else if (value.get_uint64().get(out->sequence) != SUCCESS) {
          return false;
        }
        out->has_sequence = true;
        break;
      }
      case Field::kRouted:
        return false;
      case Field::kNone:
        break;
    }
  }
  return true;
}

}  // namespace

Status JsonlLineParser::Parse(const char* data, size_t size, const JsonlFields& fields,
                              JsonlRow* out, JsonlMeta* meta, JsonlArrays* arrays,
                              std::vector<std::string>* keys) {
  if (impl_->indexed != &fields) {
    impl_->index.Build(fields);
    impl_->indexed = &fields;
  }
  *out = JsonlRow();
  if (keys != nullptr) keys->clear();
  if (keys == nullptr && impl_->scan) {
    const size_t ids = arrays->ids.size(), scores = arrays->scores.size(),
                 strings = arrays->strings.size();
    if (ScanRoute(data, size, impl_->index, out, arrays)) {
      ++impl_->scanned;
      return Status::Ok();
    }
    arrays->ids.resize(ids);
    arrays->scores.resize(scores);
    arrays->strings.resize(strings);
    *out = JsonlRow();
  }
  // simdjson reads up to SIMDJSON_PADDING bytes past the end: the caller's.
  static_assert(simdjson::SIMDJSON_PADDING <= 64, "LogInput pads chunks by 64 bytes");
  element doc;
  if (impl_->parser.parse(data, size, /*realloc_if_needed=*/false).get(doc) != simdjson::SUCCESS)
    return Status::BadInput("malformed JSON");
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS)
    return Status::BadInput("not a JSON object");
  if (keys == nullptr) {
    const size_t ids = arrays->ids.size(), scores = arrays->scores.size(),
                 strings = arrays->strings.size();
    if (FastRoute(obj, impl_->index, out, arrays)) return Status::Ok();
    arrays->ids.resize(ids);
    arrays->scores.resize(scores);
    arrays->strings.resize(strings);
    *out = JsonlRow();
  }
  // The thorough path: meta lines, routed-experts arrays, shape detection
  // (`keys`), and every error. One pass over the keys: "type" (usually
  // first) says route or meta.
  size_t position = 0;
  for (auto [key, value] : obj) {
    if (key.size() == 4 && std::memcmp(key.data(), "type", 4) == 0) {
      std::string_view type;
      if (value.get_string().get(type) != simdjson::SUCCESS || (type != "route" && type != "meta"))
        return Status::BadInput(
            fmt::format("\"type\" is {}, expected \"route\" or \"meta\"", Text(value)));
      if (type == "meta") {
        *out = JsonlRow();
        out->is_meta = true;
        *meta = JsonlMeta();
        return ParseMeta(obj, meta);
      }
    }
    if (keys != nullptr) keys->emplace_back(key);
    EPSIM_RETURN_IF_ERROR(ParseRouteField(impl_->index.Find(key, position++), key, value, out, arrays));
  }
  return Status::Ok();
}

}  // namespace epsim::trace
