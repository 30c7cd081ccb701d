// What the window's actions do: the experiment and its editors kept in step, the run's
// controls (start, pause, stop, switch, faults), export and replay.
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMessageBox>
#include <QStatusBar>
#include <QTableView>

#include "core/catalog/catalog.h"
#include "core/controller/controller.h"
#include "core/model/layer_info.h"
#include "core/partition/stage_plan.h"
#include "core/runlog/event_kinds.h"
#include "ui/algorithm_panel.h"
#include "ui/device_dialogs.h"
#include "ui/device_table_model.h"
#include "ui/event_log_model.h"
#include "ui/experiment_form.h"
#include "ui/fault_panel.h"
#include "ui/fault_timeline.h"
#include "ui/link_bandwidth_dialog.h"
#include "ui/main_window.h"
#include "ui/partition_strip.h"
#include "ui/plot_panel.h"
#include "ui/run_replay.h"
#include "ui/run_session.h"
#include "ui/run_status_line.h"
#include "ui/shard_histogram.h"
#include "ui/topology_view.h"

namespace edgerig::ui {
namespace {
const QColor kRunning(46, 125, 50);
const QColor kPaused(245, 124, 0);
}  // namespace

void MainWindow::setExperiment(const ExperimentConfig& config, const QString& source) {
  config_ = config;
  source_ = source;
  syncing_ = true;
  form_->setConfig(config_);
  algorithm_->setAlgorithm(config_.algorithm);
  timeline_->setFaults(config_.faults);
  syncing_ = false;
  refreshExperimentViews();
}

void MainWindow::refreshExperimentViews() {
  const auto& c = config_;
  experiment_label_->setText(tr("<b>%1</b> — %2, model %3, %4, %5 devices")
                                 .arg(QString::fromStdString(c.name).toHtmlEscaped(),
                                      QString::fromStdString(c.algorithm.name),
                                      QString::fromStdString(c.model),
                                      QString::fromStdString(c.dataset))
                                 .arg(c.numDevices()));
  experiment_label_->setToolTip(source_);
  setWindowTitle(tr("edgerig — %1").arg(QString::fromStdString(c.name)));
  auto layers = describeModel(c.model);
  const auto infos = layers ? *layers : std::vector<LayerInfo>{};
  // Only a different model resets the strip: the same layers keep the plan drawn on them.
  if (infos != partition_->layers() || device_model_->rowCount() == 0) {
    partition_->setLayers(infos);
    device_model_->setLayers(infos);
  }
  partition_label_->setText(
      tr("Partition — %1 (%2)").arg(QString::fromStdString(c.model), partition_->widthLegend()));
  syncing_ = true;
  algorithm_->setExperiment(c);
  timeline_->setDevices(experimentDeviceNames(c));
  syncing_ = false;
  if (!session_->running()) showProposedCuts();
}

void MainWindow::showProposedCuts() {
  // Before a run the strip shows the cuts a pipeline will start from, and they can be dragged.
  if (session_->running()) return;
  const AlgorithmInfo* info = findAlgorithm(config_.algorithm.name);
  partition_->setProposalNote({});
  if (info == nullptr || info->param("cuts") == nullptr) {  // not a pipeline: no cuts to show
    partition_->clearAssignment();
    partition_->setCuts({});
    partition_->setCutsEditable(false);
    return;
  }
  std::vector<int> cuts;
  for (int64_t c : config_.algorithm.params.getIntList("cuts")) cuts.push_back(static_cast<int>(c));
  if (cuts.empty() && partition_->layerCount() >= config_.numDevices() &&
      config_.numDevices() >= 1) {
    if (auto even = evenPlan(partition_->layerCount(), config_.numDevices())) {
      for (int s = 1; s < even->numStages(); ++s) cuts.push_back(even->first(s));
    }
    // Only the even plan by count is known before the run; the others are cut from the profile
    // the run starts with. The even cuts stay as handles: dragging one fixes the cuts.
    const std::string plan = config_.algorithm.params.has("plan")
                                 ? config_.algorithm.params.getString("plan")
                                 : defaultParams(*info).getString("plan");
    if (!plan.empty() && plan != "even") {
      partition_->setProposalNote(
          tr("plan %1: cut from the profile when the run starts (drag a cut to fix them)")
              .arg(QString::fromStdString(plan)));
    }
  }
  partition_->clearAssignment();
  partition_->setCuts(cuts);
  partition_->setCutsEditable(true);
}

Status MainWindow::openExperiment(const QString& path) {
  auto loaded = ExperimentForm::openExperimentFile(path);
  if (!loaded) return loaded.status();
  setExperiment(*loaded, path);
  return Status::ok();
}

Status MainWindow::saveExperiment(const QString& path) {
  if (auto st = ExperimentForm::saveExperimentFile(config_, path); !st) return st;
  source_ = path;
  experiment_label_->setToolTip(source_);
  return Status::ok();
}

Status MainWindow::startRun() {
  if (auto st = validateExperiment(config_, knownNames()); !st) return st;
  endComparison();
  device_model_->clear();
  device_view_->setColumnHidden(DeviceTableModel::kLocalBatch, true);
  event_model_->clear();
  plots_->clear();
  plots_->setFollowTail(true);  // a live run scrolls with its newest data (a replay fitted all)
  topology_->clear();
  shards_->clear();
  partition_->setCutsEditable(false);
  partition_->setCuts({});
  partition_->clearAssignment();
  status_->reset();
  replay_dir_.clear();
  requested_switch_.reset();
  if (auto st = session_->start(config_, runs_root_); !st) {
    showProposedCuts();
    return st;
  }
  setRunning(true);
  algorithm_->setRunningAlgorithm(config_.algorithm);
  status_->setState(tr("running"), kRunning);
  statusBar()->showMessage(tr("Run folder: %1").arg(session_->runDir()), 8000);
  return Status::ok();
}

void MainWindow::stopRun() {
  if (!session_->running()) return;
  session_->stop();
  if (pause_->isChecked()) pause_->setChecked(false);  // a paused run must wind down too
  stop_->setEnabled(false);
  status_->setState(tr("stopping"), kPaused);
}

Status MainWindow::pauseRun() {
  if (auto st = session_->pause(); !st) return st;
  const QSignalBlocker block(pause_);
  pause_->setChecked(true);
  pause_->setText(tr("Resume"));
  status_->setState(tr("pausing"), kPaused);
  return Status::ok();
}

Status MainWindow::resumeRun() {
  if (auto st = session_->resume(); !st) return st;
  const QSignalBlocker block(pause_);
  pause_->setChecked(false);
  pause_->setText(tr("Pause"));
  status_->setState(tr("running"), kRunning);
  return Status::ok();
}

void MainWindow::setRunning(bool running) {
  start_->setEnabled(!running);
  open_->setEnabled(!running);
  open_run_->setEnabled(!running);
  compare_runs_->setEnabled(!running);
  local_testbed_->setEnabled(!running);
  connect_devices_->setEnabled(!running);
  stop_->setEnabled(running);
  pause_->setEnabled(running);
  if (!running) {
    const QSignalBlocker block(pause_);
    pause_->setChecked(false);
    pause_->setText(tr("Pause"));
  }
  faults_->setRunActive(running);
  algorithm_->setRunActive(running);
  form_->setEditable(!running);
  timeline_->setEnabled(!running);
  const bool exportable = !exportSource().isEmpty();
  export_long_->setEnabled(exportable);
  export_wide_->setEnabled(exportable);
}

QString MainWindow::exportSource() const {
  return replay_dir_.isEmpty() ? session_->runDir() : replay_dir_;
}

Status MainWindow::exportCsv(const QString& path, CsvLayout layout) {
  const QString dir = exportSource();
  if (dir.isEmpty()) return unavailable("no run to export yet: start a run or open one");
  return exportRunCsv(dir, path, layout);
}

LinkBandwidthDialog* MainWindow::linkBandwidth() {
  if (!bandwidth_dialog_) {
    bandwidth_dialog_ = new LinkBandwidthDialog(this);
    if (!last_bandwidth_.devices.empty()) bandwidth_dialog_->setBandwidth(last_bandwidth_);
  }
  return bandwidth_dialog_;
}

void MainWindow::showLinkBandwidth() {
  auto* d = linkBandwidth();
  d->show();
  d->raise();
}

Status MainWindow::openRun(const QString& dir) {
  if (session_->running()) return unavailable("a run is in progress: stop it to open another");
  auto replay = RunReplay::load(dir);
  if (!replay) return replay.status();
  endComparison();
  if (replay->config()) setExperiment(*replay->config(), dir + "/config.json");
  device_model_->clear();
  event_model_->clear();
  topology_->clear();
  partition_->setCutsEditable(false);
  partition_->setCuts({});
  replay->feed(*plots_);
  device_model_->updateDevices(replay->devices());
  plots_->setDevices(replay->devices());
  topology_->setDevices(replay->devices());
  onDeviceMetrics(replay->metrics());
  partition_->setDevices(replay->devices());
  shards_->clear();
  shards_->setShardRecords(replay->shards());
  if (!replay->graph().edges.empty()) {
    topology_->setGraph(replay->graph());
    std::vector<int> replicas;
    for (const auto& d : replay->devices()) {
      if (d.state != DeviceState::kLost) replicas.push_back(d.index);
    }
    partition_->setReplicas(replicas);
    ring_layout_->setChecked(true);
  } else {
    topology_->setPlan(replay->plan());
    partition_->setPlan(replay->plan());
    ring_layout_->setChecked(false);
  }
  event_model_->append(replay->events());
  last_bandwidth_ = LinkBandwidthDialog::lastProbe(replay->links());
  if (bandwidth_dialog_) {
    if (last_bandwidth_.devices.empty()) {
      bandwidth_dialog_->clear();
    } else {
      bandwidth_dialog_->setBandwidth(last_bandwidth_);
    }
  }
  replay_dir_ = dir;
  status_->reset();
  status_->setState(tr("replay"), QColor(94, 53, 177));
  status_->setProgress(replay->progress());
  status_->setDevices(replay->devices());
  setRunning(false);
  statusBar()->showMessage(tr("Replaying %1 (%2 events, %3 iterations)")
                               .arg(dir)
                               .arg(replay->events().size())
                               .arg(replay->lastIteration()));
  return Status::ok();
}

void MainWindow::showError(const QString& title, const Status& st) {
  QMessageBox::warning(this, title, QString::fromStdString(st.message()));
}

void MainWindow::onOpen() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open experiment"), QString(),
                                                    tr("Experiments (*.json);;All files (*)"));
  if (path.isEmpty()) return;
  if (auto st = openExperiment(path); !st) showError(tr("Open experiment"), st);
}

void MainWindow::onSave() {
  const QString suggested =
      source_.endsWith(".json") ? source_ : QString::fromStdString(config_.name) + ".json";
  const QString path = QFileDialog::getSaveFileName(this, tr("Save experiment"), suggested,
                                                    tr("Experiments (*.json)"));
  if (path.isEmpty()) return;
  if (auto st = saveExperiment(path); !st) {
    showError(tr("Save experiment"), st);
  } else {
    statusBar()->showMessage(tr("Saved %1").arg(path), 6000);
  }
}

void MainWindow::onStart() {
  if (auto st = startRun(); !st) showError(tr("Start run"), st);
}

void MainWindow::onPauseToggled(bool paused) {
  const Status st = paused ? pauseRun() : resumeRun();
  if (!st) statusBar()->showMessage(QString::fromStdString(st.message()), 8000);
}

void MainWindow::onOpenRun() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Open run folder"), runs_root_);
  if (dir.isEmpty()) return;
  if (auto st = openRun(dir); !st) showError(tr("Open run"), st);
}

void MainWindow::onExport(CsvLayout layout) {
  const QString dir = exportSource();
  if (dir.isEmpty()) return;
  const QString suggested = QDir(QFileInfo(dir).dir()).filePath(defaultExportName(dir, layout));
  const QString path =
      QFileDialog::getSaveFileName(this, tr("Export CSV"), suggested, tr("CSV (*.csv)"));
  if (path.isEmpty()) return;
  if (auto st = exportCsv(path, layout); !st) {
    showError(tr("Export CSV"), st);
  } else {
    statusBar()->showMessage(tr("Exported %1").arg(path), 8000);
  }
}

void MainWindow::onFaultRequested(const FaultConfig& fault) {
  if (auto st = session_->injectFault(fault); !st) {
    statusBar()->showMessage(QString::fromStdString(st.message()), 8000);
  }
}

void MainWindow::onSwitchRequested(const AlgorithmConfig& next) {
  if (auto st = session_->switchAlgorithm(next); !st) {
    statusBar()->showMessage(QString::fromStdString(st.message()), 8000);
    return;
  }
  requested_switch_ = next;
  statusBar()->showMessage(tr("Switching to %1 at the next iteration boundary")
                               .arg(QString::fromStdString(describeAlgorithm(next, knownNames()))),
                           8000);
}

void MainWindow::onEvents(const std::vector<RunEvent>& events) {
  for (const auto& e : events) {
    if (e.kind == events::kDeviceLost) device_model_->markLost(QString::fromStdString(e.device));
    if (e.kind == events::kAlgorithmSwitched && requested_switch_) {
      algorithm_->setRunningAlgorithm(*requested_switch_);
      requested_switch_.reset();
    }
    if (e.kind == events::kRunPaused) status_->setState(tr("paused"), kPaused);
    if (e.kind == events::kRunResumed) status_->setState(tr("running"), kRunning);
  }
  event_model_->append(events);
  plots_->addEvents(events);
}

void MainWindow::onProgress(const RunProgress& progress) { status_->setProgress(progress); }

void MainWindow::onDeviceMetrics(const std::vector<MetricSample>& metrics) {
  device_model_->addMetrics(metrics);
  topology_->addMetrics(metrics);
  partition_->addMetrics(metrics);
  device_view_->setColumnHidden(DeviceTableModel::kLocalBatch, !device_model_->hasLocalBatch());
}

void MainWindow::onFinished(const RunSummary& summary) {
  if (!summary.run_dir.empty()) runs_made_ << QString::fromStdString(summary.run_dir);
  setRunning(false);
  algorithm_->setAlgorithm(config_.algorithm);
  showProposedCuts();
  if (summary.ok) {
    status_->setState(tr("finished"), QColor(21, 101, 192));
    statusBar()->showMessage(tr("Run finished: %1").arg(QString::fromStdString(summary.run_dir)));
  } else {
    const bool stopped = summary.stopped;
    status_->setState(stopped ? tr("stopped") : tr("failed"),
                      stopped ? QColor(120, 120, 120) : QColor(198, 40, 40));
    statusBar()->showMessage(QString::fromStdString(summary.error));
  }
  if (close_when_finished_) close();
}

}  // namespace edgerig::ui
