// The control room's window: a frame of small panels (partition strip and plots in the centre;
// experiment, algorithm and faults tabbed on the right above the topology; devices and the event
// log at the bottom), menus and a toolbar to open, save, start, pause and stop an experiment,
// export, replay and compare runs, and a status line. Layout and dock state are remembered
// (QSettings). main_window.cpp builds the frame; main_window_actions.cpp holds what the actions
// do; main_window_compare.cpp the comparison of runs.
#pragma once

#include <QMainWindow>
#include <QString>
#include <optional>

#include "ui/run_export.h"
#include "ui/ui_types.h"

class QAction;
class QLabel;
class QTableView;

namespace edgerig::ui {

class AlgorithmPanel;
class ComparePanel;
class DeviceTableModel;
class EventFilter;
class EventLogModel;
class ExperimentForm;
class FaultPanel;
class FaultTimelineEditor;
class LinkBandwidthDialog;
class PartitionStrip;
class PlotPanel;
class RunSession;
class RunStatusLine;
class TopologyView;
class ShardHistogram;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // The experiment Start will run; `source` names it (a path, or "quickstart"). Every panel
  // that edits part of it (form, algorithm, fault schedule, partition cuts) is refreshed.
  void setExperiment(const ExperimentConfig& config, const QString& source);
  // Loads and validates a JSON experiment; the error names the file and the field.
  Status openExperiment(const QString& path);
  Status saveExperiment(const QString& path);
  Status startRun();
  void stopRun();
  Status pauseRun();
  Status resumeRun();
  // Writes the current (or last, or replayed) run's metrics as CSV.
  Status exportCsv(const QString& path, CsvLayout layout);
  // Shows a past run folder offline: its plots, events, devices and last plan.
  Status openRun(const QString& dir);
  // Overlays two or more run folders on the charts (a comparison folder from edgerig-run compare
  // stands for its runs), one colour per run, with their summary table beneath; the first is the
  // baseline. main_window_compare.cpp.
  Status compareRuns(const QStringList& dirs);
  // Back to the single-run charts; the table goes.
  void endComparison();
  // The run folders this window has made, oldest first (offered by Compare runs…).
  const QStringList& runsMade() const { return runs_made_; }
  ComparePanel* comparePanel() const { return compare_; }
  void setRunsRoot(const QString& root) { runs_root_ = root; }
  const ExperimentConfig& experiment() const { return config_; }
  // The run folder Export CSV writes from: the current or last run, or the replayed one.
  QString exportSource() const;

  RunSession* session() const { return session_; }
  PlotPanel* plots() const { return plots_; }
  DeviceTableModel* deviceModel() const { return device_model_; }
  EventLogModel* eventModel() const { return event_model_; }
  FaultPanel* faults() const { return faults_; }
  FaultTimelineEditor* faultSchedule() const { return timeline_; }
  PartitionStrip* partition() const { return partition_; }
  TopologyView* topology() const { return topology_; }
  AlgorithmPanel* algorithmPanel() const { return algorithm_; }
  ExperimentForm* experimentForm() const { return form_; }
  RunStatusLine* statusLine() const { return status_; }
  // The Link bandwidth dialog (created on first use): the last probe of the live or replayed run.
  LinkBandwidthDialog* linkBandwidth();
  void showLinkBandwidth();

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  // main_window.cpp: the frame.
  void buildActions();
  void buildMenus();
  QWidget* buildCentre();
  void buildDocks();
  QWidget* buildEventLog();
  void wireSession();
  void wireEditors();
  void restoreLayout();
  void saveLayout() const;

  // main_window_actions.cpp: what the actions do.
  void setRunning(bool running);
  void onOpen();
  void onSave();
  void onStart();
  void onPauseToggled(bool paused);
  void onOpenRun();
  void onCompareRuns();
  void onExport(CsvLayout layout);
  void onFaultRequested(const FaultConfig& fault);
  void onSwitchRequested(const AlgorithmConfig& next);
  void onEvents(const std::vector<RunEvent>& events);
  void onProgress(const RunProgress& progress);
  // The Devices table's and the topology's local batches; the column shows once one arrives.
  void onDeviceMetrics(const std::vector<MetricSample>& metrics);
  void onFinished(const RunSummary& summary);
  // After any edit of config_: labels, layers, device names, proposed cuts.
  void refreshExperimentViews();
  void showProposedCuts();
  void showError(const QString& title, const Status& st);

  ExperimentConfig config_;
  QString source_;
  QString runs_root_ = QStringLiteral("runs");
  QString replay_dir_;  // the run shown by Open run, until the next start
  QStringList runs_made_;
  bool close_when_finished_ = false;
  bool syncing_ = false;  // a panel is being filled from config_: its edits are not user edits
  std::optional<AlgorithmConfig> requested_switch_;

  RunSession* session_ = nullptr;
  DeviceTableModel* device_model_ = nullptr;
  EventLogModel* event_model_ = nullptr;
  EventFilter* event_filter_ = nullptr;
  PlotPanel* plots_ = nullptr;
  FaultPanel* faults_ = nullptr;
  FaultTimelineEditor* timeline_ = nullptr;
  PartitionStrip* partition_ = nullptr;
  TopologyView* topology_ = nullptr;
  AlgorithmPanel* algorithm_ = nullptr;
  QAction* ring_layout_ = nullptr;  // View → Topology as a ring
  ShardHistogram* shards_ = nullptr;
  ExperimentForm* form_ = nullptr;
  RunStatusLine* status_ = nullptr;
  ComparePanel* compare_ = nullptr;
  QLabel* experiment_label_ = nullptr;
  QLabel* partition_label_ = nullptr;
  QTableView* device_view_ = nullptr;
  QTableView* event_view_ = nullptr;
  QAction* open_ = nullptr;
  QAction* save_ = nullptr;
  QAction* start_ = nullptr;
  QAction* pause_ = nullptr;
  QAction* stop_ = nullptr;
  QAction* open_run_ = nullptr;
  QAction* compare_runs_ = nullptr;
  QAction* export_long_ = nullptr;
  QAction* export_wide_ = nullptr;
  QAction* local_testbed_ = nullptr;
  QAction* connect_devices_ = nullptr;
  QAction* link_bandwidth_ = nullptr;
  LinkBandwidthDialog* bandwidth_dialog_ = nullptr;
  LinkBandwidthInfo last_bandwidth_;
};

}  // namespace edgerig::ui
