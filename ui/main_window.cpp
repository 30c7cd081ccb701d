#include "ui/main_window.h"

#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDockWidget>
#include <QFileDialog>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QScrollBar>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

#include "core/controller/controller.h"
#include "core/model/layer_info.h"
#include "ui/device_table_model.h"
#include "ui/event_log_model.h"
#include "ui/fault_panel.h"
#include "ui/partition_strip.h"
#include "ui/plot_panel.h"
#include "ui/run_session.h"
#include "ui/run_status_line.h"

namespace edgerig::ui {
namespace {
// Bump when the docks change, so an old saved layout is not applied to a new window.
constexpr int kLayoutVersion = 1;

QTableView* makeTable(QWidget* parent, QAbstractItemModel* model) {
  auto* view = new QTableView(parent);
  view->setModel(model);
  view->setSelectionBehavior(QAbstractItemView::SelectRows);
  view->setAlternatingRowColors(true);
  view->verticalHeader()->hide();
  view->verticalHeader()->setDefaultSectionSize(view->fontMetrics().height() + 6);
  view->horizontalHeader()->setStretchLastSection(true);
  view->setWordWrap(false);
  return view;
}
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  session_ = new RunSession(this);
  device_model_ = new DeviceTableModel(this);
  event_model_ = new EventLogModel(this);
  event_filter_ = new EventFilter(this);
  event_filter_->setSourceModel(event_model_);
  setDockNestingEnabled(true);
  buildActions();
  setCentralWidget(buildCentre());
  buildDocks();
  status_ = new RunStatusLine(this);
  statusBar()->addPermanentWidget(status_, 1);
  wireSession();
  setRunning(false);
  resize(1500, 920);
  restoreLayout();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildActions() {
  auto* bar = addToolBar(tr("Run"));
  bar->setObjectName("runToolBar");
  bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  bar->setMovable(false);
  open_ = bar->addAction(style()->standardIcon(QStyle::SP_DialogOpenButton), tr("Open experiment…"),
                         this, &MainWindow::onOpen);
  open_->setShortcut(QKeySequence::Open);
  start_ = bar->addAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("Start"), this,
                          &MainWindow::onStart);
  start_->setShortcut(Qt::CTRL | Qt::Key_R);
  stop_ = bar->addAction(style()->standardIcon(QStyle::SP_MediaStop), tr("Stop"), this,
                         &MainWindow::stopRun);
  bar->addSeparator();
  experiment_label_ = new QLabel(this);
  experiment_label_->setObjectName("experimentLabel");
  experiment_label_->setContentsMargins(8, 0, 8, 0);
  bar->addWidget(experiment_label_);
}

QWidget* MainWindow::buildCentre() {
  auto* split = new QSplitter(Qt::Vertical, this);
  split->setObjectName("centreSplitter");
  auto* top = new QWidget(split);
  auto* top_layout = new QVBoxLayout(top);
  top_layout->setContentsMargins(6, 4, 6, 0);
  top_layout->setSpacing(0);
  partition_label_ = new QLabel(tr("Partition"), top);
  partition_label_->setStyleSheet("font-weight: bold;");
  partition_ = new PartitionStrip(top);
  top_layout->addWidget(partition_label_);
  top_layout->addWidget(partition_);
  plots_ = new PlotPanel(split);
  split->addWidget(top);
  split->addWidget(plots_);
  split->setStretchFactor(0, 0);
  split->setStretchFactor(1, 1);
  split->setCollapsible(1, false);
  return split;
}

void MainWindow::buildDocks() {
  device_view_ = makeTable(this, device_model_);
  device_view_->setObjectName("deviceTable");
  auto* devices = new QDockWidget(tr("Devices"), this);
  devices->setObjectName("devicesDock");
  devices->setWidget(device_view_);
  addDockWidget(Qt::BottomDockWidgetArea, devices);

  auto* log_box = new QWidget(this);
  auto* log_layout = new QVBoxLayout(log_box);
  log_layout->setContentsMargins(0, 0, 0, 0);
  auto* filter_row = new QHBoxLayout;
  auto* group = new QComboBox(log_box);
  group->setObjectName("eventGroup");
  group->addItem(tr("All events"), QString());
  for (const char* g : {"fault", "plan", "device", "error", "run"}) {
    group->addItem(QString::fromUtf8(g), QString::fromUtf8(g));
  }
  auto* text = new QLineEdit(log_box);
  text->setObjectName("eventFilterText");
  text->setPlaceholderText(tr("Filter by device, kind or text"));
  text->setClearButtonEnabled(true);
  filter_row->addWidget(group);
  filter_row->addWidget(text, 1);
  log_layout->addLayout(filter_row);
  event_view_ = makeTable(log_box, event_filter_);
  event_view_->setObjectName("eventTable");
  event_view_->setToolTip(tr("Double-click an event to move the plots there"));
  log_layout->addWidget(event_view_);
  auto* log = new QDockWidget(tr("Event log"), this);
  log->setObjectName("eventLogDock");
  log->setWidget(log_box);
  addDockWidget(Qt::BottomDockWidgetArea, log);
  splitDockWidget(devices, log, Qt::Horizontal);
  resizeDocks({devices, log}, {3, 2}, Qt::Horizontal);
  resizeDocks({devices}, {190}, Qt::Vertical);

  faults_ = new FaultPanel(this);
  auto* faults = new QDockWidget(tr("Faults"), this);
  faults->setObjectName("faultsDock");
  faults->setWidget(faults_);
  addDockWidget(Qt::RightDockWidgetArea, faults);
  resizeDocks({faults}, {230}, Qt::Horizontal);

  // Device columns fit their contents (a few rows, cheap); event columns are fitted to the
  // first rows only, so they do not jump while the log scrolls.
  for (int c = 0; c < DeviceTableModel::kFaults; ++c) {
    device_view_->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
  }
  connect(event_model_, &QAbstractItemModel::rowsInserted, this, [this] {
    if (event_model_->rowCount() > 20) return;  // the first few rows set the widths
    QTimer::singleShot(0, event_view_, [this] {
      for (int c = 0; c < EventLogModel::kDetail; ++c) event_view_->resizeColumnToContents(c);
    });
  });

  connect(group, &QComboBox::currentIndexChanged, this, [this, group] {
    const QString g = group->currentData().toString();
    event_filter_->setGroups(g.isEmpty() ? QSet<QString>{} : QSet<QString>{g});
  });
  connect(text, &QLineEdit::textChanged, event_filter_, &EventFilter::setText);
  connect(event_view_, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
    const RunEvent& e = event_model_->event(event_filter_->mapToSource(index).row());
    plots_->showAround(e.time_s, e.iteration);
  });
  // Keep the newest event in view unless the user scrolled up to read.
  connect(event_filter_, &QAbstractItemModel::rowsInserted, this, [this] {
    auto* bar = event_view_->verticalScrollBar();
    if (bar->value() >= bar->maximum() - 2) {
      QMetaObject::invokeMethod(event_view_, &QTableView::scrollToBottom, Qt::QueuedConnection);
    }
  });
  connect(faults_, &FaultPanel::faultRequested, this, &MainWindow::onFaultRequested);
}

void MainWindow::wireSession() {
  connect(session_, &RunSession::devicesChanged, this, [this](const std::vector<DeviceStatus>& d) {
    device_model_->updateDevices(d);
    partition_->setDevices(d);
    plots_->setDevices(d);
    faults_->setDevices(d);
    status_->setDevices(d);
  });
  connect(session_, &RunSession::eventsArrived, this, &MainWindow::onEvents);
  connect(session_, &RunSession::metricsArrived, plots_, &PlotPanel::addMetrics);
  connect(session_, &RunSession::progressChanged, status_, &RunStatusLine::setProgress);
  connect(session_, &RunSession::finished, this, &MainWindow::onFinished);
}

void MainWindow::setExperiment(const ExperimentConfig& config, const QString& source) {
  config_ = config;
  source_ = source;
  experiment_label_->setText(tr("<b>%1</b> — %2, model %3, %4, %5 devices")
                                 .arg(QString::fromStdString(config.name).toHtmlEscaped(),
                                      QString::fromStdString(config.algorithm),
                                      QString::fromStdString(config.model),
                                      QString::fromStdString(config.dataset))
                                 .arg(config.numDevices()));
  experiment_label_->setToolTip(source);
  setWindowTitle(tr("edgerig — %1").arg(QString::fromStdString(config.name)));
  auto layers = describeModel(config.model);
  partition_->setLayers(layers ? *layers : std::vector<LayerInfo>{});
  device_model_->setLayers(layers ? *layers : std::vector<LayerInfo>{});
  partition_label_->setText(tr("Partition — %1 (%2 layers; width by parameters)")
                                .arg(QString::fromStdString(config.model))
                                .arg(layers ? static_cast<int>(layers->size()) : 0));
}

Status MainWindow::openExperiment(const QString& path) {
  auto loaded = loadExperiment(path.toStdString(), knownNames());
  if (!loaded) return loaded.status();
  setExperiment(*loaded, path);
  return Status::ok();
}

Status MainWindow::startRun() {
  if (auto st = validateExperiment(config_, knownNames()); !st) return st;
  device_model_->clear();
  event_model_->clear();
  plots_->clear();
  partition_->clearAssignment();
  status_->reset();
  if (auto st = session_->start(config_, runs_root_); !st) return st;
  setRunning(true);
  status_->setState(tr("running"), QColor(46, 125, 50));
  statusBar()->showMessage(tr("Run folder: %1").arg(session_->runDir()), 8000);
  return Status::ok();
}

void MainWindow::stopRun() {
  if (!session_->running()) return;
  session_->stop();
  stop_->setEnabled(false);
  status_->setState(tr("stopping"), QColor(245, 124, 0));
}

void MainWindow::setRunning(bool running) {
  start_->setEnabled(!running);
  open_->setEnabled(!running);
  stop_->setEnabled(running);
  faults_->setRunActive(running);
}

void MainWindow::onOpen() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open experiment"), QString(),
                                                    tr("Experiments (*.json);;All files (*)"));
  if (path.isEmpty()) return;
  if (auto st = openExperiment(path); !st) {
    QMessageBox::warning(this, tr("Open experiment"), QString::fromStdString(st.message()));
  }
}

void MainWindow::onStart() {
  if (auto st = startRun(); !st) {
    QMessageBox::warning(this, tr("Start run"), QString::fromStdString(st.message()));
  }
}

void MainWindow::onFaultRequested(const FaultConfig& fault) {
  if (auto st = session_->injectFault(fault); !st) {
    statusBar()->showMessage(QString::fromStdString(st.message()), 8000);
  }
}

void MainWindow::onEvents(const std::vector<RunEvent>& events) {
  for (const auto& e : events) {
    if (e.kind == "device_lost") device_model_->markLost(QString::fromStdString(e.device));
  }
  event_model_->append(events);
  plots_->addEvents(events);
}

void MainWindow::onFinished(const RunSummary& summary) {
  setRunning(false);
  if (summary.ok) {
    status_->setState(tr("finished"), QColor(21, 101, 192));
    statusBar()->showMessage(tr("Run finished: %1").arg(QString::fromStdString(summary.run_dir)));
  } else {
    const bool stopped = summary.error.find("stopped on request") != std::string::npos;
    status_->setState(stopped ? tr("stopped") : tr("failed"),
                      stopped ? QColor(120, 120, 120) : QColor(198, 40, 40));
    statusBar()->showMessage(QString::fromStdString(summary.error));
  }
  if (close_when_finished_) close();
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (session_->running()) {
    // Close once the run has wound down (agents reaped, run folder complete); the window
    // stays responsive meanwhile.
    close_when_finished_ = true;
    stopRun();
    event->ignore();
    return;
  }
  saveLayout();
  QMainWindow::closeEvent(event);
}

void MainWindow::restoreLayout() {
  QSettings s;
  if (s.value("window/layoutVersion").toInt() != kLayoutVersion) return;
  restoreGeometry(s.value("window/geometry").toByteArray());
  restoreState(s.value("window/state").toByteArray(), kLayoutVersion);
  if (auto* split = findChild<QSplitter*>("centreSplitter")) {
    split->restoreState(s.value("window/centreSplitter").toByteArray());
  }
}

void MainWindow::saveLayout() const {
  QSettings s;
  s.setValue("window/layoutVersion", kLayoutVersion);
  s.setValue("window/geometry", saveGeometry());
  s.setValue("window/state", saveState(kLayoutVersion));
  if (auto* split = findChild<QSplitter*>("centreSplitter")) {
    s.setValue("window/centreSplitter", split->saveState());
  }
}

}  // namespace edgerig::ui
