// The control room's window: a frame of small panels (partition strip and plots in the centre,
// devices, event log and faults in docks), a toolbar to open, start and stop an experiment, and
// a status line. Layout and dock state are remembered between launches (QSettings).
#pragma once

#include <QMainWindow>
#include <QString>

#include "ui/ui_types.h"

class QAction;
class QLabel;
class QTableView;

namespace edgerig::ui {

class DeviceTableModel;
class EventFilter;
class EventLogModel;
class FaultPanel;
class PartitionStrip;
class PlotPanel;
class RunSession;
class RunStatusLine;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // The experiment Start will run; `source` names it (a path, or "quickstart").
  void setExperiment(const ExperimentConfig& config, const QString& source);
  // Loads and validates a JSON experiment; the error names the file and the field.
  Status openExperiment(const QString& path);
  Status startRun();
  void stopRun();
  void setRunsRoot(const QString& root) { runs_root_ = root; }
  const ExperimentConfig& experiment() const { return config_; }

  RunSession* session() const { return session_; }
  PlotPanel* plots() const { return plots_; }
  DeviceTableModel* deviceModel() const { return device_model_; }
  EventLogModel* eventModel() const { return event_model_; }
  FaultPanel* faults() const { return faults_; }
  PartitionStrip* partition() const { return partition_; }
  RunStatusLine* statusLine() const { return status_; }

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void buildActions();
  QWidget* buildCentre();
  void buildDocks();
  void wireSession();
  void setRunning(bool running);
  void onOpen();
  void onStart();
  void onFaultRequested(const FaultConfig& fault);
  void onEvents(const std::vector<RunEvent>& events);
  void onFinished(const RunSummary& summary);
  void restoreLayout();
  void saveLayout() const;

  ExperimentConfig config_;
  QString source_;
  QString runs_root_ = QStringLiteral("runs");
  bool close_when_finished_ = false;

  RunSession* session_ = nullptr;
  DeviceTableModel* device_model_ = nullptr;
  EventLogModel* event_model_ = nullptr;
  EventFilter* event_filter_ = nullptr;
  PlotPanel* plots_ = nullptr;
  FaultPanel* faults_ = nullptr;
  PartitionStrip* partition_ = nullptr;
  RunStatusLine* status_ = nullptr;
  QLabel* experiment_label_ = nullptr;
  QLabel* partition_label_ = nullptr;
  QTableView* device_view_ = nullptr;
  QTableView* event_view_ = nullptr;
  QAction* open_ = nullptr;
  QAction* start_ = nullptr;
  QAction* stop_ = nullptr;
};

}  // namespace edgerig::ui
