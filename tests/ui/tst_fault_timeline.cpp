// The fault timeline editor: adding, editing, duplicating and removing rows gives exactly the
// fault list, sorted by when, and bad rows are named as validateExperiment names them.
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableView>
#include <QtTest>

#include "core/catalog/catalog.h"
#include "ui/fault_timeline.h"
#include "ui_test_util.h"

using edgerig::FaultConfig;
using edgerig::ui::FaultTableModel;
using edgerig::ui::FaultTimelineEditor;
using edgerig::ui::FaultTimelineStrip;

using edgerig::ui::test::child;

namespace {

FaultConfig fault(double at_s, int device, const std::string& kind) {
  FaultConfig f;
  f.at_s = at_s;
  f.device = device;
  f.kind = kind;
  return f;
}

void chooseKind(FaultTimelineEditor& e, const QString& kind) {
  auto* box = child<QComboBox>(e, "faultKindEdit");
  box->setCurrentIndex(box->findData(kind));
  QCOMPARE(box->currentData().toString(), kind);
}

void click(FaultTimelineEditor& e, const char* button) {
  auto* b = child<QPushButton>(e, button);
  QVERIFY2(b->isEnabled(), button);
  QTest::mouseClick(b, Qt::LeftButton);
}

}  // namespace

class TstFaultTimeline : public QObject {
  Q_OBJECT

 private slots:
  void addEditDuplicateRemoveGivesTheList() {
    FaultTimelineEditor e;
    e.setDevices({"dev0", "dev1", "dev2"});
    QSignalSpy changed(&e, &FaultTimelineEditor::faultsChanged);

    click(e, "faultAdd");  // slowdown ×4 on dev0 at 10 s
    QCOMPARE(e.currentRow(), 0);
    FaultConfig a = fault(10, 0, "slowdown");
    a.slowdown = 4;
    QVERIFY(e.faults() == std::vector<FaultConfig>{a});

    // Make it a link fault on dev2 at 30 s.
    chooseKind(e, "link");
    child<QComboBox>(e, "faultDevice")->setCurrentIndex(2);
    child<QDoubleSpinBox>(e, "faultAtS")->setValue(30);
    child<QDoubleSpinBox>(e, "faultDelayMsEdit")->setValue(40);
    child<QDoubleSpinBox>(e, "faultBandwidthMbpsEdit")->setValue(100);
    child<QDoubleSpinBox>(e, "faultDropPercentEdit")->setValue(5);
    child<QDoubleSpinBox>(e, "faultSlowdownEdit")->setValue(9);  // not this kind's page
    FaultConfig link = fault(30, 2, "link");
    link.delay_ms = 40;
    link.bandwidth_mbps = 100;
    link.drop_probability = 0.05;
    link.slowdown = 9;  // edited explicitly, so kept; 9 ≥ 1 is valid
    QVERIFY(e.faults() == std::vector<FaultConfig>{link});

    // Add lands after the last timed fault, on the selected device.
    click(e, "faultAdd");
    FaultConfig b = fault(40, 2, "slowdown");
    b.slowdown = 4;
    QVERIFY((e.faults() == std::vector<FaultConfig>{link, b}));
    QCOMPARE(e.currentRow(), 1);

    // Moving it to 5 s re-sorts it to the top; the selection follows it.
    child<QDoubleSpinBox>(e, "faultAtS")->setValue(5);
    b.at_s = 5;
    QVERIFY((e.faults() == std::vector<FaultConfig>{b, link}));
    QCOMPARE(e.currentRow(), 0);

    // Duplicate, then turn the copy into a freeze at iteration 200 (after all timed faults).
    click(e, "faultDuplicate");
    QCOMPARE(e.faults().size(), size_t{3});
    chooseKind(e, "freeze");
    child<QComboBox>(e, "faultAtKind")->setCurrentIndex(1);
    child<QSpinBox>(e, "faultAtIteration")->setValue(200);
    child<QDoubleSpinBox>(e, "faultFreezeSEdit")->setValue(7.5);
    FaultConfig freeze = fault(5, 2, "freeze");
    freeze.at_iteration = 200;
    freeze.freeze_s = 7.5;
    QVERIFY((e.faults() == std::vector<FaultConfig>{b, link, freeze}));
    QCOMPARE(e.currentRow(), 2);

    // Remove the middle one.
    e.selectRow(1);
    click(e, "faultRemove");
    QVERIFY((e.faults() == std::vector<FaultConfig>{b, freeze}));
    QVERIFY(e.problem().isEmpty());
    QVERIFY(changed.count() >= 10);

    auto* model = e.model();
    QCOMPARE(model->data(model->index(0, FaultTableModel::kParams)).toString(), QString("×4"));
    QCOMPARE(model->data(model->index(1, FaultTableModel::kAt)).toString(), QString("iteration"));
    QCOMPARE(model->data(model->index(1, FaultTableModel::kWhen)).toString(), QString("200"));
    QCOMPARE(model->data(model->index(1, FaultTableModel::kDevice)).toString(), QString("dev2"));
    QCOMPARE(model->data(model->index(1, FaultTableModel::kParams)).toString(),
             QString("for 7.5 s"));
  }

  void setFaultsSortsByWhen() {
    FaultTimelineEditor e;
    e.setDevices({"a", "b"});
    FaultConfig it = fault(0, 1, "crash");
    it.at_iteration = 50;
    const FaultConfig late = fault(20, 0, "clear");
    const FaultConfig early = fault(2, 1, "slowdown");
    const FaultConfig early_too = fault(2, 0, "crash");
    e.setFaults({it, late, early, early_too});
    QVERIFY((e.faults() == std::vector<FaultConfig>{early, early_too, late, it}));
    QCOMPARE(e.model()->rowCount(), 4);
  }

  void badRowsAreNamed() {
    FaultTimelineEditor e;
    e.setDevices({"dev0", "dev1"});
    FaultConfig slow = fault(1, 0, "slowdown");
    slow.slowdown = 0.5;
    FaultConfig gone = fault(2, 5, "crash");
    FaultConfig drop = fault(3, 1, "link");
    drop.drop_probability = 1.0;
    FaultConfig freeze = fault(4, 1, "freeze");  // freeze_s 0
    const FaultConfig good = fault(0.5, 1, "clear");
    e.setFaults({slow, gone, drop, freeze, good});
    const auto& p = e.model()->problems();
    QCOMPARE(p.size(), size_t{5});
    QVERIFY(p[0].isEmpty());  // good, sorted first
    QVERIFY2(p[1].startsWith("field faults.1.slowdown:"), qPrintable(p[1]));
    QVERIFY2(p[2].startsWith("field faults.2.device:"), qPrintable(p[2]));
    QVERIFY2(p[3].startsWith("field faults.3.dropProbability:"), qPrintable(p[3]));
    QVERIFY2(p[4].startsWith("field faults.4.freezeS:"), qPrintable(p[4]));
    auto* message = child<QLabel>(e, "faultValidation");
    QCOMPARE(message->text(), p[1]);
    QCOMPARE(e.problem(), p[1]);
    QVERIFY(e.model()->data(e.model()->index(1, 0), Qt::ToolTipRole).toString() == p[1]);
    QVERIFY(e.model()->data(e.model()->index(1, 0), Qt::BackgroundRole).isValid());

    // The same names as validateExperiment on the whole experiment.
    edgerig::ExperimentConfig c;
    c.local_count = 2;
    c.faults = e.faults();
    const auto s = edgerig::validateExperiment(c, edgerig::knownNames());
    QCOMPARE(QString::fromStdString(s.message()), p[1]);

    // Fixing a row through its editor clears its message; removing renumbers the rest.
    e.selectRow(1);
    child<QDoubleSpinBox>(e, "faultSlowdownEdit")->setValue(2);
    QVERIFY(e.model()->problems()[1].isEmpty());
    QVERIFY(message->text().startsWith("field faults.2.device:"));
    e.selectRow(2);
    click(e, "faultRemove");
    QVERIFY(message->text().startsWith("field faults.2.dropProbability:"));
    // Device names change the lanes, not the faults.
    e.setDevices({"a", "b", "c", "d", "e", "f"});
    QVERIFY(message->text().startsWith("field faults.2.dropProbability:"));
    QCOMPARE(e.faults().size(), size_t{4});
  }

  void noDevicesIsNamed() {
    FaultTimelineEditor e;
    e.setFaults({fault(1, 0, "crash")});
    QVERIFY(e.problem().startsWith("field faults.0.device:"));
    e.setDevices({"dev0"});
    QVERIFY(e.problem().isEmpty());
  }

  void stripPlacesMarksByLaneAndTime() {
    FaultTimelineEditor e;
    e.resize(640, 480);
    e.setDevices({"dev0", "dev1", "dev2"});
    FaultConfig it = fault(0, 2, "freeze");
    it.at_iteration = 100;
    it.freeze_s = 3;
    e.setFaults({fault(10, 0, "crash"), fault(20, 1, "clear"), it});
    e.show();
    QVERIFY(QTest::qWaitForWindowExposed(&e));
    auto* strip = child<FaultTimelineStrip>(e, "faultTimelineStrip");
    const QPointF a = strip->markPosition(0), b = strip->markPosition(1),
                  c = strip->markPosition(2);
    QVERIFY(a.x() >= 0 && b.x() >= 0 && c.x() >= 0);
    QVERIFY(a.x() < b.x());                   // later in time, further right
    QVERIFY(a.y() < b.y() && b.y() < c.y());  // one lane per device, in order
    QSignalSpy clicked(strip, &FaultTimelineStrip::rowClicked);
    QTest::mouseClick(strip, Qt::LeftButton, {}, b.toPoint());
    QCOMPARE(clicked.count(), 1);
    QCOMPARE(e.currentRow(), 1);
  }

  void stripLegendWrapsInANarrowDock() {
    // The Faults dock is ~400 px wide: the kinds' legend wraps instead of running off, and
    // the strip grows to hold it, lanes keeping their room.
    FaultTimelineEditor e;
    e.setDevices({"dev0", "dev1", "dev2"});
    e.resize(900, 600);
    e.show();
    QVERIFY(QTest::qWaitForWindowExposed(&e));
    auto* strip = child<FaultTimelineStrip>(e, "faultTimelineStrip");
    const auto wide = strip->kindLegend(strip->width());
    QCOMPARE(wide.size(), edgerig::kFaultKinds.size());
    QCOMPARE(wide.front().top(), wide.back().top());  // one line when there is room
    const int wide_h = strip->height();

    e.resize(280, 600);
    QTRY_VERIFY(strip->width() <= 280);
    const auto narrow = strip->kindLegend(strip->width());
    for (const QRectF& r : narrow) QVERIFY(r.right() <= strip->width());
    QVERIFY(narrow.back().top() > narrow.front().top());  // wrapped
    QTRY_VERIFY(strip->height() > wide_h);
  }
};

QTEST_MAIN(TstFaultTimeline)
#include "tst_fault_timeline.moc"
