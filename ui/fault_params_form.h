// The kind of a fault and that kind's parameters: one form shared by the inject-now panel and
// the fault schedule editor, so both offer the same kinds, ranges, units and words. Only the
// page of the chosen kind takes room (slowdown, link shaping, freeze; a sentence for crash,
// restart and clear, which take no parameters).
#pragma once

#include <QWidget>
#include <string>

#include "ui/ui_types.h"

class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QStackedWidget;

namespace edgerig::ui {

class FaultParamsForm : public QWidget {
  Q_OBJECT

 public:
  // Child object names are "faultKind", "faultSlowdown", "faultDelayMs", "faultJitterMs",
  // "faultBandwidthMbps", "faultDropPercent" and "faultFreezeS", each followed by `name_suffix`
  // so two forms in one window stay apart.
  explicit FaultParamsForm(const QString& name_suffix = {}, QWidget* parent = nullptr);

  // A straggler, not a loss: well under the controller's loss timeout (3.5 s by default).
  static constexpr double kDefaultFreezeS = 2;
  // Shown under a freeze longer than the loss timeout: the device will count as lost.
  QString freezeWarning() const;

  std::string kind() const;
  // The chosen kind with its own parameters as set; every other field keeps `base`'s value.
  FaultConfig fault(FaultConfig base = {}) const;
  // Shows f's kind and values (an unknown kind leaves no page shown). Emits nothing.
  void setFault(const FaultConfig& f);
  // Copies the one parameter `field` (as emitted by paramEdited) from the form into f.
  void applyField(const QString& field, FaultConfig& f) const;

  // The form's rows ("Kind", then the parameter page): callers may insert rows of their own.
  QFormLayout* formLayout() const { return form_; }

 signals:
  void kindChanged(const QString& kind);
  // One parameter edited by the user: "slowdown", "delay", "jitter", "bandwidth", "drop",
  // "freeze".
  void paramEdited(const QString& field);

 private:
  void showKind(const QString& kind);

  QFormLayout* form_ = nullptr;
  QComboBox* kind_ = nullptr;
  QStackedWidget* params_ = nullptr;
  QDoubleSpinBox* slowdown_ = nullptr;
  QDoubleSpinBox* delay_ms_ = nullptr;
  QDoubleSpinBox* jitter_ms_ = nullptr;
  QDoubleSpinBox* bandwidth_mbps_ = nullptr;
  QDoubleSpinBox* drop_percent_ = nullptr;
  QDoubleSpinBox* freeze_s_ = nullptr;
  QLabel* note_ = nullptr;
  QLabel* freeze_warning_ = nullptr;
  bool loading_ = false;
};

}  // namespace edgerig::ui
