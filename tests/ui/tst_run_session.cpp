// End to end: a 2-agent local testbed run through RunSession, its updates fed to the Devices
// table; a slowdown injected on device 1 shows as that device's samples/s falling; stop ends
// the run and leaves a complete run folder.
#include <QDir>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>

#include "core/runlog/run_reader.h"
#include "ui/device_table_model.h"
#include "ui/event_log_model.h"
#include "ui/run_session.h"
#include "ui_test_util.h"

using namespace edgerig;
using edgerig::ui::DeviceTableModel;
using edgerig::ui::EventLogModel;
using edgerig::ui::RunSession;

using edgerig::ui::test::RateWatch;
using edgerig::ui::test::twoAgents;

namespace {}  // namespace

class TstRunSession : public QObject {
  Q_OBJECT

 private slots:
  void slowdownShowsInTheDeviceTable() {
    QTemporaryDir runs;
    QVERIFY(runs.isValid());
    RunSession session;
    DeviceTableModel devices;
    EventLogModel events;
    connect(&session, &RunSession::devicesChanged, &devices, &DeviceTableModel::updateDevices);
    connect(&session, &RunSession::eventsArrived, &events, &EventLogModel::append);
    QSignalSpy finished(&session, &RunSession::finished);
    QSignalSpy progress(&session, &RunSession::progressChanged);

    RateWatch rate;  // device 1
    rate.watch(devices, 1, this);

    auto st = session.start(twoAgents("gui-e2e"), runs.path());
    QVERIFY2(st.isOk(), st.message().c_str());
    QVERIFY(session.running());
    QVERIFY(QDir(session.runDir()).exists());
    QVERIFY(!session.start(twoAgents("gui-e2e"), runs.path()).isOk());  // one run at a time

    // A baseline: several reports of device 1 while training at full speed.
    QTRY_VERIFY_WITH_TIMEOUT(rate.before.size() >= 6, 60000);
    QVERIFY(finished.isEmpty());
    QCOMPARE(devices.rowCount(), 2);
    FaultConfig slow;
    slow.device = 1;
    slow.kind = "slowdown";
    // The mlp computes for a small part of an iteration, and the slowdown stretches only that
    // part: 25x once left the rate above half its baseline under a full suite at -j4 (the rest,
    // waiting and scheduling, grows with the load); 100x left it at 0.36 on a quiet machine.
    // 500x halves it while compute is over 0.2 % of an iteration.
    slow.slowdown = 500;
    rate.markFault();
    QVERIFY(session.injectFault(slow).isOk());
    const double base = rate.baseline();
    // Reports that straddle the fault are mixed; wait for a run of slow ones.
    QTRY_VERIFY_WITH_TIMEOUT(rate.after.size() >= 4 && rate.recent() < 0.5 * base, 30000);
    qInfo("device 1: %.0f samples/s before the slowdown, %.0f after (median of last 3)", base,
          rate.recent());
    QVERIFY2(
        devices.data(devices.index(1, DeviceTableModel::kFaults)).toString().contains("slowdown"),
        "the table lists the applied fault");

    session.stop();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
    QVERIFY(!session.running());
    QVERIFY(!progress.isEmpty());
    const auto summary = finished.first().at(0).value<RunSummary>();
    QVERIFY(!summary.ok);
    QVERIFY(summary.stopped);  // on request: not a failure
    QVERIFY2(summary.error.find("stopped") != std::string::npos, summary.error.c_str());

    // The run folder holds the run, the fault included.
    auto run = readRun(session.runDir().toStdString());
    QVERIFY2(run.isOk(), run.status().message().c_str());
    QVERIFY(!run->metrics.empty());
    QCOMPARE(run->events.back().kind, std::string("run_stopped"));
    bool fault_logged = false;
    for (const auto& e : run->events) {
      fault_logged |= e.kind == "fault_applied" && e.device == "dev1";
    }
    QVERIFY(fault_logged);
    // The GUI's event log saw what the folder holds, in the same order.
    QCOMPARE(events.rowCount(), static_cast<int>(run->events.size()));
    QCOMPARE(events.event(events.rowCount() - 1).kind, run->events.back().kind);
  }

  void destroyingARunningSessionStopsIt() {
    QTemporaryDir runs;
    auto session = std::make_unique<RunSession>();
    QSignalSpy devices(session.get(), &RunSession::devicesChanged);
    QVERIFY(session->start(twoAgents("gui-e2e"), runs.path()).isOk());
    QTRY_VERIFY_WITH_TIMEOUT(!devices.isEmpty(), 60000);
    QElapsedTimer t;
    t.start();
    session.reset();  // stops, reaps the agents, joins
    QVERIFY(t.elapsed() < 20000);
  }

  void faultsNeedARun() {
    RunSession session;
    FaultConfig f;
    f.kind = "crash";
    auto st = session.injectFault(f);
    QVERIFY(!st.isOk());
    QVERIFY(QString::fromStdString(st.message()).contains("start a run"));
  }
};

QTEST_MAIN(TstRunSession)
#include "tst_run_session.moc"
