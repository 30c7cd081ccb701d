// The event log fed bursts of run events: one insertion per burst, a bounded length, and the
// filter by kind group and by text.
#include <QSignalSpy>
#include <QtTest>

#include "ui/event_log_model.h"

using edgerig::RunEvent;
using edgerig::ui::EventFilter;
using edgerig::ui::EventLogModel;

namespace {

std::vector<RunEvent> burst(int first, int n, const std::string& kind = "evaluation") {
  std::vector<RunEvent> out;
  for (int i = first; i < first + n; ++i) {
    out.push_back(
        RunEvent{0.5 * i, i, i % 2 ? "dev1" : "dev0", kind, "event " + std::to_string(i)});
  }
  return out;
}

}  // namespace

class TstEventLogModel : public QObject {
  Q_OBJECT

 private slots:
  void insertsEachBurstOnce() {
    EventLogModel m;
    QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);
    m.append(burst(0, 5));
    m.append(burst(5, 3));
    m.append({});
    QCOMPARE(inserted.count(), 2);
    QCOMPARE(inserted.at(0).at(1).toInt(), 0);
    QCOMPARE(inserted.at(0).at(2).toInt(), 4);
    QCOMPARE(inserted.at(1).at(1).toInt(), 5);
    QCOMPARE(inserted.at(1).at(2).toInt(), 7);
    QCOMPARE(m.rowCount(), 8);
    QCOMPARE(m.data(m.index(7, EventLogModel::kDetail)).toString(), QString("event 7"));
    QCOMPARE(m.data(m.index(7, EventLogModel::kIteration)).toString(), QString("7"));
    QCOMPARE(m.data(m.index(3, EventLogModel::kTime)).toString(), QString("0:01.5"));
    QCOMPARE(m.data(m.index(3, EventLogModel::kTime), EventLogModel::kRawRole).toDouble(), 1.5);
  }

  void dropsTheOldestPastTheBound() {
    EventLogModel m;
    m.setMaxRows(10);
    for (int b = 0; b < 5; ++b) m.append(burst(b * 4, 4));
    QCOMPARE(m.rowCount(), 10);
    QCOMPARE(m.event(0).iteration, 10);
    QCOMPARE(m.event(9).iteration, 19);
  }

  void groupsKinds() {
    QCOMPARE(EventLogModel::groupOf("fault_applied"), QString("fault"));
    QCOMPARE(EventLogModel::groupOf("fault_cleared"), QString("fault"));
    QCOMPARE(EventLogModel::groupOf("plan_changed"), QString("plan"));
    QCOMPARE(EventLogModel::groupOf("device_lost"), QString("device"));
    QCOMPARE(EventLogModel::groupOf("run_failed"), QString("error"));
    QCOMPARE(EventLogModel::groupOf("run_started"), QString("run"));
    QCOMPARE(EventLogModel::groupOf("something_new"), QString("other"));
  }

  void filtersByGroupAndText() {
    EventLogModel m;
    EventFilter f;
    f.setSourceModel(&m);
    m.append(burst(0, 4, "evaluation"));
    m.append({RunEvent{3, 4, "dev1", "fault_applied", "injected slowdown x8"},
              RunEvent{4, 5, "dev0", "fault_applied", "injected freeze 5 s"},
              RunEvent{5, 6, "dev1", "device_lost", "heartbeat timeout"}});
    QCOMPARE(f.rowCount(), 7);
    f.setGroups({"fault"});
    QCOMPARE(f.rowCount(), 2);
    f.setText("SLOWDOWN");
    QCOMPARE(f.rowCount(), 1);
    QCOMPARE(f.data(f.index(0, EventLogModel::kDevice)).toString(), QString("dev1"));
    f.setGroups({});
    f.setText("dev1");
    QCOMPARE(f.rowCount(), 4);  // two evaluations on dev1, the slowdown, the loss
    // Rows arriving later are filtered too.
    m.append({RunEvent{6, 7, "dev1", "fault_cleared", "injected clear"}});
    QCOMPARE(f.rowCount(), 5);
  }
};

QTEST_MAIN(TstEventLogModel)
#include "tst_event_log_model.moc"
