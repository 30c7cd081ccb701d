// What the plots draw, apart from drawing it: which chart a metric belongs to, the sliding
// buffer of one series, and the short label of an event marker.
#pragma once

#include <QString>
#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include "core/runlog/run_log.h"

namespace edgerig::ui {

enum class Chart { kAccuracy, kLoss, kThroughput, kTraffic };
inline constexpr int kChartCount = 4;

// The chart a sample is drawn on, or -1 when no chart shows it.
int chartOf(const MetricSample& m);
QString chartTitle(Chart c);
QString chartUnit(Chart c);
// Drawn value = stored value × scale (bytes/s are drawn as MB/s; CSV keeps the stored value).
double chartScale(Chart c);

// A marker's label for events drawn as vertical lines (faults, plan changes, switches, lost
// devices); empty for every other kind.
QString markerLabel(const RunEvent& e);

struct PlotPoint {
  double time_s = 0;
  double iteration = 0;
  double value = 0;
};

// The most recent points of one series. Memory is bounded: past `capacity` the oldest quarter
// goes at once, so trimming is rare and the plot can drop the same range in one call.
class SeriesBuffer {
 public:
  explicit SeriesBuffer(size_t capacity) : capacity_(capacity) {}

  void append(const PlotPoint& p);
  const std::deque<PlotPoint>& points() const { return points_; }
  // Points appended since the last takeNew(), and whether older points were dropped since.
  size_t pendingCount() const { return pending_; }
  bool trimmedSinceTake() const { return trimmed_; }
  void markTaken() {
    pending_ = 0;
    trimmed_ = false;
  }

 private:
  size_t capacity_;
  std::deque<PlotPoint> points_;
  size_t pending_ = 0;
  bool trimmed_ = false;
};

}  // namespace edgerig::ui
