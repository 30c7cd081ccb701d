#include "ui/plot_series.h"

#include "core/runlog/event_kinds.h"
#include "device_bridge/traffic_kind.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>
#include <string_view>

namespace edgerig::ui {

int chartOf(const MetricSample& m) {
  const bool run = m.device.empty();
  if (run && (m.metric == "test_accuracy" || m.metric == "train_accuracy" ||
              m.metric == "averaged_model_accuracy")) {
    return static_cast<int>(Chart::kAccuracy);
  }
  if (run && (m.metric == "train_loss" || m.metric == "test_loss")) {
    return static_cast<int>(Chart::kLoss);
  }
  // Where every device has its own model (decentralized): its test accuracy and training loss.
  if (!run && m.metric == "test_accuracy") return static_cast<int>(Chart::kAccuracy);
  if (!run && m.metric == "train_loss") return static_cast<int>(Chart::kLoss);
  if (m.metric == "samples_per_s") return static_cast<int>(Chart::kThroughput);
  if (!run && m.metric == "bytes_out_per_s") return static_cast<int>(Chart::kTraffic);
  if (!run && m.metric == kBusyPercentMetric) return static_cast<int>(Chart::kBusy);
  if (run && m.metric == "consensus_distance") return static_cast<int>(Chart::kConsensus);
  for (const MetricChart& mc : kMetricCharts) {
    if (m.metric == mc.metric && run != mc.per_device) return static_cast<int>(mc.chart);
  }
  if (run) {
    for (const auto& kind : kMessageKinds) {
      if (m.metric == kindRateMetric(kind)) return static_cast<int>(Chart::kTrafficKind);
      if (m.metric == kindPerIterationMetric(kind)) {
        return static_cast<int>(Chart::kBytesPerIteration);
      }
    }
  }
  return -1;
}

const MetricChart* metricChart(Chart c) {
  for (const MetricChart& mc : kMetricCharts) {
    if (mc.chart == c) return &mc;
  }
  return nullptr;
}

std::string kindRateMetric(const std::string& kind) { return "bytes_sent_" + kind + "_per_s"; }
std::string kindPerIterationMetric(const std::string& kind) {
  return "bytes_sent_" + kind + "_per_iteration";
}

// Run-level series get fixed colours; device series get their device's colour.
QColor runSeriesColor(const std::string& metric) {
  if (metric == "test_accuracy" || metric == "test_loss") return QColor(198, 40, 40);
  if (metric == "train_accuracy" || metric == "train_loss") return QColor(21, 101, 192);
  // Message kinds: the order of kMessageKinds, colours apart from the devices' palette order.
  static const QColor kKindColors[] = {
      QColor(21, 101, 192), QColor(230, 81, 0),  QColor(46, 125, 50), QColor(123, 31, 162),
      QColor(0, 131, 143),  QColor(173, 20, 87), QColor(97, 97, 97)};
  static_assert(std::size(kKindColors) == bridge::kReportedTrafficKinds.size());
  for (size_t k = 0; k < kMessageKinds.size(); ++k) {
    if (metric == kindRateMetric(kMessageKinds[k]) ||
        metric == kindPerIterationMetric(kMessageKinds[k])) {
      return kKindColors[k];
    }
  }
  if (metric == "consensus_distance") return QColor(123, 31, 162);
  if (metric == "averaged_model_accuracy") return QColor(0, 0, 0);
  return QColor(40, 40, 40);
}

QString runSeriesName(const std::string& metric) {
  if (metric == "test_accuracy") return QStringLiteral("test");
  if (metric == "train_accuracy") return QStringLiteral("train (batch)");
  if (metric == "train_loss") return QStringLiteral("train");
  if (metric == "test_loss") return QStringLiteral("test");
  if (metric == "samples_per_s") return QStringLiteral("whole run");
  for (const auto& kind : kMessageKinds) {
    if (metric == kindRateMetric(kind) || metric == kindPerIterationMetric(kind)) {
      return QString::fromStdString(kind);
    }
  }
  if (metric == "consensus_distance") return QStringLiteral("all devices");
  if (metric == "averaged_model_accuracy") return QStringLiteral("averaged model");
  if (metric == kIterationSpreadMetric) return QStringLiteral("max / min");
  if (metric == "exchange_period") return QStringLiteral("period");
  return QString::fromStdString(metric);
}

QString chartTitle(Chart c) {
  if (const MetricChart* mc = metricChart(c)) return QString::fromUtf8(mc->title);
  switch (c) {
    case Chart::kAccuracy:
      return QStringLiteral("Accuracy");
    case Chart::kLoss:
      return QStringLiteral("Loss");
    case Chart::kThroughput:
      return QStringLiteral("Throughput (samples/s)");
    case Chart::kTraffic:
      return QStringLiteral("Traffic out per device (MB/s)");
    case Chart::kTrafficKind:
      return QStringLiteral("Traffic by message kind (MB/s)");
    case Chart::kBusy:
      return QStringLiteral("Busy time per device (%)");
    case Chart::kBytesPerIteration:
      return QStringLiteral("Bytes per iteration by kind (kB)");
    case Chart::kConsensus:
      return QStringLiteral("Consensus distance");
    default:
      break;
  }
  return {};
}

QString chartUnit(Chart c) {
  if (const MetricChart* mc = metricChart(c)) return QString::fromUtf8(mc->unit);
  switch (c) {
    case Chart::kAccuracy:
      return QStringLiteral("accuracy");
    case Chart::kLoss:
      return QStringLiteral("loss");
    case Chart::kThroughput:
      return QStringLiteral("samples/s");
    case Chart::kTraffic:
    case Chart::kTrafficKind:
      return QStringLiteral("MB/s");
    case Chart::kBusy:
      return QStringLiteral("busy %");
    case Chart::kBytesPerIteration:
      return QStringLiteral("kB/iteration");
    case Chart::kConsensus:
      return QStringLiteral("distance");
    default:
      break;
  }
  return {};
}

double chartScale(Chart c) {
  if (c == Chart::kTraffic || c == Chart::kTrafficKind) return 1e-6;
  return c == Chart::kBytesPerIteration ? 1e-3 : 1.0;
}

namespace {

// An algorithm's own change of state, a kind declared in its folder and named "<what>_changed"
// (edgegossip's exchange_period_changed, dssync's groups_changed): "<what> <its first field>",
// e.g. "exchange period 4". The core's graph and link changes are not markers (the topology view
// and the fault markers show them).
QString changeLabel(const RunEvent& e) {
  static constexpr std::string_view kSuffix = "_changed";
  const std::string_view kind = e.kind;
  if (kind.size() <= kSuffix.size() || kind.substr(kind.size() - kSuffix.size()) != kSuffix ||
      kind == events::kGraphChanged || kind == events::kLinksChanged) {
    return {};
  }
  QString label = QString::fromStdString(std::string(kind.substr(0, kind.size() - kSuffix.size())));
  label.replace('_', ' ');
  if (!e.fields.empty()) label += ' ' + QString::fromStdString(e.fields.front().second);
  if (label.size() > 22) label = label.left(21) + QStringLiteral("…");
  return label;
}

}  // namespace

QString markerLabel(const RunEvent& e) {
  const QString device = QString::fromStdString(e.device);
  QString detail = QString::fromStdString(e.detail);
  // "injected slowdown x6" -> "slowdown x6": the source is in the event log.
  for (const char* source : {"injected ", "scheduled ", "profile "}) {
    if (detail.startsWith(source)) detail = detail.mid(static_cast<int>(strlen(source)));
  }
  if (detail.startsWith(QStringLiteral("restart"))) detail = QStringLiteral("restart");
  if (detail.size() > 22) detail = detail.left(21) + QStringLiteral("…");
  const QString prefix = device.isEmpty() ? QString() : device + ": ";
  if (e.kind == events::kFaultApplied) return prefix + detail;
  if (e.kind == events::kFaultCleared) return prefix + QStringLiteral("cleared");
  if (e.kind == events::kDeviceLost) return prefix + QStringLiteral("lost");
  if (e.kind == events::kDeviceRestarted) return prefix + QStringLiteral("back");
  if (e.kind == events::kPlanChanged) return QStringLiteral("plan");
  if (e.kind == events::kRecovered) return QStringLiteral("recovered");
  if (e.kind == events::kRecoveryPhase) {
    // "fetch 0.12 s": a recovery's phases share the marker of the moment it happened.
    const QString seconds = QString::fromStdString(e.field(events::fields::kSeconds));
    bool ok = false;
    const double s = seconds.toDouble(&ok);
    return QString::fromStdString(e.field(events::fields::kPhase)) + ' ' +
           (ok ? QString::number(s, 'f', 2) : seconds) + QStringLiteral(" s");
  }
  if (e.kind == events::kTakeover) return prefix + QStringLiteral("took over");
  if (e.kind == events::kAlgorithmSwitched) {
    const std::string to = e.field(events::fields::kTo);
    return QStringLiteral("→ ") + (to.empty() ? detail : QString::fromStdString(to));
  }
  if (e.kind == events::kRunPaused) return QStringLiteral("paused");
  if (e.kind == events::kRunResumed) return QStringLiteral("resumed");
  // ftpipehd's new plan, edgegossip's new local batches: the reason is in the event log.
  if (e.kind == events::kReplanned) return QStringLiteral("re-plan");
  // A step of the learning-rate schedule: accuracy and consensus often turn there.
  if (e.kind == events::kLearningRate) {
    return QStringLiteral("lr ") + QString::fromStdString(e.field(events::fields::kLearningRate));
  }
  return changeLabel(e);
}

void DerivedMetrics::add(const MetricSample& m, std::vector<MetricSample>* out) {
  if (m.device.empty()) return;
  if (m.metric == "busy_s") return addBusy(m, /*busy=*/true, out);
  if (m.metric == "idle_s") return addBusy(m, /*busy=*/false, out);
  if (m.metric == "iteration_time") return addIterationTime(m, out);
  static constexpr std::string_view kPrefix = "bytes_sent_";
  if (m.metric.size() <= kPrefix.size() || m.metric.compare(0, kPrefix.size(), kPrefix) != 0) {
    return;
  }
  const std::string kind = m.metric.substr(kPrefix.size());
  if (std::find(kMessageKinds.begin(), kMessageKinds.end(), kind) == kMessageKinds.end()) return;
  addBytes(kind, m, out);
}

void DerivedMetrics::addBytes(const std::string& kind, const MetricSample& m,
                              std::vector<MetricSample>* out) {
  KindState& k = kinds_[kind];
  Counter& c = k.counters[m.device];
  const bool first = c.time_s < 0, restarted = m.value < c.total;
  if (!first && !restarted && m.time_s <= c.time_s) return;  // a repeated report
  c.time_s = m.time_s;
  c.total = m.value;
  c.window.add(m.time_s, m.value);  // a count that went down starts the window again
  if (restarted) k.by_iteration.clear();
  addPerIteration(kind, k, m, out);
  if (first || restarted) return;
  k.rates[m.device] = {m.time_s, c.window.rate()};
  // One summed point per round of reports (every live device has a new rate), or sooner when a
  // device reports again before the others: one point per report would flood the buffers.
  const bool again = !k.pending.insert(m.device).second;
  double sum = 0;
  bool all = true;
  for (const auto& [device, rate] : k.rates) {
    if (rate.time_s < m.time_s - kStaleS) continue;
    sum += rate.bytes_per_s;
    if (!k.pending.count(device)) all = false;
  }
  if (!all && !again) return;
  k.pending.clear();
  out->push_back(MetricSample{m.time_s, m.iteration, "", kindRateMetric(kind), sum});
}

void DerivedMetrics::addPerIteration(const std::string& kind, KindState& k, const MetricSample& m,
                                     std::vector<MetricSample>* out) {
  double sum = 0;
  for (const auto& [device, c] : k.counters) sum += c.total;
  auto& past = k.by_iteration;
  if (!past.empty() && m.iteration < past.back().first) past.clear();  // a new run's counters
  if (!past.empty() && m.iteration == past.back().first) {
    past.back().second = sum;  // more of the same iteration's reports
    return;
  }
  past.emplace_back(m.iteration, sum);
  while (past.size() > 2 && past[1].first <= m.iteration - kIterationWindow) past.pop_front();
  // One point per iteration reached; the iteration's bytes may still be arriving (the other
  // devices' reports), which is why the first entry is the previous iterations' sum.
  if (past.size() < 2) return;
  const auto& [from_iteration, from_bytes] = past.front();
  const auto& [to_iteration, to_bytes] = past[past.size() - 2];
  if (to_iteration <= from_iteration) return;
  out->push_back(
      MetricSample{m.time_s, to_iteration, "", kindPerIterationMetric(kind),
                   (to_bytes - from_bytes) / static_cast<double>(to_iteration - from_iteration)});
}

void DerivedMetrics::addBusy(const MetricSample& m, bool busy, std::vector<MetricSample>* out) {
  BusyState& b = busy_[m.device];
  if (m.time_s != b.time_s) {
    b.time_s = m.time_s;
    b.busy_now = b.idle_now = -1;
  }
  (busy ? b.busy_now : b.idle_now) = m.value;
  if (b.busy_now < 0 || b.idle_now < 0) return;
  // A restart (counters went down) starts a new baseline for both.
  if (b.busy_now < b.last_busy || b.idle_now < b.last_idle) {
    b.busy.clear();
    b.idle.clear();
  }
  b.last_busy = b.busy_now;
  b.last_idle = b.idle_now;
  b.busy.add(m.time_s, b.busy_now);
  b.idle.add(m.time_s, b.idle_now);
  // Both windows hold the same moments, so their rates' ratio is Δbusy / (Δbusy + Δidle) over
  // one window; no time passed means no point.
  const double busy_rate = b.busy.rate(), idle_rate = b.idle.rate();
  if (!b.busy.ready() || busy_rate + idle_rate <= 1e-9) return;
  out->push_back(MetricSample{m.time_s, m.iteration, m.device, kBusyPercentMetric,
                              100.0 * busy_rate / (busy_rate + idle_rate)});
}

void DerivedMetrics::addIterationTime(const MetricSample& m, std::vector<MetricSample>* out) {
  RoundTimes& r = round_times_[m.device];
  if (m.iteration < r.iteration) {  // a new run, or the algorithm started again
    round_times_.clear();
    spread_iteration_ = -1;
    return addIterationTime(m, out);
  }
  r.recent.push_back(m.value);
  if (r.recent.size() > kSpreadRounds) r.recent.pop_front();
  r.iteration = m.iteration;
  if (m.iteration <= spread_iteration_) return;
  // Devices still reporting (a lost one stops, and drops out after a round) must all have
  // reported this iteration.
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  int devices = 0;
  for (const auto& [device, times] : round_times_) {
    if (times.iteration < m.iteration - 1) continue;
    if (times.iteration < m.iteration) return;
    std::vector<double> sorted(times.recent.begin(), times.recent.end());
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted[sorted.size() / 2];
    lo = std::min(lo, median);
    hi = std::max(hi, median);
    ++devices;
  }
  if (devices < 2 || lo <= 0) return;
  spread_iteration_ = m.iteration;
  out->push_back(MetricSample{m.time_s, m.iteration, "", kIterationSpreadMetric, hi / lo});
}

void DerivedMetrics::clear() {
  round_times_.clear();
  spread_iteration_ = -1;
  kinds_.clear();
  busy_.clear();
}

void SeriesBuffer::append(const PlotPoint& p) {
  points_.push_back(p);
  ++pending_;
  if (points_.size() > capacity_) {
    const size_t drop = std::max<size_t>(1, capacity_ / 4);
    points_.erase(points_.begin(), points_.begin() + static_cast<std::ptrdiff_t>(drop));
    pending_ = std::min(pending_, points_.size());
    trimmed_ = true;
  }
}

}  // namespace edgerig::ui
