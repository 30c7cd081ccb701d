// The fault schedule editor: the experiment's faults (FaultConfig) as a table sorted by when
// they fire, edited below the table, with a strip above it that shows one lane per device and
// each fault as a mark coloured by kind, so the same experiment replays its faults by itself.
#pragma once

#include <QAbstractTableModel>
#include <QString>
#include <QWidget>
#include <string>
#include <vector>

#include "ui/fault_timeline_strip.h"
#include "ui/ui_types.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QTableView;

namespace edgerig::ui {

class FaultParamsForm;

// "at 12 s" / "at iteration 300".
QString faultWhenText(const FaultConfig& fault);
// The kind's parameters in words: "×4", "delay 20 ms, 100 Mbit/s", "for 5 s".
QString faultParamsText(const FaultConfig& fault);
QColor faultKindColor(const std::string& kind);
// Per fault, the first problem validateExperiment finds in it, named as it names them
// ("field faults.2.slowdown: ..."); empty for a good fault. `devices` is the device count.
std::vector<QString> faultProblems(const std::vector<FaultConfig>& faults, int devices);

// Rows are kept sorted by when: timed faults by seconds, then faults at an iteration (the two
// clocks cannot be compared before a run), equal times in the order they were added.
class FaultTableModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { kAt, kWhen, kDevice, kKind, kParams, kColumns };

  explicit FaultTableModel(QObject* parent = nullptr);

  void setFaults(std::vector<FaultConfig> faults);
  const std::vector<FaultConfig>& faults() const { return faults_; }
  void setDevices(std::vector<std::string> names);
  const std::vector<std::string>& devices() const { return devices_; }
  const std::vector<QString>& problems() const { return problems_; }

  // Each returns the row the fault now sits at (rows re-sort after a change of when).
  int addFault(FaultConfig fault);  // by value: callers pass rows of this model
  int replaceFault(int row, const FaultConfig& fault);
  void removeFault(int row);

  int rowCount(const QModelIndex& parent = QModelIndex()) const override;
  int columnCount(const QModelIndex& parent = QModelIndex()) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  // Re-sorts (persistent indexes follow their rows) and re-checks; old row → new row.
  std::vector<int> sortAndCheck();
  QString deviceName(int device) const;

  std::vector<FaultConfig> faults_;
  std::vector<std::string> devices_;
  std::vector<QString> problems_;
};

class FaultTimelineEditor : public QWidget {
  Q_OBJECT

 public:
  explicit FaultTimelineEditor(QWidget* parent = nullptr);

  void setFaults(std::vector<FaultConfig> faults);
  std::vector<FaultConfig> faults() const { return model_->faults(); }
  void setDevices(std::vector<std::string> names);

  // The first bad row's message, or empty.
  QString problem() const;
  int currentRow() const;
  void selectRow(int row);
  FaultTableModel* model() const { return model_; }

 public slots:
  // A slowdown ×4 on the selected device, 10 s after the last timed fault.
  void addFault();
  void removeFault();
  void duplicateFault();

 signals:
  void faultsChanged();

 private:
  void loadEditors();  // selected row → editors
  void editorsChanged(const QString& what);
  void updateProblem();

  FaultTableModel* model_ = nullptr;
  FaultTimelineStrip* strip_ = nullptr;
  QTableView* table_ = nullptr;
  QWidget* editors_ = nullptr;
  QComboBox* at_kind_ = nullptr;
  QDoubleSpinBox* at_s_ = nullptr;
  QSpinBox* at_iteration_ = nullptr;
  QComboBox* device_ = nullptr;
  FaultParamsForm* params_ = nullptr;
  QPushButton* remove_ = nullptr;
  QPushButton* duplicate_ = nullptr;
  QLabel* problem_ = nullptr;
  bool loading_ = false;
};

}  // namespace edgerig::ui
