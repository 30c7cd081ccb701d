#include "ui/plot_series.h"

#include <algorithm>
#include <cstring>

namespace edgerig::ui {

int chartOf(const MetricSample& m) {
  const bool run = m.device.empty();
  if (run && (m.metric == "test_accuracy" || m.metric == "train_accuracy")) {
    return static_cast<int>(Chart::kAccuracy);
  }
  if (run && (m.metric == "train_loss" || m.metric == "test_loss")) {
    return static_cast<int>(Chart::kLoss);
  }
  if (m.metric == "samples_per_s") return static_cast<int>(Chart::kThroughput);
  if (!run && m.metric == "bytes_out_per_s") return static_cast<int>(Chart::kTraffic);
  return -1;
}

QString chartTitle(Chart c) {
  switch (c) {
    case Chart::kAccuracy:
      return QStringLiteral("Accuracy");
    case Chart::kLoss:
      return QStringLiteral("Loss");
    case Chart::kThroughput:
      return QStringLiteral("Throughput (samples/s)");
    case Chart::kTraffic:
      return QStringLiteral("Traffic out per device (MB/s)");
  }
  return {};
}

QString chartUnit(Chart c) {
  switch (c) {
    case Chart::kAccuracy:
      return QStringLiteral("accuracy");
    case Chart::kLoss:
      return QStringLiteral("loss");
    case Chart::kThroughput:
      return QStringLiteral("samples/s");
    case Chart::kTraffic:
      return QStringLiteral("MB/s");
  }
  return {};
}

double chartScale(Chart c) { return c == Chart::kTraffic ? 1e-6 : 1.0; }

QString markerLabel(const RunEvent& e) {
  const QString device = QString::fromStdString(e.device);
  QString detail = QString::fromStdString(e.detail);
  // "injected slowdown x6" -> "slowdown x6": the source is in the event log.
  for (const char* source : {"injected ", "scheduled ", "profile "}) {
    if (detail.startsWith(source)) detail = detail.mid(static_cast<int>(strlen(source)));
  }
  if (detail.size() > 22) detail = detail.left(21) + QStringLiteral("…");
  const QString prefix = device.isEmpty() ? QString() : device + ": ";
  if (e.kind == "fault_applied") return prefix + detail;
  if (e.kind == "fault_cleared") return prefix + QStringLiteral("cleared");
  if (e.kind == "device_lost") return prefix + QStringLiteral("lost");
  if (e.kind == "plan_changed") return QStringLiteral("plan");
  if (e.kind == "algorithm_switched") return QStringLiteral("→ ") + detail;
  return {};
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
