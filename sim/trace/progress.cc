#include "sim/trace/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ostream>

namespace epsim::trace {

namespace {

constexpr int kBarWidth = 30;

double SteadyNowS() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string FormatRate(double per_s) {
  if (per_s >= 1e6) return fmt::format("{:.2f}M", per_s / 1e6);
  if (per_s >= 1e3) return fmt::format("{:.1f}k", per_s / 1e3);
  return fmt::format("{:.0f}", per_s);
}

}  // namespace

ProgressMeter::ProgressMeter(std::ostream* out, uint64_t total_bytes, Clock clock, double delay_s,
                             double interval_s)
    : out_(out),
      total_bytes_(total_bytes),
      clock_(clock ? std::move(clock) : Clock(SteadyNowS)),
      delay_s_(delay_s),
      interval_s_(interval_s),
      start_s_(out ? clock_() : 0) {}

void ProgressMeter::Update(uint64_t bytes_done, uint64_t rows_done) {
  if (out_ == nullptr || finished_) return;
  bytes_ = bytes_done;
  rows_ = rows_done;
  const double now = clock_();
  if (now - start_s_ < delay_s_) return;
  if (drawn_ && now - last_draw_s_ < interval_s_) return;
  Draw(now);
}

void ProgressMeter::Finish() {
  if (out_ == nullptr || finished_) return;
  finished_ = true;
  if (!drawn_) return;
  Draw(clock_());
  *out_ << "\n" << std::flush;
}

void ProgressMeter::Draw(double now_s) {
  // Trailing spaces wipe what a longer previous line left behind.
  *out_ << '\r' << FormatProgress(bytes_, total_bytes_, rows_, now_s - start_s_) << "   "
        << std::flush;
  drawn_ = true;
  last_draw_s_ = now_s;
}

std::string FormatProgress(uint64_t bytes_done, uint64_t total_bytes, uint64_t rows,
                           double elapsed_s) {
  const double rate = elapsed_s > 0 ? static_cast<double>(rows) / elapsed_s : 0;
  if (total_bytes == 0)
    return fmt::format("{:.2f} GB, {} rows/s", bytes_done / 1e9, FormatRate(rate));
  const double fraction = std::min(1.0, static_cast<double>(bytes_done) / total_bytes);
  const int filled = static_cast<int>(fraction * kBarWidth);
  return fmt::format("[{}{}] {:3.0f}% {:.2f}/{:.2f} GB, {} rows/s", std::string(filled, '#'),
                     std::string(kBarWidth - filled, ' '), fraction * 100, bytes_done / 1e9,
                     total_bytes / 1e9, FormatRate(rate));
}

bool ProgressWanted() {
  const char* env = std::getenv("EPSIM_PROGRESS");
  if (env != nullptr && std::strcmp(env, "1") == 0) return true;
  if (env != nullptr && std::strcmp(env, "0") == 0) return false;
  return ::isatty(STDERR_FILENO) == 1;
}

}  // namespace epsim::trace
