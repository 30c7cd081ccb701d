// The fault panel emits exactly the fault chosen, once per ticked device, and only during a run.
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QtTest>

#include "ui/fault_panel.h"
#include "ui_test_util.h"

using edgerig::DeviceState;
using edgerig::DeviceStatus;
using edgerig::FaultConfig;
using edgerig::ui::FaultPanel;

using edgerig::ui::test::child;

namespace {

std::vector<DeviceStatus> devices(int n, DeviceState state = DeviceState::kTraining) {
  std::vector<DeviceStatus> out;
  for (int i = 0; i < n; ++i) {
    DeviceStatus d;
    d.index = i;
    d.name = "dev" + std::to_string(i);
    d.state = state;
    out.push_back(d);
  }
  return out;
}

void chooseKind(FaultPanel& p, const QString& kind) {
  auto* box = child<QComboBox>(p, "faultKind");
  box->setCurrentIndex(box->findData(kind));
  QCOMPARE(box->currentData().toString(), kind);
}

std::vector<FaultConfig> emitted(const QSignalSpy& spy) {
  std::vector<FaultConfig> out;
  for (const auto& args : spy) out.push_back(args.at(0).value<FaultConfig>());
  return out;
}

}  // namespace

class TstFaultPanel : public QObject {
  Q_OBJECT

 private slots:
  void linkFaultOnTwoDevices() {
    FaultPanel p;
    p.setDevices(devices(3));
    p.setRunActive(true);
    QSignalSpy spy(&p, &FaultPanel::faultRequested);
    chooseKind(p, "link");
    child<QDoubleSpinBox>(p, "faultDelayMs")->setValue(35);
    child<QDoubleSpinBox>(p, "faultJitterMs")->setValue(5);
    child<QDoubleSpinBox>(p, "faultBandwidthMbps")->setValue(100);
    child<QDoubleSpinBox>(p, "faultDropPercent")->setValue(2.5);
    child<QDoubleSpinBox>(p, "faultSlowdown")->setValue(9);  // another kind's: not sent
    p.setDeviceChecked(0, true);
    p.setDeviceChecked(2, true);
    auto* apply = child<QPushButton>(p, "faultApply");
    QVERIFY(apply->isEnabled());
    QTest::mouseClick(apply, Qt::LeftButton);
    FaultConfig want;
    want.kind = "link";
    want.delay_ms = 35;
    want.jitter_ms = 5;
    want.bandwidth_mbps = 100;
    want.drop_probability = 0.025;
    auto got = emitted(spy);
    QCOMPARE(got.size(), size_t{2});
    want.device = 0;
    QVERIFY(got[0] == want);
    want.device = 2;
    QVERIFY(got[1] == want);
  }

  void warnsOfAFreezeLongEnoughToLoseTheDevice() {
    FaultPanel p;
    chooseKind(p, "freeze");
    auto* freeze = child<QDoubleSpinBox>(p, "faultFreezeS");
    auto* warning = child<QLabel>(p, "faultFreezeWarning");
    QCOMPARE(freeze->value(), 2.0);  // the default is a straggler, not a loss
    QVERIFY(warning->isHidden());
    freeze->setValue(5);
    QVERIFY(!warning->isHidden());
    QVERIFY2(warning->text().contains("lost") && warning->text().contains("3.5 s"),
             qPrintable(warning->text()));
    freeze->setValue(3);
    QVERIFY(warning->isHidden());
  }

  void slowdownFreezeCrashAndClear() {
    FaultPanel p;
    p.setDevices(devices(2));
    p.setRunActive(true);
    p.setDeviceChecked(1, true);
    QSignalSpy spy(&p, &FaultPanel::faultRequested);
    chooseKind(p, "slowdown");
    child<QDoubleSpinBox>(p, "faultSlowdown")->setValue(8);
    p.apply();
    chooseKind(p, "freeze");
    child<QDoubleSpinBox>(p, "faultFreezeS")->setValue(2.5);
    p.apply();
    chooseKind(p, "crash");
    p.apply();
    chooseKind(p, "clear");
    p.apply();
    chooseKind(p, "restart");
    p.apply();
    auto got = emitted(spy);
    QCOMPARE(got.size(), size_t{5});
    FaultConfig slow;
    slow.device = 1;
    slow.kind = "slowdown";
    slow.slowdown = 8;
    QVERIFY(got[0] == slow);
    FaultConfig freeze;
    freeze.device = 1;
    freeze.kind = "freeze";
    freeze.freeze_s = 2.5;
    QVERIFY(got[1] == freeze);
    FaultConfig crash;
    crash.device = 1;
    crash.kind = "crash";
    QVERIFY(got[2] == crash);
    FaultConfig clear;
    clear.device = 1;
    clear.kind = "clear";
    QVERIFY(got[3] == clear);
    FaultConfig restart;
    restart.device = 1;
    restart.kind = "restart";
    QVERIFY(got[4] == restart);
  }

  void applyNeedsARunAndADevice() {
    FaultPanel p;
    p.setDevices(devices(2));
    auto* apply = child<QPushButton>(p, "faultApply");
    p.setDeviceChecked(0, true);
    QVERIFY(!apply->isEnabled());  // no run
    p.setRunActive(true);
    QVERIFY(apply->isEnabled());
    p.setDeviceChecked(0, false);
    QVERIFY(!apply->isEnabled());  // no device
  }

  void checksSurviveDeviceUpdates() {
    FaultPanel p;
    p.setDevices(devices(2));
    p.setDeviceChecked(1, true);
    p.setDevices(devices(3, DeviceState::kSlow));
    QCOMPARE(child<QListWidget>(p, "faultDevices")->count(), 3);
    QCOMPARE(p.checkedDevices(), std::vector<int>{1});
    QVERIFY(child<QListWidget>(p, "faultDevices")->item(1)->text().contains("slow"));
  }
};

QTEST_MAIN(TstFaultPanel)
#include "tst_fault_panel.moc"
