// Where an experiment's devices come from: a local testbed (count and per-device emulation
// profiles, with slowdown presets) or real agents listed by address with their token file.
#pragma once

#include <QDialog>
#include <QString>
#include <string>
#include <vector>

#include "ui/ui_types.h"

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QSpinBox;
class QTableWidget;

namespace edgerig::ui {

// The devices as the run will name them: local ones by profile name or "dev<i>" (as the
// controller does), remote ones by address.
std::vector<std::string> experimentDeviceNames(const ExperimentConfig& config);

// "3 local (1:10 slowdowns), 2 remote": one line for the experiment form.
QString devicesSummary(const ExperimentConfig& config);

// Slowdown presets of the local testbed. "1:10" makes the last device 10× slower than the
// others (FTPipeHD's [1, 10] and [1, 1, 1, 10]); "1:2:4:8" gives device i 2^(i mod 4).
inline const QStringList kSlowdownPresets{"uniform", "1:10", "1:2:4:8", "custom"};
// The profiles of a preset for `count` devices (all default except slowdown); empty for custom.
std::vector<DeviceProfileConfig> presetProfiles(const QString& preset, int count);
// The preset these profiles (padded with defaults to `count`) match, else "custom".
QString detectPreset(const std::vector<DeviceProfileConfig>& profiles, int count);

class LocalTestbedDialog : public QDialog {
  Q_OBJECT

 public:
  explicit LocalTestbedDialog(QWidget* parent = nullptr);

  // Pre-fills count and table from an existing experiment, choosing the matching preset.
  void setConfig(const ExperimentConfig& config);
  void setCount(int count);
  void setPreset(const QString& preset);
  QString preset() const;

  int count() const;
  // One profile per device, in device order.
  std::vector<DeviceProfileConfig> profiles() const;

  // Sets local_count and profiles; default profiles at the tail are left out.
  static void applyTo(ExperimentConfig& config, int count,
                      std::vector<DeviceProfileConfig> profiles);

 private:
  void fillTable(const std::vector<DeviceProfileConfig>& profiles);
  void onCountChanged(int count);
  void onCellEdited();

  QSpinBox* count_ = nullptr;
  QComboBox* preset_ = nullptr;
  QTableWidget* table_ = nullptr;
  bool filling_ = false;
};

class ConnectDevicesDialog : public QDialog {
  Q_OBJECT

 public:
  explicit ConnectDevicesDialog(QWidget* parent = nullptr);

  void setConfig(const ExperimentConfig& config);
  void setRemote(const std::vector<std::string>& addresses);
  void setTokenFile(const QString& path);
  void addAddress(const QString& address = QString());
  void removeSelectedAddress();

  std::vector<std::string> remote() const;
  QString tokenFile() const;
  // Keep the local testbed running beside the remote agents.
  bool keepLocal() const;

  // Why OK is disabled (empty when it is enabled).
  QString problem() const;

  // Sets remote and token_file; drops the local testbed unless keepLocal() (and only when
  // addresses are listed, so an empty list never leaves the experiment with no devices).
  void applyTo(ExperimentConfig& config) const;

 private:
  void updateOk();

  QListWidget* addresses_ = nullptr;
  QLineEdit* token_ = nullptr;
  QCheckBox* keep_local_ = nullptr;
  QLabel* problem_ = nullptr;
  QDialogButtonBox* buttons_ = nullptr;
};

}  // namespace edgerig::ui
