#include "bench/ui/latency_probe.h"

#include <qcustomplot.h>
#include <time.h>

#include <algorithm>
#include <cmath>

namespace edgerig::bench {
namespace {
double seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
}  // namespace

LatencyAccumulator::LatencyAccumulator() : bins_(kBins, 0) {}

void LatencyAccumulator::reset() {
  std::fill(bins_.begin(), bins_.end(), 0);
  ticks_ = 0;
  late_max_ms_ = 0;
  replots_ = 0;
  replot_sum_ms_ = replot_max_ms_ = 0;
}

void LatencyAccumulator::addLateness(double ms) {
  ms = std::max(ms, 0.0);  // a tick right after a late one comes early: that is not latency
  const auto bin = static_cast<size_t>(ms / kBinMs);
  ++bins_[std::min(bin, bins_.size() - 1)];
  ++ticks_;
  late_max_ms_ = std::max(late_max_ms_, ms);
}

void LatencyAccumulator::addReplot(double ms) {
  ++replots_;
  replot_sum_ms_ += ms;
  replot_max_ms_ = std::max(replot_max_ms_, ms);
}

double LatencyAccumulator::percentile(double p) const {
  if (ticks_ == 0) return 0;
  const auto rank = static_cast<uint64_t>(std::ceil(p * static_cast<double>(ticks_)));
  uint64_t seen = 0;
  for (size_t b = 0; b < bins_.size(); ++b) {
    seen += bins_[b];
    if (seen >= std::max<uint64_t>(rank, 1)) {
      // The last bin holds everything past the range: only the max is known there.
      if (b + 1 == bins_.size()) return late_max_ms_;
      // The bin's upper edge, but never past the largest value seen.
      return std::min(static_cast<double>(b + 1) * kBinMs, late_max_ms_);
    }
  }
  return late_max_ms_;
}

PhaseStats LatencyAccumulator::stats() const {
  PhaseStats s;
  s.ticks = ticks_;
  s.late_p50_ms = percentile(0.50);
  s.late_p99_ms = percentile(0.99);
  s.late_max_ms = late_max_ms_;
  s.replots = replots_;
  s.replot_mean_ms = replots_ ? replot_sum_ms_ / static_cast<double>(replots_) : 0;
  s.replot_max_ms = replot_max_ms_;
  return s;
}

LatencyProbe::LatencyProbe(const QList<QCustomPlot*>& plots, QObject* parent) : QObject(parent) {
  timer_.setTimerType(Qt::PreciseTimer);
  timer_.setInterval(kTickMs);
  connect(&timer_, &QTimer::timeout, this, [this] { onTick(); });
  for (QCustomPlot* plot : plots) {
    connect(plot, &QCustomPlot::afterReplot, this, [this, plot] {
      if (!active_) return;
      const double ms = plot->replotTime(/*average=*/false);
      phase_.addReplot(ms);
      interval_.addReplot(ms);
    });
  }
}

LatencyProbe::Clocks LatencyProbe::clocksNow() {
  return {seconds(CLOCK_MONOTONIC), seconds(CLOCK_THREAD_CPUTIME_ID),
          seconds(CLOCK_PROCESS_CPUTIME_ID)};
}

void LatencyProbe::begin() {
  phase_.reset();
  interval_.reset();
  phase_start_ = interval_start_ = clocksNow();
  last_tick_s_ = -1;
  active_ = true;
  timer_.start();
}

void LatencyProbe::onTick() {
  const double now = seconds(CLOCK_MONOTONIC);
  if (last_tick_s_ >= 0) {
    const double late_ms = (now - last_tick_s_) * 1000.0 - kTickMs;
    phase_.addLateness(late_ms);
    interval_.addLateness(late_ms);
  }
  last_tick_s_ = now;
}

PhaseStats LatencyProbe::finish(const LatencyAccumulator& acc, const Clocks& since) {
  const Clocks now = clocksNow();
  PhaseStats s = acc.stats();
  s.seconds = now.wall_s - since.wall_s;
  if (s.seconds > 0) {
    s.gui_cpu_percent = 100.0 * (now.thread_cpu_s - since.thread_cpu_s) / s.seconds;
    s.process_cpu_percent = 100.0 * (now.process_cpu_s - since.process_cpu_s) / s.seconds;
  }
  return s;
}

PhaseStats LatencyProbe::interval() {
  PhaseStats s = finish(interval_, interval_start_);
  interval_.reset();
  interval_start_ = clocksNow();
  return s;
}

PhaseStats LatencyProbe::end() {
  timer_.stop();
  active_ = false;
  return finish(phase_, phase_start_);
}

}  // namespace edgerig::bench
