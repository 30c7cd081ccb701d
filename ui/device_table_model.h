// The Devices table: one row per device of the run, updated from the controller's device
// pictures. A lost device keeps its row, marked, until removeLost() (or a new run) drops it.
// The local batch column is each device's latest `local_batch` metric (edgegossip's), "—" for a
// device without one; the window hides it while no device has one (hasLocalBatch).
#pragma once

#include <QAbstractTableModel>
#include <QStringList>
#include <map>
#include <string>
#include <vector>

#include "core/model/layer_info.h"
#include "ui/ui_types.h"

namespace edgerig::ui {

class DeviceTableModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column {
    kName,
    kAddress,
    kState,
    kCores,
    kCapacity,
    kStage,
    kSamplesPerS,
    kLocalBatch,
    kBytesInPerS,
    kBytesOutPerS,
    kRtt,
    kFaults,  // last: it stretches
    kColumnCount
  };
  // data(index, kRawRole): the unformatted value (double, int or QString), for sorting and tests.
  static constexpr int kRawRole = Qt::UserRole + 1;

  explicit DeviceTableModel(QObject* parent = nullptr);

  // Layer names make the stage column read "fc1–fc2" instead of "0–2".
  void setLayers(std::vector<LayerInfo> layers);
  // Merges a picture of the devices, by index: new devices are inserted, known ones updated,
  // and devices missing from the picture are kept as they were.
  void updateDevices(const std::vector<DeviceStatus>& devices);
  // A device the controller reported lost by event, before its next picture.
  void markLost(const QString& name);
  // Takes each device's newest `local_batch` from a burst of metrics (the others are ignored).
  void addMetrics(const std::vector<MetricSample>& metrics);
  // Whether some device has reported a local batch since the last clear().
  bool hasLocalBatch() const { return !local_batch_.empty(); }
  void removeLost();
  void clear();

  const std::vector<DeviceStatus>& devices() const { return rows_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  QVariant display(const DeviceStatus& d, int column) const;
  QVariant raw(const DeviceStatus& d, int column) const;
  QString stageText(const DeviceStatus& d) const;

  std::vector<DeviceStatus> rows_;
  std::vector<LayerInfo> layers_;
  std::map<std::string, double> local_batch_;  // by device name
};

}  // namespace edgerig::ui
