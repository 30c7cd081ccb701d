// The Experiment panel: a form for an experiment's common fields (name, seed, devices, model,
// dataset, training and stop rule), validated after every edit with a message naming the field,
// and the open/save of the same JSON files edgerig-run reads.
#pragma once

#include <QString>
#include <QWidget>
#include <map>

#include "ui/ui_types.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace edgerig::ui {

class ExperimentForm : public QWidget {
  Q_OBJECT

 public:
  explicit ExperimentForm(QWidget* parent = nullptr);

  // Fields this form does not show (algorithm, faults, description, ...) are kept as given.
  void setConfig(const ExperimentConfig& config);
  ExperimentConfig config() const;
  // The parts other panels edit, so validation sees the whole experiment (e.g. micro-batches
  // against the batch size). Neither emits configChanged.
  void setAlgorithm(const AlgorithmConfig& algorithm);
  void setFaults(const std::vector<FaultConfig>& faults);
  // Sets the devices as the dialogs would (counts as a user edit).
  void setDevices(int local_count, const std::vector<DeviceProfileConfig>& profiles,
                  const std::vector<std::string>& remote, const std::string& token_file);

  // validateExperiment(config(), knownNames()).
  Status validate() const;
  // The widget the validation message points at (nullptr when valid or not on this form).
  QWidget* invalidWidget() const { return invalid_widget_; }

  // toJson, written to path + ".tmp" then renamed over path: never a half-written file.
  static Status saveExperimentFile(const ExperimentConfig& config, const QString& path);
  // loadExperiment with knownNames(); errors name the file and the field.
  static Result<ExperimentConfig> openExperimentFile(const QString& path);

  // Read-only while a run is in progress.
  void setEditable(bool editable);

 public slots:
  void openLocalTestbedDialog();
  void openConnectDevicesDialog();

 signals:
  void configChanged();  // any user edit

 private:
  void buildForm();
  void load();        // config_ → widgets
  void userEdited();  // widgets changed by the user
  void showValidation();
  QWidget* widgetForField(const QString& field) const;

  ExperimentConfig config_;
  ExperimentNames names_;
  bool loading_ = false;

  QLineEdit* name_ = nullptr;
  QLineEdit* seed_ = nullptr;
  QLabel* devices_ = nullptr;
  QPushButton* local_button_ = nullptr;
  QPushButton* connect_button_ = nullptr;
  QComboBox* model_ = nullptr;
  QComboBox* dataset_ = nullptr;
  QLineEdit* data_dir_ = nullptr;
  QPushButton* data_dir_browse_ = nullptr;
  QSpinBox* train_limit_ = nullptr;
  QSpinBox* test_limit_ = nullptr;
  QComboBox* split_ = nullptr;
  QDoubleSpinBox* alpha_ = nullptr;
  QSpinBox* classes_per_device_ = nullptr;
  QSpinBox* batch_size_ = nullptr;
  QDoubleSpinBox* learning_rate_ = nullptr;
  QDoubleSpinBox* momentum_ = nullptr;
  QDoubleSpinBox* epochs_ = nullptr;
  QSpinBox* max_iterations_ = nullptr;
  QDoubleSpinBox* max_seconds_ = nullptr;
  QSpinBox* eval_every_ = nullptr;
  QSpinBox* eval_samples_ = nullptr;
  QLabel* message_ = nullptr;
  QWidget* invalid_widget_ = nullptr;
  // Field path prefix ("training.batchSize") → the widget that edits it.
  std::map<QString, QWidget*> field_widgets_;
};

}  // namespace edgerig::ui
