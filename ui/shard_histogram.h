// The Data shards view: for each device of a decentralized run, how many training samples of
// each class its shard holds, as a row of bars on one common scale, with the shard's size and
// the share of its largest class — so how skewed the data is reads at a glance.
#pragma once

#include <QString>
#include <QWidget>
#include <vector>

#include "ui/ui_types.h"

namespace edgerig::ui {

class ShardHistogram : public QWidget {
  Q_OBJECT

 public:
  explicit ShardHistogram(QWidget* parent = nullptr);

  // Device names by index, for the rows' labels.
  void setDevices(const std::vector<DeviceStatus>& devices);
  void setShards(const std::vector<ShardInfo>& shards);
  // A replayed run folder's shards.csv (rows name their device).
  void setShardRecords(const std::vector<ShardRecord>& records);
  void clear();

  int rowCount() const { return static_cast<int>(rows_.size()); }
  QString rowName(int row) const;
  std::vector<int64_t> rowCounts(int row) const;
  // The largest class's share of the row's shard, 0..1 (0.1 for a perfectly even 10-class shard).
  double topClassShare(int row) const;
  QRect barRect(int row, int label) const;  // where a class's bar is drawn, for tests

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;

 private:
  struct Row {
    int device = -1;  // -1 when known by name only (a replay)
    QString name;
    std::vector<int64_t> counts;
  };
  QRect rowArea(int row) const;
  int64_t maxCount() const;

  std::vector<QString> names_;  // by device index
  std::vector<Row> rows_;
};

}  // namespace edgerig::ui
