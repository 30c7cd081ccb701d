#include "ui/device_table_model.h"

#include <QBrush>
#include <QFont>
#include <algorithm>
#include <tuple>

#include "ui/format.h"
#include "ui/palette.h"

namespace edgerig::ui {
namespace {

// DeviceStatus has no operator== (core/controller/run_types.h); this compares what the table
// and its tooltips show, so an unchanged picture costs no repaint.
bool sameShown(const DeviceStatus& a, const DeviceStatus& b) {
  auto shown = [](const DeviceStatus& d) {
    return std::tie(d.index, d.name, d.address, d.local, d.state, d.cores, d.capacity, d.stage,
                    d.first_layer, d.last_layer, d.faults, d.samples_per_s, d.bytes_in_per_s,
                    d.bytes_out_per_s, d.rtt_ms);
  };
  return shown(a) == shown(b);
}

}  // namespace

DeviceTableModel::DeviceTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void DeviceTableModel::setLayers(std::vector<LayerInfo> layers) {
  layers_ = std::move(layers);
  if (!rows_.empty()) emit dataChanged(index(0, kStage), index(rowCount() - 1, kStage));
}

void DeviceTableModel::updateDevices(const std::vector<DeviceStatus>& devices) {
  for (const auto& d : devices) {
    auto it = std::find_if(rows_.begin(), rows_.end(),
                           [&](const DeviceStatus& r) { return r.index == d.index; });
    if (it == rows_.end()) {
      // Keep rows ordered by device index.
      auto pos = std::find_if(rows_.begin(), rows_.end(),
                              [&](const DeviceStatus& r) { return r.index > d.index; });
      const int row = static_cast<int>(pos - rows_.begin());
      beginInsertRows({}, row, row);
      rows_.insert(pos, d);
      endInsertRows();
      continue;
    }
    if (sameShown(*it, d)) {
      *it = d;  // keep the fields the table does not show current too
      continue;
    }
    // Once lost, a device stays lost in this table: a late picture must not revive it.
    const bool was_lost = it->state == DeviceState::kLost;
    *it = d;
    if (was_lost) it->state = DeviceState::kLost;
    const int row = static_cast<int>(it - rows_.begin());
    emit dataChanged(index(row, 0), index(row, kColumnCount - 1));
  }
}

void DeviceTableModel::markLost(const QString& name) {
  for (size_t i = 0; i < rows_.size(); ++i) {
    if (QString::fromStdString(rows_[i].name) == name && rows_[i].state != DeviceState::kLost) {
      rows_[i].state = DeviceState::kLost;
      const int row = static_cast<int>(i);
      emit dataChanged(index(row, 0), index(row, kColumnCount - 1));
    }
  }
}

void DeviceTableModel::addMetrics(const std::vector<MetricSample>& metrics) {
  bool changed = false;
  for (const auto& m : metrics) {
    if (m.metric != "local_batch" || m.device.empty()) continue;
    auto [it, inserted] = local_batch_.try_emplace(m.device, m.value);
    changed = changed || inserted || it->second != m.value;
    it->second = m.value;
  }
  if (changed && !rows_.empty()) {
    emit dataChanged(index(0, kLocalBatch), index(rowCount() - 1, kLocalBatch));
  }
}

void DeviceTableModel::removeLost() {
  for (int row = rowCount() - 1; row >= 0; --row) {
    if (rows_[static_cast<size_t>(row)].state != DeviceState::kLost) continue;
    beginRemoveRows({}, row, row);
    rows_.erase(rows_.begin() + row);
    endRemoveRows();
  }
}

void DeviceTableModel::clear() {
  beginResetModel();
  rows_.clear();
  local_batch_.clear();
  endResetModel();
}

int DeviceTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int DeviceTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QString DeviceTableModel::stageText(const DeviceStatus& d) const {
  if (d.stage < 0) return QStringLiteral("—");
  QString layers;
  const int first = d.first_layer, last = d.last_layer - 1;  // last_layer is exclusive
  if (last >= first && last < static_cast<int>(layers_.size())) {
    layers = QString::fromStdString(layers_[static_cast<size_t>(first)].name);
    if (last > first) layers += QStringLiteral("–") + QString::fromStdString(layers_[last].name);
  } else {
    layers = last > first ? QStringLiteral("%1–%2").arg(first).arg(last) : QString::number(first);
  }
  return QStringLiteral("%1: %2").arg(d.stage).arg(layers);
}

QVariant DeviceTableModel::display(const DeviceStatus& d, int column) const {
  const bool lost = d.state == DeviceState::kLost;
  switch (column) {
    case kName:
      return QString::fromStdString(d.name) + (d.local ? "" : " (remote)");
    case kAddress:
      return QString::fromStdString(d.address);
    case kState:
      return QString::fromUtf8(deviceStateName(d.state));
    case kCores:
      return d.cores > 0 ? QString::number(d.cores) : QStringLiteral("—");
    case kCapacity:
      return QString::number(d.capacity, 'f', 2);
    case kStage:
      return stageText(d);
    case kFaults:
      return d.faults.empty() ? QString() : QString::fromStdString(d.faults);
    case kSamplesPerS:
      return lost ? QStringLiteral("—") : formatCount(d.samples_per_s);
    case kLocalBatch: {
      const auto it = local_batch_.find(d.name);
      return lost || it == local_batch_.end() ? QStringLiteral("—")
                                              : QString::number(it->second, 'f', 0);
    }
    case kBytesInPerS:
      return lost ? QStringLiteral("—") : formatRate(d.bytes_in_per_s);
    case kBytesOutPerS:
      return lost ? QStringLiteral("—") : formatRate(d.bytes_out_per_s);
    case kRtt:
      return lost || d.rtt_ms <= 0 ? QStringLiteral("—") : QString::number(d.rtt_ms, 'f', 1);
  }
  return {};
}

QVariant DeviceTableModel::raw(const DeviceStatus& d, int column) const {
  switch (column) {
    case kName:
      return QString::fromStdString(d.name);
    case kAddress:
      return QString::fromStdString(d.address);
    case kState:
      return static_cast<int>(d.state);
    case kCores:
      return d.cores;
    case kCapacity:
      return d.capacity;
    case kStage:
      return d.stage;
    case kFaults:
      return QString::fromStdString(d.faults);
    case kSamplesPerS:
      return d.samples_per_s;
    case kLocalBatch: {
      const auto it = local_batch_.find(d.name);
      return it == local_batch_.end() ? QVariant() : QVariant(it->second);
    }
    case kBytesInPerS:
      return d.bytes_in_per_s;
    case kBytesOutPerS:
      return d.bytes_out_per_s;
    case kRtt:
      return d.rtt_ms;
  }
  return {};
}

QVariant DeviceTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const DeviceStatus& d = rows_[static_cast<size_t>(index.row())];
  const bool lost = d.state == DeviceState::kLost;
  switch (role) {
    case Qt::DisplayRole:
      return display(d, index.column());
    case kRawRole:
      return raw(d, index.column());
    case Qt::BackgroundRole:
      if (index.column() == kState) return QBrush(stateColor(d.state));
      if (index.column() == kName) return QBrush(deviceColor(d.index).lighter(170));
      return {};
    case Qt::ForegroundRole:
      if (index.column() == kState) return QBrush(textColorOn(stateColor(d.state)));
      if (lost) return QBrush(QColor(130, 130, 130));
      return {};
    case Qt::FontRole:
      if (lost || index.column() == kState) {
        QFont f;
        f.setItalic(lost);
        f.setBold(index.column() == kState);
        f.setStrikeOut(lost && index.column() == kName);
        return f;
      }
      return {};
    case Qt::TextAlignmentRole:
      if (index.column() >= kCores && index.column() != kStage && index.column() != kFaults) {
        return QVariant::fromValue(Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
      }
      return {};
    case Qt::ToolTipRole:
      if (lost) return tr("Lost: no heartbeat or the connection closed. Kept until removed.");
      if (index.column() == kCapacity) return tr("Measured speed relative to the fastest device");
      if (index.column() == kLocalBatch) {
        return tr(
            "This device's share of the global batch this round (edgegossip: in proportion "
            "to its measured speed)");
      }
      return {};
  }
  return {};
}

QVariant DeviceTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* kHeaders[kColumnCount] = {
      "Device",    "Address",     "State",      "Cores",       "Capacity", "Stage",
      "Samples/s", "Local batch", "Bytes in/s", "Bytes out/s", "RTT ms",   "Faults"};
  return section >= 0 && section < kColumnCount ? tr(kHeaders[section]) : QVariant();
}

}  // namespace edgerig::ui
