// What a person feels in the GUI thread, measured per phase of the control-room benchmark:
// how late a 10 ms timer fires (event-loop latency), how long each chart's replot takes, and
// how much CPU the GUI thread burns. Fixed-size histograms, so a 30-minute run does not grow
// the very memory it measures.
#pragma once

#include <QList>
#include <QObject>
#include <QTimer>
#include <cstdint>
#include <vector>

class QCustomPlot;

namespace edgerig::bench {

struct PhaseStats {
  double seconds = 0;
  uint64_t ticks = 0;  // timer firings
  double late_p50_ms = 0, late_p99_ms = 0, late_max_ms = 0;
  uint64_t replots = 0;  // chart replots (every QCustomPlot counts)
  double replot_mean_ms = 0, replot_max_ms = 0;
  double gui_cpu_percent = 0;      // GUI thread CPU time / wall time
  double process_cpu_percent = 0;  // every thread of this process (not the agents)
};

// Timer lateness and replot times since a reset, in a histogram of fixed size.
class LatencyAccumulator {
 public:
  static constexpr double kBinMs = 0.02;
  static constexpr int kBins = 50000;  // 0..1000 ms; later ticks only move the max

  LatencyAccumulator();
  void reset();
  void addLateness(double ms);
  void addReplot(double ms);
  PhaseStats stats() const;  // without the time and CPU fields

 private:
  double percentile(double p) const;

  std::vector<uint32_t> bins_;
  uint64_t ticks_ = 0;
  double late_max_ms_ = 0;
  uint64_t replots_ = 0;
  double replot_sum_ms_ = 0, replot_max_ms_ = 0;
};

class LatencyProbe : public QObject {
 public:
  static constexpr int kTickMs = 10;

  // Watches every chart in `plots` (afterReplot → replotTime).
  explicit LatencyProbe(const QList<QCustomPlot*>& plots, QObject* parent = nullptr);

  void begin();           // starts the phase (and its first interval)
  PhaseStats interval();  // since begin() or the previous interval(); starts the next one
  PhaseStats end();       // since begin(); stops the timer

 private:
  struct Clocks {
    double wall_s = 0, thread_cpu_s = 0, process_cpu_s = 0;
  };
  static Clocks clocksNow();
  static PhaseStats finish(const LatencyAccumulator& acc, const Clocks& since);
  void onTick();

  QTimer timer_;
  bool active_ = false;
  double last_tick_s_ = -1;
  LatencyAccumulator phase_, interval_;
  Clocks phase_start_, interval_start_;
};

}  // namespace edgerig::bench
