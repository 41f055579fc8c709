// ProgressMeter: a one-line progress bar for long conversions (imports of
// multi-gigabyte logs), drawn on a stream the caller owns (stderr).
//
// Nothing is drawn during the first `delay_s` (2 s): short runs stay silent.
// After that the line is redrawn (carriage return, no newline) at most every
// `interval_s` (0.1 s) with the bytes done of the total and the rate in rows
// per second; Finish() draws it a last time and ends it with a newline, only
// if it was ever drawn. Sizes are SI (1 GB = 1e9 bytes).
#ifndef EPSIM_SIM_TRACE_PROGRESS_H_
#define EPSIM_SIM_TRACE_PROGRESS_H_

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

namespace epsim::trace {

class ProgressMeter {
 public:
  // Seconds since some fixed point; tests pass a fake clock.
  using Clock = std::function<double()>;

  // `out` nullptr: the meter does nothing. `total_bytes` 0: unknown.
  ProgressMeter(std::ostream* out, uint64_t total_bytes, Clock clock = nullptr,
                double delay_s = 2.0, double interval_s = 0.1);

  // Reports totals so far; redraws when due. Reads the clock on every call,
  // so callers call it every few hundred rows, not every row.
  void Update(uint64_t bytes_done, uint64_t rows_done);
  // Ends the line if the bar was drawn.
  void Finish();

  bool drawn() const { return drawn_; }

 private:
  void Draw(double now_s);

  std::ostream* out_;
  uint64_t total_bytes_;
  Clock clock_;
  double delay_s_;
  double interval_s_;
  double start_s_;
  double last_draw_s_ = 0;
  uint64_t bytes_ = 0;
  uint64_t rows_ = 0;
  bool drawn_ = false;
  bool finished_ = false;
};

// The bar line for the given figures, without the leading '\r' (tests).
std::string FormatProgress(uint64_t bytes_done, uint64_t total_bytes, uint64_t rows,
                           double elapsed_s);

// Whether `epsim` draws progress bars: EPSIM_PROGRESS=1 forces them on,
// EPSIM_PROGRESS=0 off; otherwise only when stderr is a terminal, so CI logs
// and redirected output stay clean.
bool ProgressWanted();

}  // namespace epsim::trace

#endif  // EPSIM_SIM_TRACE_PROGRESS_H_
