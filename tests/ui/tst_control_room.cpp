// End to end through the window, as a person drives it: an experiment edited in the form and
// saved/reopened; a 2-agent local testbed started; a slowdown applied with the fault panel's
// widgets shows as that device's samples/s falling; the algorithm panel switches micro-batches
// and plan mid-run (an event and a marker, and the run goes on); pause holds the iterations;
// stop; both CSV exports; and the run folder opened again as a replay.
#include <QAction>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>

#include "core/runlog/run_reader.h"
#include "ui/algorithm_panel.h"
#include "ui/device_table_model.h"
#include "ui/event_log_model.h"
#include "ui/experiment_form.h"
#include "ui/fault_panel.h"
#include "ui/main_window.h"
#include "ui/plot_panel.h"
#include "ui/run_session.h"
#include "ui/run_status_line.h"
#include "ui_test_util.h"

using namespace edgerig;
using namespace edgerig::ui;

using edgerig::ui::test::child;
using edgerig::ui::test::RateWatch;
using edgerig::ui::test::twoAgents;

namespace {

int countEvents(const EventLogModel& m, const std::string& kind) {
  int n = 0;
  for (int r = 0; r < m.rowCount(); ++r) n += m.event(r).kind == kind;
  return n;
}

QByteArray readAll(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return f.readAll();
}

}  // namespace

class TstControlRoom : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

  void driveARunFromTheWindow() {
    QTemporaryDir runs;
    QVERIFY(runs.isValid());
    MainWindow w;
    w.setRunsRoot(runs.path());
    w.setExperiment(twoAgents("control-room-e2e"), "test");

    // The form edits the experiment; save and reopen give it back.
    child<QSpinBox>(w, "batchSize")->setValue(32);
    QCOMPARE(w.experiment().batch_size, 32);
    const QString saved = runs.filePath("edited.json");
    auto st = w.saveExperiment(saved);
    QVERIFY2(st.isOk(), st.message().c_str());
    w.setExperiment(twoAgents("control-room-e2e"), "test");
    QCOMPARE(w.experiment().batch_size, 64);
    st = w.openExperiment(saved);
    QVERIFY2(st.isOk(), st.message().c_str());
    QCOMPARE(w.experiment().batch_size, 32);
    QCOMPARE(w.experiment().max_iterations, int64_t{100000});

    DeviceTableModel& devices = *w.deviceModel();
    RateWatch rate;  // device 1
    rate.watch(devices, 1, this);
    QSignalSpy finished(w.session(), &RunSession::finished);
    QSignalSpy progress(w.session(), &RunSession::progressChanged);

    st = w.startRun();
    QVERIFY2(st.isOk(), st.message().c_str());
    QVERIFY(w.session()->running());
    QTRY_VERIFY_WITH_TIMEOUT(rate.before.size() >= 6, 60000);
    // The state column, as a person reads it: both devices train while the run runs...
    const auto stateOf = [&](int row) {
      return devices.data(devices.index(row, DeviceTableModel::kState)).toString();
    };
    QCOMPARE(stateOf(0), QString("training"));
    QCOMPARE(stateOf(1), QString("training"));

    // The fault panel, as clicked: tick dev1, slow down x500, Apply. (The mlp computes for a
    // small part of an iteration and a slowdown stretches only that part: x25 once left the rate
    // above half its baseline under a full suite at ctest -j4, as in tst_run_session.)
    auto* list = child<QListWidget>(w, "faultDevices");
    QCOMPARE(list->count(), 2);
    list->item(1)->setCheckState(Qt::Checked);
    auto* kind = child<QComboBox>(w, "faultKind");
    kind->setCurrentIndex(kind->findData("slowdown"));
    child<QDoubleSpinBox>(w, "faultSlowdown")->setValue(500);
    rate.markFault();
    child<QPushButton>(w, "faultApply")->click();
    const double base = rate.baseline();
    QTRY_VERIFY_WITH_TIMEOUT(rate.after.size() >= 4 && rate.recent() < 0.5 * base, 30000);
    QCOMPARE(countEvents(*w.eventModel(), "fault_applied"), 1);
    // Clear faults, as clicked: the rest of the run trains at full speed again.
    kind->setCurrentIndex(kind->findData("clear"));
    child<QPushButton>(w, "faultApply")->click();
    QTRY_COMPARE_WITH_TIMEOUT(countEvents(*w.eventModel(), "fault_cleared"), 1, 10000);
    const int markers_before_switch = w.plots()->markerCount();

    // The algorithm panel: 4 micro-batches and the balanced plan, applied mid-run.
    auto* switch_button = child<QPushButton>(w, "switchButton");
    QVERIFY(!switch_button->isEnabled());  // nothing differs from what runs yet
    child<QSpinBox>(w, "param_microBatches")->setValue(4);
    auto* plan = child<QComboBox>(w, "param_plan");
    plan->setCurrentIndex(plan->findText("balanced"));
    QVERIFY(switch_button->isEnabled());
    switch_button->click();
    QTRY_VERIFY_WITH_TIMEOUT(countEvents(*w.eventModel(), "algorithm_switched") == 1, 60000);
    QTRY_VERIFY_WITH_TIMEOUT(w.plots()->markerCount() > markers_before_switch, 5000);
    QTRY_VERIFY_WITH_TIMEOUT(!switch_button->isEnabled(), 5000);  // now the running one
    QVERIFY(w.session()->running());
    // Training goes on after the switch.
    const int64_t at_switch = progress.last().at(0).value<RunProgress>().iteration;
    QTRY_VERIFY_WITH_TIMEOUT(progress.last().at(0).value<RunProgress>().iteration > at_switch + 5,
                             30000);

    // Pause holds the iterations; resume continues them.
    st = w.pauseRun();
    QVERIFY2(st.isOk(), st.message().c_str());
    QTRY_VERIFY_WITH_TIMEOUT(countEvents(*w.eventModel(), "run_paused") == 1, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(w.statusLine()->text().startsWith("paused"), 5000);
    const int64_t held = progress.last().at(0).value<RunProgress>().iteration;
    QTest::qWait(1000);
    QCOMPARE(progress.last().at(0).value<RunProgress>().iteration, held);
    st = w.resumeRun();
    QVERIFY2(st.isOk(), st.message().c_str());
    QTRY_VERIFY_WITH_TIMEOUT(progress.last().at(0).value<RunProgress>().iteration > held + 2,
                             30000);

    w.stopRun();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
    QVERIFY(!w.session()->running());
    // ...and once it has stopped, none still claims to train (green, at 0 samples/s).
    for (int row = 0; row < 2; ++row) {
      QTRY_VERIFY2_WITH_TIMEOUT(stateOf(row) == "ready" || stateOf(row) == "lost",
                                qPrintable("dev" + QString::number(row) + " " + stateOf(row)),
                                5000);
    }

    // Export: long is the run folder's metrics.csv; wide has one column per metric.
    const QString run_dir = w.session()->runDir();
    QCOMPARE(w.runsMade(), QStringList{run_dir});  // offered by Compare runs…
    const QString long_csv = runs.filePath("long.csv"), wide_csv = runs.filePath("wide.csv");
    st = w.exportCsv(long_csv, CsvLayout::kLong);
    QVERIFY2(st.isOk(), st.message().c_str());
    st = w.exportCsv(wide_csv, CsvLayout::kWide);
    QVERIFY2(st.isOk(), st.message().c_str());
    QCOMPARE(readAll(long_csv), readAll(run_dir + "/metrics.csv"));
    const QByteArray wide = readAll(wide_csv);
    QVERIFY(wide.startsWith("time_s,iteration,device,"));
    QVERIFY(wide.left(wide.indexOf('\n')).contains("train_loss"));
    QVERIFY(wide.left(wide.indexOf('\n')).contains("samples_per_s"));

    // The run folder holds what the window saw, and opens again offline.
    auto run = readRun(run_dir.toStdString());
    QVERIFY2(run.isOk(), run.status().message().c_str());
    const int live_events = w.eventModel()->rowCount();
    QCOMPARE(live_events, static_cast<int>(run->events.size()));
    st = w.openRun(run_dir);
    QVERIFY2(st.isOk(), st.message().c_str());
    QCOMPARE(w.eventModel()->rowCount(), live_events);
    QCOMPARE(countEvents(*w.eventModel(), "algorithm_switched"), 1);
    QVERIFY(w.plots()->pointCount("train_loss", "") > 10);
    QCOMPARE(w.deviceModel()->rowCount(), 2);
    QVERIFY(w.statusLine()->text().startsWith("replay"));
    QCOMPARE(w.exportSource(), run_dir);
  }
};

QTEST_MAIN(TstControlRoom)
#include "tst_control_room.moc"
