// The control room's comparison of runs: folders chosen in Compare runs… (or given with
// `edgerig --compare`) overlaid on the charts, one colour per run, with the summary table
// beneath; a new run, a replay or Close comparison returns to the single-run charts.
#include <QApplication>
#include <QStatusBar>
#include <QTableView>

#include "core/catalog/catalog.h"
#include "core/controller/controller.h"
#include "ui/compare_dialog.h"
#include "ui/compare_panel.h"
#include "ui/compare_runs.h"
#include "ui/device_table_model.h"
#include "ui/event_log_model.h"
#include "ui/main_window.h"
#include "ui/partition_strip.h"
#include "ui/plot_panel.h"
#include "ui/run_session.h"
#include "ui/run_status_line.h"
#include "ui/topology_view.h"

namespace edgerig::ui {

Status MainWindow::compareRuns(const QStringList& dirs) {
  if (session_->running()) return unavailable("a run is in progress: stop it to compare runs");
  auto expanded = expandRunFolders(dirs);
  if (!expanded) return expanded.status();
  if (expanded->size() < 2) {
    return invalidArgument("choose two or more run folders to compare (got " +
                           std::to_string(expanded->size()) + ")");
  }
  QApplication::setOverrideCursor(Qt::WaitCursor);
  auto loaded = loadComparison(*expanded);
  QApplication::restoreOverrideCursor();
  if (!loaded) return loaded.status();

  // The baseline's experiment names the window (model, devices); the single-run panels have
  // nothing to say about several runs at once.
  const auto& baseline = loaded->comparison.rows.front();
  if (auto config = parseExperiment(baseline.config_json, kConfigFile, knownNames())) {
    setExperiment(*config, QString::fromStdString(baseline.run_dir + "/" + kConfigFile));
  }
  device_model_->clear();
  device_view_->setColumnHidden(DeviceTableModel::kLocalBatch, true);
  event_model_->clear();
  topology_->clear();
  partition_->setCutsEditable(false);
  partition_->setCuts({});
  partition_->clearAssignment();
  replay_dir_.clear();
  std::vector<QColor> colors;
  for (const auto& r : loaded->runs) colors.push_back(r.color);
  const size_t count = loaded->runs.size();
  plots_->showRuns(std::move(loaded->runs));
  compare_->setComparison(std::move(loaded->comparison), std::move(colors));
  compare_->show();
  status_->reset();
  status_->setState(tr("comparing"), QColor(94, 53, 177));
  setRunning(false);
  statusBar()->showMessage(tr("Comparing %1 runs; the first, %2, is the baseline")
                               .arg(count)
                               .arg(QString::fromStdString(expanded->front())));
  return Status::ok();
}

void MainWindow::endComparison() {
  if (!plots_->comparing() && compare_->isHidden()) return;
  compare_->hide();
  plots_->clear();
  status_->reset();
}

void MainWindow::onCompareRuns() {
  CompareDialog dialog(runs_made_, runs_root_, this);
  if (dialog.exec() != QDialog::Accepted) return;
  if (auto st = compareRuns(dialog.chosen()); !st) showError(tr("Compare runs"), st);
}

}  // namespace edgerig::ui
