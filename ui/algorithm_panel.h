// The Algorithm selector: every registered algorithm with a parameter form built from its
// AlgorithmParam list. Before a run, edits go into the experiment; during a run, a valid,
// different choice is applied at the next iteration boundary.
#pragma once

#include <QString>
#include <QWidget>
#include <vector>

#include "ui/ui_types.h"

class QComboBox;
class QFormLayout;
class QLabel;
class QPushButton;
class QWidget;

namespace edgerig::ui {

class AlgorithmPanel : public QWidget {
  Q_OBJECT

 public:
  explicit AlgorithmPanel(QWidget* parent = nullptr);

  // Fills the form; emits nothing.
  void setAlgorithm(const AlgorithmConfig& config);
  // The form as it reads now; an int list that does not parse keeps its last good value.
  AlgorithmConfig algorithm() const { return config_; }
  // The partition strip's drag: writes the cuts field as if typed.
  void setCuts(const std::vector<int>& cuts);
  // For the cut checks (count = devices - 1, each within 1..layers-1); 0 = unknown, not checked.
  void setDeviceCount(int devices);
  void setLayerCount(int layers);
  // During a run the form stays editable and "Apply at next iteration" sends the switch.
  void setRunActive(bool active);
  void setRunningAlgorithm(const AlgorithmConfig& config);

  // False when a field does not parse or a cut check fails; message() says why.
  bool isValid() const { return error_.isEmpty(); }
  QString message() const;

 public slots:
  void requestSwitch();

 signals:
  // Before a run, on every edit that parses (cut-check failures are shown, not blocked: the
  // device count may change before the run starts).
  void algorithmEdited(const edgerig::AlgorithmConfig& config);
  // During a run, from the switch button: only valid and different from the running one.
  void switchRequested(const edgerig::AlgorithmConfig& config);

 private:
  void buildForm();
  void fillForm();
  void readForm();  // form → config_, parse_error_
  void check();     // cut checks → error_; updates the labels and the button
  void onEdited();

  QComboBox* combo_ = nullptr;
  QLabel* summary_ = nullptr;
  QWidget* form_host_ = nullptr;
  QFormLayout* form_ = nullptr;
  QLabel* message_ = nullptr;
  QLabel* running_label_ = nullptr;
  QPushButton* switch_ = nullptr;

  AlgorithmConfig config_;
  AlgorithmConfig running_;
  QString error_;  // parse error or failed check, empty when valid
  bool parses_ = true;
  QString note_;  // shown when valid
  int devices_ = 0;
  int layers_ = 0;
  bool run_active_ = false;
  bool filling_ = false;
};

}  // namespace edgerig::ui
