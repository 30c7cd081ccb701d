#include "ui/compare_series.h"

#include <cmath>
#include <map>

#include "core/controller/rate_window.h"

namespace edgerig::ui {

std::array<CompareLine, kChartCount> compareLines(const std::vector<MetricSample>& metrics) {
  std::array<CompareLine, kChartCount> lines;
  auto line = [&lines](Chart c) -> CompareLine& { return lines[static_cast<size_t>(c)]; };
  line(Chart::kAccuracy).metric = "test_accuracy";
  line(Chart::kLoss).metric = "train_loss";
  line(Chart::kThroughput).metric = "samples_per_s";
  line(Chart::kTraffic).metric = "bytes_out_per_s";
  line(Chart::kTrafficKind).metric = "bytes_sent";
  line(Chart::kBusy).metric = kBusyPercentMetric;
  line(Chart::kBytesPerIteration).metric = "bytes_sent";
  line(Chart::kConsensus).metric = "consensus_distance";
  line(Chart::kCompression).metric = "compression_ratio";
  line(Chart::kRouted).metric = "routed_per_s";

  // Devices' cumulative counters, the latest of each: their sums over devices are the run's.
  std::map<std::string, double> sent, busy, idle, ratio, routed;
  auto sum = [](const std::map<std::string, double>& m) {
    double s = 0;
    for (const auto& [device, v] : m) s += v;
    return s;
  };
  RateWindow sent_rate, busy_rate, idle_rate;
  // Devices that report at the same moment make one point, with all of them counted: not one
  // point per device drawn on top of each other (a zigzag at one x).
  auto put = [&line](Chart c, const PlotPoint& p) {
    auto& points = line(c).points;
    if (!points.empty() && points.back().time_s == p.time_s) {
      points.back() = p;
    } else {
      points.push_back(p);
    }
  };
  for (const MetricSample& m : metrics) {
    const PlotPoint at{m.time_s, static_cast<double>(m.iteration), m.value};
    if (m.device.empty()) {
      if (m.metric == "test_accuracy") line(Chart::kAccuracy).points.push_back(at);
      if (m.metric == "train_loss") line(Chart::kLoss).points.push_back(at);
      if (m.metric == "samples_per_s") line(Chart::kThroughput).points.push_back(at);
      if (m.metric == "consensus_distance") line(Chart::kConsensus).points.push_back(at);
      continue;
    }
    if (m.metric == "compression_ratio") {
      // The devices' mean: one line a run.
      ratio[m.device] = m.value;
      put(Chart::kCompression,
          {m.time_s, at.iteration, sum(ratio) / static_cast<double>(ratio.size())});
    }
    if (m.metric == "routed_per_s") {
      // The devices' sum: one line a run.
      routed[m.device] = m.value;
      put(Chart::kRouted, {m.time_s, at.iteration, sum(routed)});
    }
    if (m.metric == "bytes_sent") {
      sent[m.device] = m.value;
      const double total = sum(sent);
      put(Chart::kTrafficKind, {m.time_s, at.iteration, total});
      if (m.iteration > 0) {
        put(Chart::kBytesPerIteration, {m.time_s, at.iteration, total / at.iteration});
      }
      sent_rate.add(m.time_s, total);
      if (sent_rate.ready()) put(Chart::kTraffic, {m.time_s, at.iteration, sent_rate.rate()});
    } else if (m.metric == "busy_s") {
      busy[m.device] = m.value;
    } else if (m.metric == "idle_s") {
      // A report's busy_s comes just before its idle_s: one point per report.
      idle[m.device] = m.value;
      busy_rate.add(m.time_s, sum(busy));
      idle_rate.add(m.time_s, sum(idle));
      const double b = busy_rate.rate(), i = idle_rate.rate();
      if (busy_rate.ready() && b + i > 1e-12) {
        put(Chart::kBusy, {m.time_s, at.iteration, 100.0 * b / (b + i)});
      }
    }
  }
  return lines;
}

QString compareChartTitle(Chart c) {
  switch (c) {
    case Chart::kAccuracy:
      return QStringLiteral("Test accuracy");
    case Chart::kLoss:
      return QStringLiteral("Training loss");
    case Chart::kThroughput:
      return QStringLiteral("Throughput (samples/s)");
    case Chart::kTraffic:
      return QStringLiteral("Traffic out, all devices (MB/s)");
    case Chart::kTrafficKind:
      return QStringLiteral("Bytes sent so far, all devices (MB)");
    case Chart::kBusy:
      return QStringLiteral("Busy time, all devices (%)");
    case Chart::kBytesPerIteration:
      return QStringLiteral("Bytes per iteration so far, all kinds (kB)");
    case Chart::kConsensus:
      return QStringLiteral("Consensus distance");
    case Chart::kCompression:
      return QStringLiteral("Compression ratio, mean of the devices");
    case Chart::kRouted:
      return QStringLiteral("Routed micro-batches, all devices (/s)");
  }
  return {};
}

QString compareChartUnit(Chart c) {
  return c == Chart::kTrafficKind ? QStringLiteral("MB") : chartUnit(c);
}

void decimateMinMax(const std::vector<PlotPoint>& points, bool by_iteration, double bin_width,
                    double scale, QVector<double>* keys, QVector<double>* values) {
  keys->clear();
  values->clear();
  if (points.empty()) return;
  auto xOf = [by_iteration](const PlotPoint& p) { return by_iteration ? p.iteration : p.time_s; };
  auto keep = [&](size_t i) {
    keys->push_back(xOf(points[i]));
    values->push_back(points[i].value * scale);
  };
  const bool binned = bin_width > 0 && std::isfinite(bin_width);
  size_t lo = 0, hi = 0, begin = 0;
  double bin = binned ? std::floor(xOf(points[0]) / bin_width) : 0;
  auto flush = [&](size_t end) {
    // The group [begin, end): its first point when it is the series' first, its extremes.
    if (begin == 0 && lo != 0 && hi != 0) keep(0);
    const size_t a = std::min(lo, hi), b = std::max(lo, hi);
    keep(a);
    if (b != a) keep(b);
    if (end == points.size() && b != end - 1) keep(end - 1);
  };
  for (size_t i = 0; i < points.size(); ++i) {
    const double b = binned ? std::floor(xOf(points[i]) / bin_width) : static_cast<double>(i);
    if (i > begin && b != bin) {
      flush(i);
      begin = lo = hi = i;
      bin = b;
      continue;
    }
    if (points[i].value < points[lo].value) lo = i;
    if (points[i].value > points[hi].value) hi = i;
  }
  flush(points.size());
}

}  // namespace edgerig::ui
