#include "ui/main_window.h"

#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDockWidget>
#include <QFileDialog>
#include <QGuiApplication>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QScreen>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>
#include <algorithm>

#include "core/controller/controller.h"
#include "core/model/layer_info.h"
#include "ui/algorithm_panel.h"
#include "ui/compare_panel.h"
#include "ui/device_table_model.h"
#include "ui/event_log_model.h"
#include "ui/experiment_form.h"
#include "ui/fault_panel.h"
#include "ui/fault_timeline.h"
#include "ui/link_bandwidth_dialog.h"
#include "ui/partition_strip.h"
#include "ui/plot_panel.h"
#include "ui/run_session.h"
#include "ui/run_status_line.h"
#include "ui/shard_histogram.h"
#include "ui/topology_view.h"

namespace edgerig::ui {
namespace {
// Bump when the docks change, so an old saved layout is not applied to a new window.
constexpr int kLayoutVersion = 3;

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
  buildMenus();
  status_ = new RunStatusLine(this);
  statusBar()->addPermanentWidget(status_, 1);
  wireSession();
  wireEditors();
  setRunning(false);
  setExperiment(config_, tr("default experiment"));  // every panel shows the same experiment
  // 1600×1000 where the screen has room; on a smaller one (a 1280×800 projector) the screen.
  QSize size(1600, 1000);
  if (const QScreen* screen = QGuiApplication::primaryScreen()) {
    size = size.boundedTo(screen->availableGeometry().size());
  }
  resize(size);
  restoreLayout();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildActions() {
  auto* bar = addToolBar(tr("Run"));
  bar->setObjectName("runToolBar");
  bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  bar->setMovable(false);
  open_ = bar->addAction(style()->standardIcon(QStyle::SP_DialogOpenButton), tr("Open…"), this,
                         &MainWindow::onOpen);
  open_->setToolTip(tr("Open an experiment file (the JSON edgerig-run reads)"));
  open_->setShortcut(QKeySequence::Open);
  save_ = bar->addAction(style()->standardIcon(QStyle::SP_DialogSaveButton), tr("Save…"), this,
                         &MainWindow::onSave);
  save_->setToolTip(tr("Save the experiment as edited here, to replay it with edgerig-run"));
  save_->setShortcut(QKeySequence::Save);
  bar->addSeparator();
  start_ = bar->addAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("Start"), this,
                          &MainWindow::onStart);
  start_->setShortcut(Qt::CTRL | Qt::Key_R);
  pause_ = bar->addAction(style()->standardIcon(QStyle::SP_MediaPause), tr("Pause"));
  pause_->setCheckable(true);
  pause_->setToolTip(tr("Hold training at the next iteration boundary; devices stay connected"));
  connect(pause_, &QAction::toggled, this, &MainWindow::onPauseToggled);
  stop_ = bar->addAction(style()->standardIcon(QStyle::SP_MediaStop), tr("Stop"), this,
                         &MainWindow::stopRun);
  bar->addSeparator();
  open_run_ = new QAction(style()->standardIcon(QStyle::SP_DirOpenIcon), tr("Open run…"), this);
  open_run_->setToolTip(tr("Replay a past run folder's plots and events"));
  connect(open_run_, &QAction::triggered, this, &MainWindow::onOpenRun);
  bar->addAction(open_run_);
  compare_runs_ = new QAction(style()->standardIcon(QStyle::SP_FileDialogDetailedView),
                              tr("Compare runs…"), this);
  compare_runs_->setObjectName("compareRuns");
  compare_runs_->setToolTip(
      tr("Overlay two or more run folders on the charts, with their summary"));
  connect(compare_runs_, &QAction::triggered, this, &MainWindow::onCompareRuns);
  bar->addAction(compare_runs_);
  export_long_ = new QAction(tr("Export CSV (long)…"), this);
  connect(export_long_, &QAction::triggered, this, [this] { onExport(CsvLayout::kLong); });
  export_wide_ = new QAction(tr("Export CSV (wide)…"), this);
  connect(export_wide_, &QAction::triggered, this, [this] { onExport(CsvLayout::kWide); });
  auto* export_menu = new QMenu(this);
  export_menu->addAction(export_long_);
  export_menu->addAction(export_wide_);
  auto* export_button = new QToolButton(bar);
  export_button->setObjectName("exportButton");
  export_button->setText(tr("Export CSV"));
  export_button->setIcon(style()->standardIcon(QStyle::SP_DialogSaveButton));
  export_button->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  export_button->setPopupMode(QToolButton::InstantPopup);
  export_button->setMenu(export_menu);
  export_button->setToolTip(
      tr("Metrics of the current, last or replayed run: long (one value per row) or wide"));
  bar->addWidget(export_button);
  link_bandwidth_ = new QAction(tr("Link bandwidth…"), this);
  link_bandwidth_->setObjectName("linkBandwidth");
  link_bandwidth_->setToolTip(
      tr("The links' measured bandwidth as a heat map (the live run's last probe, or the "
         "replayed run's)"));
  connect(link_bandwidth_, &QAction::triggered, this, &MainWindow::showLinkBandwidth);
  bar->addAction(link_bandwidth_);
  bar->addSeparator();
  experiment_label_ = new QLabel(this);
  experiment_label_->setObjectName("experimentLabel");
  experiment_label_->setContentsMargins(8, 0, 8, 0);
  bar->addWidget(experiment_label_);
  local_testbed_ = new QAction(tr("Local testbed…"), this);
  local_testbed_->setToolTip(tr("Agents on this machine: how many, and their slowdowns"));
  connect_devices_ = new QAction(tr("Connect devices…"), this);
  connect_devices_->setToolTip(tr("Agents on real devices: addresses and the token file"));
}

void MainWindow::buildMenus() {
  auto* file = menuBar()->addMenu(tr("&File"));
  file->addAction(open_);
  file->addAction(save_);
  file->addSeparator();
  file->addAction(open_run_);
  file->addAction(compare_runs_);
  file->addAction(export_long_);
  file->addAction(export_wide_);
  file->addSeparator();
  file->addAction(tr("Quit"), QKeySequence::Quit, this, &QWidget::close);
  auto* run = menuBar()->addMenu(tr("&Run"));
  run->addAction(start_);
  run->addAction(pause_);
  run->addAction(stop_);
  auto* devices = menuBar()->addMenu(tr("&Devices"));
  devices->addAction(local_testbed_);
  devices->addAction(connect_devices_);
  devices->addSeparator();
  auto* remove_lost = devices->addAction(tr("Remove lost devices from the table"));
  remove_lost->setObjectName("removeLostDevices");
  connect(remove_lost, &QAction::triggered, device_model_, &DeviceTableModel::removeLost);
  auto* view = menuBar()->addMenu(tr("&View"));
  for (auto* dock : findChildren<QDockWidget*>()) view->addAction(dock->toggleViewAction());
  view->addSeparator();
  view->addAction(link_bandwidth_);
  auto* ring = view->addAction(tr("Topology as a ring"));
  ring->setObjectName("topologyRing");
  ring->setCheckable(true);
  ring_layout_ = ring;
  connect(ring, &QAction::toggled, this, [this](bool on) {
    topology_->setLayout(on ? TopologyView::Layout::kRing : TopologyView::Layout::kChain);
  });
}

QWidget* MainWindow::buildCentre() {
  auto* split = new QSplitter(Qt::Vertical, this);
  split->setObjectName("centreSplitter");
  auto* top = new QWidget(split);
  auto* top_layout = new QVBoxLayout(top);
  top_layout->setContentsMargins(6, 4, 6, 0);
  top_layout->setSpacing(2);
  auto* title_row = new QHBoxLayout;
  partition_label_ = new QLabel(tr("Partition"), top);
  partition_label_->setObjectName("partitionLabel");
  partition_label_->setStyleSheet("font-weight: bold;");
  partition_ = new PartitionStrip(top);
  title_row->addWidget(partition_label_, 1);
  title_row->addWidget(new QLabel(tr("Width by"), top));
  title_row->addWidget(partition_->createWidthByCombo(top));
  top_layout->addLayout(title_row);
  top_layout->addWidget(partition_);
  plots_ = new PlotPanel(split);
  compare_ = new ComparePanel(split);  // beneath the charts while runs are compared
  compare_->hide();
  split->addWidget(top);
  split->addWidget(plots_);
  split->addWidget(compare_);
  split->setStretchFactor(0, 0);
  split->setStretchFactor(1, 1);
  split->setStretchFactor(2, 0);
  split->setCollapsible(1, false);
  connect(compare_, &ComparePanel::markersToggled, plots_, &PlotPanel::setRunMarkersVisible);
  connect(compare_, &ComparePanel::closeRequested, this, &MainWindow::endComparison);
  return split;
}

QWidget* MainWindow::buildEventLog() {
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
  event_view_->setToolTip(tr("Click an event to move the plots there"));
  log_layout->addWidget(event_view_);

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
  connect(event_view_, &QTableView::clicked, this, [this](const QModelIndex& index) {
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
  return log_box;
}

void MainWindow::buildDocks() {
  auto dock = [this](const QString& title, const char* name, QWidget* w) {
    auto* d = new QDockWidget(title, this);
    d->setObjectName(name);
    d->setWidget(w);
    return d;
  };
  device_view_ = makeTable(this, device_model_);
  device_view_->setObjectName("deviceTable");
  auto* devices = dock(tr("Devices"), "devicesDock", device_view_);
  addDockWidget(Qt::BottomDockWidgetArea, devices);
  auto* log = dock(tr("Event log"), "eventLogDock", buildEventLog());
  addDockWidget(Qt::BottomDockWidgetArea, log);
  splitDockWidget(devices, log, Qt::Horizontal);
  resizeDocks({devices, log}, {1, 1}, Qt::Horizontal);
  resizeDocks({devices}, {230}, Qt::Vertical);

  // The panels that edit the experiment or act on the run share the right side as tabs.
  form_ = new ExperimentForm(this);
  auto* form_scroll = new QScrollArea(this);
  form_scroll->setWidget(form_);
  form_scroll->setWidgetResizable(true);
  form_scroll->setFrameShape(QFrame::NoFrame);
  auto* experiment = dock(tr("Experiment"), "experimentDock", form_scroll);
  algorithm_ = new AlgorithmPanel(this);
  auto* algorithm = dock(tr("Algorithm"), "algorithmDock", algorithm_);
  faults_ = new FaultPanel(this);
  timeline_ = new FaultTimelineEditor(this);
  auto* fault_tabs = new QTabWidget(this);
  fault_tabs->setObjectName("faultTabs");
  fault_tabs->addTab(faults_, tr("Inject now"));
  fault_tabs->addTab(timeline_, tr("Schedule"));
  fault_tabs->setTabToolTip(1, tr("The experiment's fault schedule: replays by itself each run"));
  auto* faults = dock(tr("Faults"), "faultsDock", fault_tabs);
  // The topology sits under them: the tabs rarely need the whole height. Split first, then
  // tabify, or the split dock joins the tabs.
  topology_ = new TopologyView(this);
  topology_->setObjectName("topologyView");
  auto* topology = dock(tr("Topology"), "topologyDock", topology_);
  shards_ = new ShardHistogram(this);
  shards_->setObjectName("shardHistogram");
  auto* shards = dock(tr("Data shards"), "shardsDock", shards_);
  addDockWidget(Qt::RightDockWidgetArea, experiment);
  splitDockWidget(experiment, topology, Qt::Vertical);
  tabifyDockWidget(topology, shards);
  topology->raise();
  tabifyDockWidget(experiment, algorithm);
  tabifyDockWidget(algorithm, faults);
  faults->raise();
  resizeDocks({faults}, {400}, Qt::Horizontal);
  resizeDocks({faults, topology}, {560, 300}, Qt::Vertical);

  // Device columns fit their contents (a few rows, cheap).
  for (int c = 0; c < DeviceTableModel::kFaults; ++c) {
    device_view_->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
  }
  // Until a run reports local batches (edgegossip), the column would only say "—".
  device_view_->setColumnHidden(DeviceTableModel::kLocalBatch, true);
}

void MainWindow::wireSession() {
  connect(session_, &RunSession::devicesChanged, this, [this](const std::vector<DeviceStatus>& d) {
    device_model_->updateDevices(d);
    partition_->setDevices(d);
    plots_->setDevices(d);
    faults_->setDevices(d);
    topology_->setDevices(d);
    shards_->setDevices(d);
    status_->setDevices(d);
  });
  connect(session_, &RunSession::shardsChanged, shards_, &ShardHistogram::setShards);
  connect(session_, &RunSession::bandwidthMeasured, this, [this](const LinkBandwidthInfo& b) {
    last_bandwidth_ = b;
    if (bandwidth_dialog_) bandwidth_dialog_->setBandwidth(b);
  });
  connect(session_, &RunSession::linksChanged, topology_, &TopologyView::setLinks);
  connect(session_, &RunSession::planChanged, this, [this](const PlanInfo& p) {
    partition_->setPlan(p);
    // Pipelines whose stages keep replicas of the ones after them (respipe's `redundancy`).
    const auto& params = config_.algorithm.params;
    partition_->setStageReplicas(
        params.has("redundancy") ? static_cast<int>(params.getInt("redundancy")) : 0);
    topology_->setPlan(p);
    ring_layout_->setChecked(false);  // a pipeline reads as a chain
    partition_label_->setText(
        tr("Partition — %1 (%2)")
            .arg(QString::fromStdString(config_.model), partition_->widthLegend()));
  });
  connect(session_, &RunSession::graphChanged, this, [this](const GraphInfo& g) {
    topology_->setGraph(g);
    ring_layout_->setChecked(true);  // a decentralized graph reads as a ring
    std::vector<int> devices;
    for (const auto& e : g.edges) {
      for (int d : {e.from, e.to}) {
        if (std::find(devices.begin(), devices.end(), d) == devices.end()) devices.push_back(d);
      }
    }
    std::sort(devices.begin(), devices.end());
    partition_->setReplicas(devices);
  });
  connect(session_, &RunSession::eventsArrived, this, &MainWindow::onEvents);
  connect(session_, &RunSession::metricsArrived, plots_, &PlotPanel::addMetrics);
  connect(session_, &RunSession::metricsArrived, this, &MainWindow::onDeviceMetrics);
  connect(session_, &RunSession::progressChanged, this, &MainWindow::onProgress);
  connect(session_, &RunSession::finished, this, &MainWindow::onFinished);
  connect(faults_, &FaultPanel::faultRequested, this, &MainWindow::onFaultRequested);
}

void MainWindow::wireEditors() {
  connect(form_, &ExperimentForm::configChanged, this, [this] {
    if (syncing_) return;
    ExperimentConfig c = form_->config();
    c.algorithm = config_.algorithm;
    c.faults = config_.faults;
    config_ = c;
    refreshExperimentViews();
  });
  connect(local_testbed_, &QAction::triggered, form_, &ExperimentForm::openLocalTestbedDialog);
  connect(connect_devices_, &QAction::triggered, form_, &ExperimentForm::openConnectDevicesDialog);
  connect(algorithm_, &AlgorithmPanel::algorithmEdited, this, [this](const AlgorithmConfig& a) {
    if (syncing_) return;
    config_.algorithm = a;
    form_->setAlgorithm(a);
    showProposedCuts();
  });
  connect(algorithm_, &AlgorithmPanel::switchRequested, this, &MainWindow::onSwitchRequested);
  connect(partition_, &PartitionStrip::cutsEdited, algorithm_, &AlgorithmPanel::setCuts);
  connect(partition_, &PartitionStrip::widthByChanged, this, [this] {
    partition_label_->setText(
        tr("Partition — %1 (%2)")
            .arg(QString::fromStdString(config_.model), partition_->widthLegend()));
  });
  connect(timeline_, &FaultTimelineEditor::faultsChanged, this, [this] {
    if (syncing_) return;
    config_.faults = timeline_->faults();
    form_->setFaults(config_.faults);
  });
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
