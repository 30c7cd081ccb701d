// The event log: every run event as a row, appended in bursts (one insertion per batch) and
// bounded, so a long run does not grow memory; EventFilter narrows it by kind and text.
#pragma once

#include <QAbstractTableModel>
#include <QSet>
#include <QSortFilterProxyModel>
#include <algorithm>
#include <deque>
#include <vector>

#include "ui/ui_types.h"

namespace edgerig::ui {

class EventLogModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { kTime, kIteration, kDevice, kKind, kDetail, kColumnCount };
  static constexpr int kRawRole = Qt::UserRole + 1;  // time_s, iteration, ... unformatted
  static constexpr int kDefaultMaxRows = 50000;

  explicit EventLogModel(QObject* parent = nullptr);

  // One beginInsertRows for the whole batch; the oldest rows go when past maxRows().
  void append(const std::vector<RunEvent>& events);
  void clear();
  void setMaxRows(int rows) { max_rows_ = std::max(1, rows); }
  int maxRows() const { return max_rows_; }
  const RunEvent& event(int row) const { return rows_[static_cast<size_t>(row)]; }

  // The group a kind belongs to, for colours and the filter: "fault", "plan", "device",
  // "error", "run" or "other".
  static QString groupOf(const QString& kind);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  std::deque<RunEvent> rows_;
  int max_rows_ = kDefaultMaxRows;
};

// Filters an EventLogModel by kind group (empty set: all) and by text in device, kind or
// detail (case-insensitive).
class EventFilter : public QSortFilterProxyModel {
  Q_OBJECT

 public:
  explicit EventFilter(QObject* parent = nullptr);
  void setGroups(const QSet<QString>& groups);
  void setText(const QString& text);

 protected:
  bool filterAcceptsRow(int source_row, const QModelIndex& source_parent) const override;

 private:
  QSet<QString> groups_;
  QString text_;
};

}  // namespace edgerig::ui
