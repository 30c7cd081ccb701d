// The model as a strip of layers, each coloured by the device that holds it (from the devices'
// first/last layer), widths by parameter count, cut points between stages marked; hovering a
// layer shows its name, shape, parameters and activation size.
#pragma once

#include <QWidget>
#include <vector>

#include "core/model/layer_info.h"
#include "ui/ui_types.h"

namespace edgerig::ui {

class PartitionStrip : public QWidget {
  Q_OBJECT

 public:
  explicit PartitionStrip(QWidget* parent = nullptr);

  void setLayers(std::vector<LayerInfo> layers);
  void setDevices(const std::vector<DeviceStatus>& devices);
  void clearAssignment();

  int layerCount() const { return static_cast<int>(layers_.size()); }
  // -1 where no layer is drawn.
  int layerAt(const QPoint& pos) const;
  QRect layerRect(int layer) const;
  // The device index holding a layer, -1 when unassigned.
  int deviceOf(int layer) const { return owner_.at(static_cast<size_t>(layer)); }
  QColor layerColor(int layer) const;
  QString layerToolTip(int layer) const;
  // Layer indices where a new stage starts (the plan's cuts).
  std::vector<int> cuts() const;

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;

 private:
  QRect stripArea() const;

  std::vector<LayerInfo> layers_;
  std::vector<int> owner_;             // per layer
  std::vector<QString> device_names_;  // by device index
  std::vector<bool> device_lost_;
};

}  // namespace edgerig::ui
