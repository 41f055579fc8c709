// Reading the text of measurement logs (sim/measure): lines, tokens, and
// numbers as a benchmark printed them.
//
// Benchmarks print rounded figures: nccl-tests prints a time of 10442.3 us
// as "10442" and one of 17.083 us as "17.08". A PrintedNumber keeps what the
// text says about its own precision, so that a check between printed
// figures (algbw = size / time) can be exactly as loose as the rounding and
// no looser: the true value lies within value +- half_step.
#ifndef EPSIM_SIM_MEASURE_LOG_TEXT_H_
#define EPSIM_SIM_MEASURE_LOG_TEXT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/base/status.h"

namespace epsim::measure {

// The lines of `text`, split at '\n'; a trailing '\r' (logs saved on
// Windows) is removed. Line i of the file is element i - 1.
std::vector<std::string> SplitLines(const std::string& text);

// The whitespace-separated tokens of `line` (spaces and tabs).
std::vector<std::string> Tokens(const std::string& line);

bool IsBlank(const std::string& line);

// BadInput "file:line: message" (line 1-based).
Status BadLine(const std::string& file, int line, const std::string& message);

// A decimal number as printf's %d, %f, %e or %g writes it: an optional
// sign, digits, optionally '.' and digits, optionally e/E, a sign and
// digits ("12.25", "-1", "10442", "1.2e+07", "6e+06").
struct PrintedNumber {
  double value = 0;
  // Half a unit of the last printed digit: 0.005 for "12.25", 0.5 for
  // "10442", 5e5 for "1.2e+07".
  double half_step = 0;
  std::string text;  // the token as printed, for messages
  double lo() const { return value - half_step; }
  double hi() const { return value + half_step; }
};

// nullopt for anything else: "nan", "inf", "1,5", "0x10", "12.", ".5",
// "1e999" (out of range), trailing characters.
std::optional<PrintedNumber> ParsePrintedNumber(const std::string& token);

// Digits only, no sign, fits 64 bits.
std::optional<uint64_t> ParseUnsigned(const std::string& token);
// An optional '-' then digits, fits 64 bits.
std::optional<int64_t> ParseSigned(const std::string& token);

// For messages: the shortest text that reads back as `value` (fmt's "{}").
std::string FormatDouble(double value);

}  // namespace epsim::measure

#endif  // EPSIM_SIM_MEASURE_LOG_TEXT_H_
