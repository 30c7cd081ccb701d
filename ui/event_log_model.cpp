#include "ui/event_log_model.h"

#include "core/runlog/event_kinds.h"

#include <QBrush>
#include <cmath>

#include "ui/format.h"

namespace edgerig::ui {

EventLogModel::EventLogModel(QObject* parent) : QAbstractTableModel(parent) {}

void EventLogModel::append(const std::vector<RunEvent>& events) {
  if (events.empty()) return;
  const int n = static_cast<int>(events.size());
  const int first = rowCount();
  beginInsertRows({}, first, first + n - 1);
  rows_.insert(rows_.end(), events.begin(), events.end());
  endInsertRows();
  const int excess = rowCount() - max_rows_;
  if (excess > 0) {
    beginRemoveRows({}, 0, excess - 1);
    rows_.erase(rows_.begin(), rows_.begin() + excess);
    endRemoveRows();
  }
}

void EventLogModel::clear() {
  beginResetModel();
  rows_.clear();
  endResetModel();
}

QString EventLogModel::groupOf(const QString& kind) {
  if (kind.startsWith("fault")) return QStringLiteral("fault");
  const std::string k = kind.toStdString();
  if (k == events::kPlanChanged || k == events::kGraphChanged || k == events::kShardsAssigned ||
      k == events::kAlgorithmSwitched || kind.startsWith("switch")) {
    return QStringLiteral("plan");
  }
  if (k == events::kRecovered || k == events::kTakeover) return QStringLiteral("device");
  if (kind.startsWith("device")) return QStringLiteral("device");
  if (kind == "error" || kind == "run_failed") return QStringLiteral("error");
  if (kind.startsWith("run") || kind.startsWith("training") || kind == "evaluation" ||
      kind == "stop_rule" || k == events::kLearningRate) {
    return QStringLiteral("run");
  }
  return QStringLiteral("other");
}

int EventLogModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int EventLogModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant EventLogModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const RunEvent& e = rows_[static_cast<size_t>(index.row())];
  if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
    switch (index.column()) {
      case kTime:
        return QStringLiteral("%1.%2")
            .arg(formatDuration(e.time_s))
            .arg(static_cast<int>((e.time_s - std::floor(e.time_s)) * 10));
      case kIteration:
        return QString::number(e.iteration);
      case kDevice:
        return QString::fromStdString(e.device);
      case kKind:
        return QString::fromStdString(e.kind);
      case kDetail:
        return QString::fromStdString(e.detail);
    }
  }
  if (role == kRawRole) {
    switch (index.column()) {
      case kTime:
        return e.time_s;
      case kIteration:
        return static_cast<qlonglong>(e.iteration);
      case kDevice:
        return QString::fromStdString(e.device);
      case kKind:
        return QString::fromStdString(e.kind);
      case kDetail:
        return QString::fromStdString(e.detail);
    }
  }
  if (role == Qt::ForegroundRole && index.column() == kKind) {
    const QString g = groupOf(QString::fromStdString(e.kind));
    if (g == "error") return QBrush(QColor(198, 40, 40));
    if (g == "fault") return QBrush(QColor(200, 110, 0));
    if (g == "plan") return QBrush(QColor(21, 101, 192));
    if (g == "device") return QBrush(QColor(106, 27, 154));
  }
  return {};
}

QVariant EventLogModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* kHeaders[kColumnCount] = {"Time", "Iter", "Device", "Kind", "Detail"};
  return section >= 0 && section < kColumnCount ? tr(kHeaders[section]) : QVariant();
}

EventFilter::EventFilter(QObject* parent) : QSortFilterProxyModel(parent) {}

void EventFilter::setGroups(const QSet<QString>& groups) {
  groups_ = groups;
  invalidateFilter();
}

void EventFilter::setText(const QString& text) {
  text_ = text.trimmed();
  invalidateFilter();
}

bool EventFilter::filterAcceptsRow(int source_row, const QModelIndex& source_parent) const {
  auto* m = qobject_cast<const EventLogModel*>(sourceModel());
  if (!m || source_parent.isValid()) return true;
  const RunEvent& e = m->event(source_row);
  const QString kind = QString::fromStdString(e.kind);
  if (!groups_.isEmpty() && !groups_.contains(EventLogModel::groupOf(kind))) return false;
  if (text_.isEmpty()) return true;
  return kind.contains(text_, Qt::CaseInsensitive) ||
         QString::fromStdString(e.device).contains(text_, Qt::CaseInsensitive) ||
         QString::fromStdString(e.detail).contains(text_, Qt::CaseInsensitive);
}

}  // namespace edgerig::ui
