// What the plots draw, apart from drawing it: which chart a metric belongs to, the series derived
// from cumulative counters (traffic rates per message kind, busy fractions), the sliding buffer of
// one series, and the short label of an event marker.
#pragma once

#include <QColor>
#include <QString>
#include <cstddef>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/controller/rate_window.h"
#include "core/runlog/run_log.h"
#include "device_bridge/traffic_kind.h"

namespace edgerig::ui {

// Three are the gossip algorithms' (empty for the others): bytes each iteration costs per
// message kind, the consensus distance (how far apart the devices' models are), and sparse-push's
// achieved compression ratio per device. The others are algorithm metric charts (kMetricCharts):
// each draws one metric any algorithm may write with RunContext::metric, and is shown once it
// arrives.
enum class Chart {
  kAccuracy,
  kLoss,
  kThroughput,
  kTraffic,
  kTrafficKind,
  kBusy,
  kBytesPerIteration,
  kConsensus,
  kCompression,
  kRouted,
  kLocalBatch,
  kIterationTime,
  kExchangePeriod,
  kIterationSpread
};
inline constexpr int kChartCount = 14;

// A chart that draws one metric an algorithm writes (per device: a line per device; or for the
// run), laid out only once the metric arrives. A new one is a Chart value and a row here; the
// live plots, the replay of a run folder, the chart's CSV and the comparison follow.
struct MetricChart {
  // How compared runs are reduced to one line each (compare mode).
  enum class Across {
    kValue,   // a run-level metric as it is
    kSum,     // the devices' latest values added up
    kMean,    // ... averaged
    kSpread,  // ... the largest over the smallest (1 when all are equal)
  };
  Chart chart;
  const char* metric;
  bool per_device;
  const char* title;          // live
  const char* compare_title;  // runs compared
  const char* unit;
  Across across;
  bool steps;  // a value that holds until the next one (a batch size, a period): drawn as steps
  bool log;    // a log y axis: ratios between the lines read as equal gaps
};
inline constexpr MetricChart kMetricCharts[] = {
    {Chart::kCompression, "compression_ratio", true, "Compression ratio (dense / sent)",
     "Compression ratio, mean of the devices", "ratio", MetricChart::Across::kMean, false, false},
    // respipe: micro-batches each device ran on its replica of a late successor, per second.
    {Chart::kRouted, "routed_per_s", true, "Routed micro-batches per device (/s)",
     "Routed micro-batches, all devices (/s)", "micro-batches/s", MetricChart::Across::kSum, false,
     false},
    // edgegossip: each device's share of the global batch, its compute seconds per round, and
    // how many rounds pass between two exchanges.
    {Chart::kLocalBatch, "local_batch", true, "Local batch per device (samples)",
     "Local batch spread, largest / smallest device", "samples", MetricChart::Across::kSpread, true,
     false},
    {Chart::kIterationTime, "iteration_time", true, "Iteration time per device (s)",
     "Iteration time spread, slowest / fastest device", "s", MetricChart::Across::kSpread, false,
     true},
    {Chart::kExchangePeriod, "exchange_period", false, "Exchange period (rounds)",
     "Exchange period (rounds)", "rounds", MetricChart::Across::kValue, true, false},
    // Derived from iteration_time (DerivedMetrics): live and replayed, not compared (there the
    // iteration time chart's line is the spread already).
    {Chart::kIterationSpread, "iteration_time_spread", false, "Iteration time spread (max/min)",
     "Iteration time spread (max/min)", "ratio", MetricChart::Across::kValue, false, false},
};
// The row for chart c, or nullptr when c is not a metric chart.
const MetricChart* metricChart(Chart c);

// Message kinds the agents count bytes for (metrics bytes_sent_<kind>, cumulative per device),
// in the order of device_bridge/traffic_kind.h.
inline const std::vector<std::string> kMessageKinds = [] {
  std::vector<std::string> out;
  for (auto k : bridge::kReportedTrafficKinds) out.emplace_back(bridge::trafficKindName(k));
  return out;
}();
// Derived series: "bytes_sent_<kind>_per_s" for the run (summed over devices, bytes/s) and
// "busy_percent" per device (0..100).
std::string kindRateMetric(const std::string& kind);
// "bytes_sent_<kind>_per_iteration": the run's bytes of that kind (summed over devices) per
// iteration, over the last kIterationWindow iterations.
std::string kindPerIterationMetric(const std::string& kind);
inline constexpr const char* kBusyPercentMetric = "busy_percent";
// "iteration_time_spread" for the run: over the devices that report iteration_time, the slowest
// one's median of its last kSpreadRounds over the fastest one's, a point per iteration once every
// device still reporting has reported it.
inline constexpr const char* kIterationSpreadMetric = "iteration_time_spread";

// The chart a sample is drawn on, or -1 when no chart shows it.
int chartOf(const MetricSample& m);
// A run-level series' fixed colour and legend name (device series take their device's).
QColor runSeriesColor(const std::string& metric);
QString runSeriesName(const std::string& metric);
QString chartTitle(Chart c);
QString chartUnit(Chart c);
// Drawn value = stored value × scale (bytes/s are drawn as MB/s; CSV keeps the stored value).
double chartScale(Chart c);

// A marker's label for events drawn as vertical lines (faults, plan changes, switches, pauses,
// lost and restarted devices); empty for every other kind.
QString markerLabel(const RunEvent& e);

// Turns the cumulative counters devices report (bytes_sent_<kind>, busy_s, idle_s) into what the
// plots draw: per-kind rates summed over devices, and per-device busy fractions, both over the
// last RateWindow::kDefaultWindowS seconds like every rate the run records. A counter that goes
// down (a restarted agent) starts a new baseline instead of drawing a negative rate.
class DerivedMetrics {
 public:
  // A device silent for this long (run time) no longer counts in the per-kind sums.
  static constexpr double kStaleS = 3.0;
  // Bytes per iteration are averaged over this many iterations (fewer at the start).
  static constexpr int64_t kIterationWindow = 20;
  // Round times are noisy (2-5x on a loaded machine): the spread compares medians of this many.
  static constexpr size_t kSpreadRounds = 7;

  // Appends to `out` what `m` derives (nothing for most metrics, or for a first sample).
  void add(const MetricSample& m, std::vector<MetricSample>* out);
  void clear();

 private:
  struct Counter {
    double time_s = -1;
    double total = 0;
    RateWindow window;
  };
  struct Rate {
    double time_s = 0;
    double bytes_per_s = 0;
  };
  struct KindState {
    std::map<std::string, Counter> counters;  // by device
    std::map<std::string, Rate> rates;        // by device, the latest
    std::set<std::string> pending;            // devices with a new rate since the last sum
    // The sum over devices of the counters at past iterations, oldest first: (iteration, bytes).
    std::deque<std::pair<int64_t, double>> by_iteration;
  };
  // busy_s and idle_s of one report arrive as two samples with the same time_s: a point is made
  // once both are in. Busy and idle seconds per second over the same window give the fraction.
  struct BusyState {
    double last_busy = -1, last_idle = -1;  // the previous report's pair
    RateWindow busy, idle;
    double time_s = -1;
    double busy_now = -1, idle_now = -1;
  };

  void addBytes(const std::string& kind, const MetricSample& m, std::vector<MetricSample>* out);
  void addPerIteration(const std::string& kind, KindState& k, const MetricSample& m,
                       std::vector<MetricSample>* out);
  void addBusy(const MetricSample& m, bool busy, std::vector<MetricSample>* out);
  void addIterationTime(const MetricSample& m, std::vector<MetricSample>* out);

  struct RoundTimes {
    std::deque<double> recent;  // the last kSpreadRounds
    int64_t iteration = -1;     // of the latest
  };
  std::map<std::string, RoundTimes> round_times_;  // by device
  int64_t spread_iteration_ = -1;                  // the latest spread point's
  std::map<std::string, KindState> kinds_;
  std::map<std::string, BusyState> busy_;  // by device
};

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
