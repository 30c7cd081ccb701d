// The window's toolbar and menu actions, triggered as a person does (QAction::trigger, the file
// dialogs answered as they pop up), each checked by what it changes: an experiment opened and
// saved, a run folder replayed (also one whose controller was killed with SIGKILL mid-run), CSVs
// exported, runs compared, device dialogs applied, docks hidden, the topology laid out as a ring,
// a real run started, paused, resumed and stopped on two local agents, and the window closed.
// Every action in the menus must have a check here: a new one without a test fails the suite.
// Clicking an event in the log moves the plots to it.
#include <qcustomplot.h>

#include <QAction>
#include <QApplication>
#include <QDockWidget>
#include <QFileDialog>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QProcess>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>
#include <functional>
#include <memory>
#include <set>

#include "core/experiment/experiment.h"
#include "core/runlog/run_log.h"
#include "ui/compare_dialog.h"
#include "ui/compare_panel.h"
#include "ui/device_dialogs.h"
#include "ui/device_table_model.h"
#include "ui/event_log_model.h"
#include "ui/link_bandwidth_dialog.h"
#include "ui/main_window.h"
#include "ui/plot_panel.h"
#include "ui/run_session.h"
#include "ui/run_status_line.h"
#include "ui/topology_view.h"
#include "ui_test_util.h"

using edgerig::ui::CompareDialog;
using edgerig::ui::ConnectDevicesDialog;
using edgerig::ui::DeviceTableModel;
using edgerig::ui::LocalTestbedDialog;
using edgerig::ui::MainWindow;
using edgerig::ui::PlotPanel;
using edgerig::ui::RunSession;
using edgerig::ui::TopologyView;

namespace {

// Answers the next modal dialog that inherits `cls` with `answer` once it is up (polled every
// 20 ms from the event loop the dialog's exec() runs); what() names its class if one came within
// 10 s.
struct Modal {
  std::shared_ptr<QString> seen = std::make_shared<QString>();  // its class name
  Modal(const char* cls, std::function<void(QWidget*)> answer) {
    auto* timer = new QTimer(qApp);
    auto until = std::make_shared<QElapsedTimer>();
    until->start();
    QObject::connect(timer, &QTimer::timeout, qApp,
                     [timer, until, cls, answer = std::move(answer), seen = seen] {
                       QWidget* w = QApplication::activeModalWidget();
                       if (w && !w->inherits(cls)) w = nullptr;
                       if (!w && until->elapsed() < 10000) return;
                       timer->stop();
                       timer->deleteLater();
                       if (!w) return;
                       *seen = QString::fromLatin1(w->metaObject()->className());
                       answer(w);
                     });
    timer->start(20);
  }
  QString what() const { return *seen; }
};

// A Qt (not native) file dialog, given `path` and accepted.
Modal chooseFile(const QString& path) {
  return Modal("QFileDialog", [path](QWidget* w) {
    auto* d = qobject_cast<QFileDialog*>(w);
    if (!d) {
      qWarning("expected a file dialog, got %s", w->metaObject()->className());
      w->close();
      return;
    }
    // Typed into its name field, as a person does: selectFile() misses a file written after
    // the dialog's directory listing was cached.
    auto* name = d->findChild<QLineEdit*>("fileNameEdit");
    if (!name) qFatal("the file dialog has no fileNameEdit");
    name->setText(path);
    static_cast<QDialog*>(d)->accept();  // QFileDialog's own override is protected
  });
}

// Any modal dialog, its text kept (a message box's) and closed.
Modal dismiss(const char* cls, QString* text = nullptr) {
  return Modal(cls, [text](QWidget* w) {
    if (auto* box = qobject_cast<QMessageBox*>(w); box && text) *text = box->text();
    if (auto* d = qobject_cast<QDialog*>(w)) {
      d->reject();
    } else {
      w->close();
    }
  });
}

QString writeFile(const QString& path, const QByteArray& text) {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
  f.write(text);
  return path;
}

QByteArray readFile(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// A finished run of three devices, dev1 lost at iteration 24, written with core's RunLog.
QString writeRun(const QString& dir, const std::string& name) {
  edgerig::ExperimentConfig c;
  c.name = name;
  c.local_count = 3;
  c.model = "mlp";
  c.dataset = "synthetic";
  c.synthetic_size = 256;
  auto log = edgerig::RunLog::create(dir.toStdString(), edgerig::toJson(c));
  if (!log) qFatal("RunLog::create: %s", log.status().message().c_str());
  for (int d = 0; d < 3; ++d) {
    (*log)->append(
        edgerig::RunEvent{0.25 * d, 0, "dev" + std::to_string(d), "device_joined", "local agent"});
  }
  (*log)->append(edgerig::RunEvent{1, 0, "", "run_started", "gpipe", {{"algorithm", "gpipe"}}});
  std::vector<edgerig::MetricSample> metrics;
  for (int it = 1; it <= 40; ++it) {
    const double t = 1 + 0.25 * it;
    metrics.push_back({t, it, "", "train_loss", 2.0 - 0.03125 * it});
    for (int d = 0; d < 3; ++d) {
      if (d == 1 && it > 20) continue;
      metrics.push_back({t, it, "dev" + std::to_string(d), "samples_per_s", 100.0 * (d + 1)});
    }
  }
  (*log)->append(metrics);
  (*log)->append(edgerig::RunEvent{7, 24, "dev1", "device_lost", "no heartbeat for 3.5 s"});
  (*log)->append(edgerig::RunEvent{11, 40, "", "run_finished", "ok"});
  if (!(*log)->status()) qFatal("RunLog: %s", (*log)->status().message().c_str());
  return dir;
}

// Every action reachable from the menu bar (submenus included), by its text without '&'.
std::vector<QAction*> menuActions(const MainWindow& w) {
  std::vector<QAction*> out;
  std::function<void(QMenu*)> walk = [&](QMenu* m) {
    for (QAction* a : m->actions()) {
      if (a->isSeparator()) continue;
      if (a->menu()) {
        walk(a->menu());
      } else {
        out.push_back(a);
      }
    }
  };
  for (QAction* a : w.menuBar()->actions()) {
    if (a->menu()) walk(a->menu());
  }
  return out;
}

QString plain(const QAction* a) { return a->text().remove('&'); }

QAction* action(const MainWindow& w, const QString& text) {
  for (QAction* a : menuActions(w)) {
    if (plain(a) == text) return a;
  }
  qFatal("no menu action %s", qPrintable(text));
}

// The x range of the loss chart.
QCPRange lossRange(const MainWindow& w) {
  return w.plots()->chart(edgerig::ui::Chart::kLoss)->xAxis->range();
}

}  // namespace

class TstMainWindowActions : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // keep user settings out
    // Qt's own file dialogs, which a test can answer (a native one is a separate process).
    QCoreApplication::setAttribute(Qt::AA_DontUseNativeDialogs);
  }

  void everyMenuActionHasATestHere() {
    // The actions this file triggers, by their text in the menus; the docks' toggles are
    // checked all together (dockTogglesHideAndShow).
    const std::set<QString> tested = {"Open…",
                                      "Save…",
                                      "Open run…",
                                      "Compare runs…",
                                      "Export CSV (long)…",
                                      "Export CSV (wide)…",
                                      "Quit",
                                      "Start",
                                      "Pause",
                                      "Stop",
                                      "Local testbed…",
                                      "Connect devices…",
                                      "Remove lost devices from the table",
                                      "Link bandwidth…",
                                      "Topology as a ring"};
    MainWindow w;
    std::set<QString> docks;
    for (auto* d : w.findChildren<QDockWidget*>()) docks.insert(plain(d->toggleViewAction()));
    for (QAction* a : menuActions(w)) {
      const QString t = plain(a);
      QVERIFY2(tested.count(t) || docks.count(t),
               qPrintable("the menu action \"" + t + "\" has no test in this file"));
    }
  }

  void openAndSaveGoThroughTheirFileDialogs() {
    QTemporaryDir dir;
    MainWindow w;
    const QString path = writeFile(dir.filePath("two.json"), R"({
      "name": "opened-by-menu",
      "devices": {"localCount": 2},
      "model": {"name": "cnn"},
      "dataset": {"name": "synthetic"},
      "algorithm": {"name": "gpipe", "microBatches": 2}
    })");
    Modal open = chooseFile(path);
    action(w, "Open…")->trigger();
    QCOMPARE(open.what(), QString("QFileDialog"));
    QCOMPARE(w.experiment().name, std::string("opened-by-menu"));
    QCOMPARE(w.experiment().model, std::string("cnn"));

    const QString saved = dir.filePath("saved.json");
    Modal save = chooseFile(saved);
    action(w, "Save…")->trigger();
    QCOMPARE(save.what(), QString("QFileDialog"));
    const QByteArray text = readFile(saved);
    QVERIFY2(text.contains("opened-by-menu") && text.contains("cnn"), text.constData());

    // A bad file: the error box names it, and the experiment stays.
    const QString bad = writeFile(dir.filePath("bad.json"), R"({"training": {"batchSize": "x"}})");
    Modal open_bad = chooseFile(bad);
    QString error;
    Modal box = dismiss("QMessageBox", &error);
    action(w, "Open…")->trigger();
    QTRY_VERIFY(!box.what().isEmpty());
    QVERIFY2(error.contains("bad.json") && error.contains("batchSize"), qPrintable(error));
    QCOMPARE(w.experiment().name, std::string("opened-by-menu"));
  }

  void openRunReplaysAndExportWritesIt() {
    QTemporaryDir dir;
    const QString run = writeRun(dir.filePath("run"), "replayed-by-menu");
    MainWindow w;
    w.setRunsRoot(dir.path());
    Modal open = chooseFile(run);
    action(w, "Open run…")->trigger();
    QCOMPARE(open.what(), QString("QFileDialog"));
    QCOMPARE(w.experiment().name, std::string("replayed-by-menu"));
    QVERIFY2(w.statusLine()->text().contains("replay"), qPrintable(w.statusLine()->text()));
    // Where the replayed run ended, not a fresh run's zeros.
    QVERIFY2(w.statusLine()->text().contains("gpipe | Elapsed 0:11 | Iteration 40 / 40"),
             qPrintable(w.statusLine()->text()));
    QCOMPARE(w.eventModel()->rowCount(), 6);
    QCOMPARE(w.plots()->pointCount("train_loss", ""), size_t{40});

    // dev1 was lost: the Devices menu removes it from the table.
    QCOMPARE(w.deviceModel()->rowCount(), 3);
    action(w, "Remove lost devices from the table")->trigger();
    QCOMPARE(w.deviceModel()->rowCount(), 2);

    const QString long_csv = dir.filePath("long.csv");
    Modal export_long = chooseFile(long_csv);
    action(w, "Export CSV (long)…")->trigger();
    QCOMPARE(export_long.what(), QString("QFileDialog"));
    const QByteArray lcsv = readFile(long_csv);
    QVERIFY2(lcsv.startsWith("time_s,iteration,device,metric,value"), lcsv.left(80).constData());
    QCOMPARE(lcsv.count("train_loss"), 40);

    const QString wide_csv = dir.filePath("wide.csv");
    Modal export_wide = chooseFile(wide_csv);
    action(w, "Export CSV (wide)…")->trigger();
    const QByteArray wcsv = readFile(wide_csv);
    const QByteArray header = wcsv.left(wcsv.indexOf('\n'));
    QCOMPARE(header, QByteArray("time_s,iteration,device,train_loss,samples_per_s"));
    // A header, then a row per iteration and device: the run's 40, dev0's and dev2's 40 each,
    // dev1's 20 before it went silent.
    QCOMPARE(wcsv.count('\n'), 1 + 40 + 40 + 20 + 40);
  }

  void compareRunsOverlaysTheChosenFolders() {
    QTemporaryDir dir;
    const QString a = writeRun(dir.filePath("a"), "a");
    const QString b = writeRun(dir.filePath("b"), "b");
    MainWindow w;
    Modal pick("edgerig::ui::CompareDialog", [&](QWidget* d) {
      auto* dialog = qobject_cast<CompareDialog*>(d);
      if (!dialog) {
        d->close();
        return;
      }
      dialog->addFolders({a, b});
      dialog->accept();
    });
    action(w, "Compare runs…")->trigger();
    QCOMPARE(pick.what(), QString("edgerig::ui::CompareDialog"));
    QVERIFY(w.comparePanel()->isVisibleTo(&w));
    QCOMPARE(w.comparePanel()->model()->rowCount(), 2);
  }

  void deviceDialogsChangeTheExperiment() {
    MainWindow w;
    Modal local("edgerig::ui::LocalTestbedDialog", [](QWidget* d) {
      if (!qobject_cast<LocalTestbedDialog*>(d)) {
        d->close();
        return;
      }
      d->findChild<QSpinBox*>("localCount")->setValue(5);
      static_cast<QDialog*>(d)->accept();
    });
    action(w, "Local testbed…")->trigger();
    QCOMPARE(local.what(), QString("edgerig::ui::LocalTestbedDialog"));
    QCOMPARE(w.experiment().local_count, 5);

    Modal remote("edgerig::ui::ConnectDevicesDialog", [](QWidget* d) {
      if (!qobject_cast<ConnectDevicesDialog*>(d)) {
        d->close();
        return;
      }
      static_cast<QDialog*>(d)->reject();  // cancelled: nothing changes
    });
    action(w, "Connect devices…")->trigger();
    QCOMPARE(remote.what(), QString("edgerig::ui::ConnectDevicesDialog"));
    QCOMPARE(w.experiment().local_count, 5);
    QVERIFY(w.experiment().remote.empty());
  }

  void dockTogglesHideAndShow() {
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    const auto docks = w.findChildren<QDockWidget*>();
    QVERIFY(!docks.isEmpty());
    for (auto* d : docks) {
      QAction* toggle = action(w, plain(d->toggleViewAction()));
      const bool before = d->isVisible();
      toggle->trigger();
      QVERIFY2(d->isVisible() != before, qPrintable(plain(toggle)));
      toggle->trigger();
      QCOMPARE(d->isVisible(), before);
    }
  }

  void viewActionsShowTheirViews() {
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QCOMPARE(w.topology()->layoutKind(), TopologyView::Layout::kChain);
    action(w, "Topology as a ring")->trigger();
    QCOMPARE(w.topology()->layoutKind(), TopologyView::Layout::kRing);
    action(w, "Topology as a ring")->trigger();
    QCOMPARE(w.topology()->layoutKind(), TopologyView::Layout::kChain);

    QVERIFY(!w.linkBandwidth()->isVisible());
    action(w, "Link bandwidth…")->trigger();
    QVERIFY(w.linkBandwidth()->isVisible());
  }

  void startPauseResumeStopARealRun() {
    QTemporaryDir runs;
    MainWindow w;
    w.setRunsRoot(runs.path());
    w.setExperiment(edgerig::ui::test::twoAgents("actions-run"), "test");
    QSignalSpy finished(w.session(), &RunSession::finished);
    QSignalSpy progress(w.session(), &RunSession::progressChanged);
    action(w, "Start")->trigger();
    QVERIFY(w.session()->running());
    QTRY_VERIFY_WITH_TIMEOUT(progress.count() >= 3, 60000);

    QAction* pause = action(w, "Pause");
    pause->trigger();
    QVERIFY(w.session()->paused());
    QCOMPARE(plain(pause), QString("Resume"));  // the same action, now to resume
    pause->trigger();
    QVERIFY(!w.session()->paused());

    action(w, "Stop")->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
    QVERIFY(!w.session()->running());
  }

  void startNamesWhatIsWrongInABox() {
    MainWindow w;
    auto c = w.experiment();
    c.algorithm.params.set("microBatches", int64_t{0});
    w.setExperiment(c, "edited");
    QString error;
    Modal box = dismiss("QMessageBox", &error);
    action(w, "Start")->trigger();
    QCOMPARE(box.what(), QString("QMessageBox"));
    QVERIFY2(error.contains("microBatches"), qPrintable(error));
    QVERIFY(!w.session()->running());
  }

  void quitClosesTheWindow() {
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    action(w, "Quit")->trigger();
    QVERIFY(!w.isVisible());
  }

  void clickingAnEventMovesThePlots() {
    QTemporaryDir dir;
    const QString run = writeRun(dir.filePath("run"), "click");
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    auto st = w.openRun(run);
    QVERIFY2(st.isOk(), st.message().c_str());
    QTRY_VERIFY(!w.plots()->replotPending());
    auto* table = edgerig::ui::test::child<QTableView>(w, "eventTable");
    // Replayed, the charts fit the whole run; a click on "device_lost" (iteration 24) centres
    // them on it.
    int row = -1;
    for (int r = 0; r < table->model()->rowCount(); ++r) {
      const QModelIndex kind = table->model()->index(r, edgerig::ui::EventLogModel::kKind);
      if (kind.data().toString().contains("lost")) row = r;
    }
    QVERIFY(row >= 0);
    const QCPRange before = lossRange(w);
    const QModelIndex index = table->model()->index(row, 0);
    table->scrollTo(index);
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, table->visualRect(index).center());
    QTRY_VERIFY(!w.plots()->replotPending());
    const QCPRange after = lossRange(w);
    QVERIFY2(after != before, "the click did not move the loss chart");
    // Centred on the event: iteration 24, or 7 s on a wall-time axis.
    const double x = w.plots()->xAxis() == PlotPanel::XAxis::kIteration ? 24 : 7;
    QVERIFY2(qAbs(after.center() - x) < 1e-6,
             qPrintable(QString("%1..%2 around %3").arg(after.lower).arg(after.upper).arg(x)));
  }

  void openRunReplaysARunWhoseControllerWasKilled() {
    // edgerig-run on two local agents, killed with SIGKILL while it trains: Open run shows what
    // it wrote (the iterations up to the kill, its devices), without an error.
    QTemporaryDir dir;
    const QString exp = writeFile(dir.filePath("crash.json"), R"({
      "name": "killed", "seed": 4, "devices": {"localCount": 2}, "model": {"name": "mlp"},
      "dataset": {"name": "synthetic", "syntheticSize": 4096},
      "training": {"batchSize": 64, "maxIterations": 1000000, "epochs": 100000, "evalEvery": 0}
    })");
    const QString run = dir.filePath("run");
    QProcess cli;
    cli.setProgram(qEnvironmentVariable("EDGERIG_RUN"));
    QVERIFY2(!cli.program().isEmpty(), "EDGERIG_RUN is not set (ctest sets it)");
    cli.setArguments({exp, "--out", run, "--quiet"});
    cli.start();
    QVERIFY(cli.waitForStarted());
    QTRY_VERIFY_WITH_TIMEOUT(readFile(run + "/metrics.csv").count("train_loss") >= 20, 60000);
    cli.kill();  // SIGKILL: no handler runs; its agents die with it (parent-death signal)
    QVERIFY(cli.waitForFinished(10000));
    const int written = static_cast<int>(readFile(run + "/metrics.csv").count("train_loss"));

    MainWindow w;
    Modal open = chooseFile(run);
    action(w, "Open run…")->trigger();
    QCOMPARE(open.what(), QString("QFileDialog"));
    QVERIFY2(w.statusLine()->text().contains("replay"), qPrintable(w.statusLine()->text()));
    QCOMPARE(w.experiment().name, std::string("killed"));
    QCOMPARE(static_cast<int>(w.plots()->pointCount("train_loss", "")), written);
    QCOMPARE(w.deviceModel()->rowCount(), 2);
    QVERIFY(w.eventModel()->rowCount() >= 3);  // joined ×2, started; no finish: it was killed
  }
};

QTEST_MAIN(TstMainWindowActions)
#include "tst_main_window_actions.moc"
