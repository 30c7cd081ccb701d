// Fault injection by hand: pick one or more devices, a kind (slowdown, link shaping, freeze,
// crash, restart, clear) and its parameters; Apply emits one FaultConfig per chosen device.
#pragma once

#include <QWidget>
#include <vector>

#include "ui/ui_types.h"

class QListWidget;
class QPushButton;

namespace edgerig::ui {

class FaultParamsForm;

class FaultPanel : public QWidget {
  Q_OBJECT

 public:
  explicit FaultPanel(QWidget* parent = nullptr);

  // Keeps the list in step with the run's devices; a device's check survives updates.
  void setDevices(const std::vector<DeviceStatus>& devices);
  void setDeviceChecked(int device, bool checked);
  std::vector<int> checkedDevices() const;
  // Kind and parameters as currently set (device left 0).
  FaultConfig currentFault() const;
  // Apply is enabled only during a run.
  void setRunActive(bool active);

 public slots:
  void apply();

 signals:
  void faultRequested(const edgerig::FaultConfig& fault);

 private:
  void updateApplyEnabled();

  QListWidget* devices_ = nullptr;
  FaultParamsForm* params_ = nullptr;
  QPushButton* apply_ = nullptr;
  bool run_active_ = false;
};

}  // namespace edgerig::ui
