#include "ui/compare_series.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "core/controller/rate_window.h"

namespace edgerig::ui {

namespace {

double across(MetricChart::Across how, const std::map<std::string, double>& values) {
  double sum = 0, lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& [device, v] : values) {
    sum += v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  switch (how) {
    case MetricChart::Across::kSum:
      return sum;
    case MetricChart::Across::kMean:
      return sum / static_cast<double>(values.size());
    case MetricChart::Across::kSpread:
      return lo > 0 ? hi / lo : 1.0;
    case MetricChart::Across::kValue:
      break;
  }
  return values.empty() ? 0.0 : values.begin()->second;
}

}  // namespace

std::array<CompareLine, kChartCount> compareLines(const std::vector<MetricSample>& metrics) {
  std::array<CompareLine, kChartCount> lines;
  auto line = [&lines](Chart c) -> CompareLine& { return lines[static_cast<size_t>(c)]; };
  line(Chart::kAccuracy).metric = "test_accuracy";
  line(Chart::kAccuracy).second_metric = "averaged_model_accuracy";
  line(Chart::kLoss).metric = "train_loss";
  line(Chart::kThroughput).metric = "samples_per_s";
  line(Chart::kTraffic).metric = "bytes_out_per_s";
  line(Chart::kTrafficKind).metric = "bytes_sent";
  line(Chart::kBusy).metric = kBusyPercentMetric;
  line(Chart::kBytesPerIteration).metric = "bytes_sent";
  line(Chart::kConsensus).metric = "consensus_distance";
  for (const MetricChart& mc : kMetricCharts) line(mc.chart).metric = mc.metric;

  // Devices' cumulative counters, the latest of each: their sums over devices are the run's.
  std::map<std::string, double> sent, busy, idle;
  // An algorithm metric per device, the latest of each device, by chart.
  std::array<std::map<std::string, double>, kChartCount> latest;
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
    for (const MetricChart& mc : kMetricCharts) {
      if (m.metric != mc.metric || m.device.empty() == mc.per_device) continue;
      if (!mc.per_device) {
        line(mc.chart).points.push_back(at);
        continue;
      }
      // One line a run: the devices' latest values reduced to one.
      auto& values = latest[static_cast<size_t>(mc.chart)];
      values[m.device] = m.value;
      put(mc.chart, {m.time_s, at.iteration, across(mc.across, values)});
    }
    if (m.device.empty()) {
      if (m.metric == "test_accuracy") line(Chart::kAccuracy).points.push_back(at);
      if (m.metric == "averaged_model_accuracy") line(Chart::kAccuracy).second_points.push_back(at);
      if (m.metric == "train_loss") line(Chart::kLoss).points.push_back(at);
      if (m.metric == "samples_per_s") line(Chart::kThroughput).points.push_back(at);
      if (m.metric == "consensus_distance") line(Chart::kConsensus).points.push_back(at);
      continue;
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
  if (const MetricChart* mc = metricChart(c)) return QString::fromUtf8(mc->compare_title);
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
    default:
      break;
  }
  return {};
}

QString compareChartUnit(Chart c) {
  const MetricChart* mc = metricChart(c);
  if (mc != nullptr && mc->across == MetricChart::Across::kSpread) return QStringLiteral("ratio");
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
