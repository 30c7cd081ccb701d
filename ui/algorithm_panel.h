// The Algorithm selector: every registered algorithm with a parameter form built from its
// declared parameters alone (ParamSpec: kind, range, choices, help). Before a run, edits go
// into the experiment; during a run, a valid, different choice is applied at the next
// iteration boundary. Checks are the experiment's own (validateExperiment), so the messages
// are the ones a file would get.
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
  // The partition strip's drag: writes the `cuts` parameter as if typed (when the algorithm
  // has one).
  void setCuts(const std::vector<int>& cuts);
  // The rest of the experiment, which the checks see (devices, model, batch size).
  void setExperiment(const ExperimentConfig& experiment);
  // During a run the form stays editable and "Apply at next iteration" sends the switch.
  void setRunActive(bool active);
  void setRunningAlgorithm(const AlgorithmConfig& config);

  // False when a field does not parse or the experiment's checks fail; message() says why.
  bool isValid() const { return error_.isEmpty(); }
  QString message() const;

 public slots:
  void requestSwitch();

 signals:
  // Before a run, on every edit that parses (check failures are shown, not blocked: the
  // device count may change before the run starts).
  void algorithmEdited(const edgerig::AlgorithmConfig& config);
  // During a run, from the switch button: only valid and different from the running one.
  void switchRequested(const edgerig::AlgorithmConfig& config);

 private:
  void buildForm();
  void fillForm();
  void readForm();  // form → config_, parse_error_
  void check();     // the experiment's checks → error_; updates the labels and the button
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
  ExperimentConfig experiment_;
  bool run_active_ = false;
  bool filling_ = false;
};

}  // namespace edgerig::ui
