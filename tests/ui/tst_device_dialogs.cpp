// The device dialogs: each slowdown preset yields exactly its profiles, table edits switch to
// custom, and the connect dialog accepts only addresses validateExperiment would accept.
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QtTest>

#include "core/catalog/catalog.h"
#include "core/controller/controller.h"
#include "ui/device_dialogs.h"
#include "ui_test_util.h"

using edgerig::DeviceProfileConfig;
using edgerig::ExperimentConfig;
using edgerig::ui::ConnectDevicesDialog;
using edgerig::ui::LocalTestbedDialog;

using edgerig::ui::test::child;

namespace {

std::vector<double> slowdowns(const std::vector<DeviceProfileConfig>& p) {
  std::vector<double> out;
  for (const auto& d : p) out.push_back(d.slowdown);
  return out;
}

// Only the slowdown differs from a native device in a preset.
bool onlySlowdowns(const std::vector<DeviceProfileConfig>& p) {
  for (auto d : p) {
    d.slowdown = 1;
    if (!(d == DeviceProfileConfig{})) return false;
  }
  return true;
}

bool okEnabled(ConnectDevicesDialog& d) {
  return child<QDialogButtonBox>(d, "buttons")->button(QDialogButtonBox::Ok)->isEnabled();
}

}  // namespace

class TstDeviceDialogs : public QObject {
  Q_OBJECT

 private slots:
  void presetsGiveExactProfiles() {
    LocalTestbedDialog d;
    d.setCount(4);
    d.setPreset("1:10");
    QCOMPARE(d.profiles().size(), size_t{4});
    QCOMPARE(slowdowns(d.profiles()), (std::vector<double>{1, 1, 1, 10}));
    QVERIFY(onlySlowdowns(d.profiles()));

    d.setCount(2);  // FTPipeHD's [1, 10]
    QCOMPARE(slowdowns(d.profiles()), (std::vector<double>{1, 10}));

    d.setPreset("1:2:4:8");
    d.setCount(6);
    QCOMPARE(d.count(), 6);
    QCOMPARE(slowdowns(d.profiles()), (std::vector<double>{1, 2, 4, 8, 1, 2}));
    QVERIFY(onlySlowdowns(d.profiles()));

    d.setPreset("uniform");
    QCOMPARE(slowdowns(d.profiles()), (std::vector<double>(6, 1.0)));
    QVERIFY(onlySlowdowns(d.profiles()));
  }

  void applyToDropsDefaultTailProfiles() {
    ExperimentConfig c;
    LocalTestbedDialog::applyTo(c, 5, edgerig::ui::presetProfiles("uniform", 5));
    QCOMPARE(c.local_count, 5);
    QVERIFY(c.profiles.empty());
    LocalTestbedDialog::applyTo(c, 4, edgerig::ui::presetProfiles("1:10", 4));
    QCOMPARE(c.local_count, 4);
    QCOMPARE(slowdowns(c.profiles), (std::vector<double>{1, 1, 1, 10}));
    LocalTestbedDialog::applyTo(c, 6, edgerig::ui::presetProfiles("1:2:4:8", 6));
    QCOMPARE(slowdowns(c.profiles), (std::vector<double>{1, 2, 4, 8, 1, 2}));
    LocalTestbedDialog::applyTo(c, 5, edgerig::ui::presetProfiles("1:2:4:8", 5));
    QCOMPARE(slowdowns(c.profiles), (std::vector<double>{1, 2, 4, 8}));  // device 4 is native
    QVERIFY(edgerig::validateExperiment(c, edgerig::knownNames()).isOk());
  }

  void editingTheTableSwitchesToCustom() {
    LocalTestbedDialog d;
    d.setCount(3);
    d.setPreset("1:10");
    auto* table = child<QTableWidget>(d, "profileTable");
    QCOMPARE(table->rowCount(), 3);
    table->item(0, 0)->setText("pi");                // name
    table->item(1, 2)->setData(Qt::EditRole, 25.0);  // delay ms
    table->item(1, 5)->setData(Qt::EditRole, 2.0);   // drop %
    QCOMPARE(d.preset(), QString("custom"));
    auto p = d.profiles();
    QCOMPARE(p.size(), size_t{3});
    QCOMPARE(p[0].name, std::string("pi"));
    QCOMPARE(p[1].delay_ms, 25.0);
    QCOMPARE(p[1].drop_probability, 0.02);
    QCOMPARE(p[2].slowdown, 10.0);

    d.setCount(4);  // custom keeps the edits and adds a native device
    p = d.profiles();
    QCOMPARE(p.size(), size_t{4});
    QCOMPARE(p[0].name, std::string("pi"));
    QVERIFY(p[3] == DeviceProfileConfig{});
  }

  void setConfigDetectsThePreset() {
    LocalTestbedDialog d;
    ExperimentConfig c;
    c.local_count = 4;
    c.profiles = {{}, {}, {}, DeviceProfileConfig{"", 10}};
    d.setConfig(c);
    QCOMPARE(d.count(), 4);
    QCOMPARE(d.preset(), QString("1:10"));
    QCOMPARE(child<QComboBox>(d, "slowdownPreset")->currentText(), QString("1:10"));

    c.local_count = 6;
    c.profiles = {
        {}, DeviceProfileConfig{"", 2}, DeviceProfileConfig{"", 4}, DeviceProfileConfig{"", 8},
        {}, DeviceProfileConfig{"", 2}};
    d.setConfig(c);
    QCOMPARE(d.preset(), QString("1:2:4:8"));

    c.profiles = {DeviceProfileConfig{"jetson", 1, 5}};
    d.setConfig(c);
    QCOMPARE(d.preset(), QString("custom"));
    const auto p = d.profiles();
    QCOMPARE(p.size(), size_t{6});
    QVERIFY(p[0] == c.profiles[0]);

    c.local_count = 3;
    c.profiles.clear();
    d.setConfig(c);
    QCOMPARE(d.preset(), QString("uniform"));
    QCOMPARE(d.profiles().size(), size_t{3});
  }

  void connectRefusesBadAddresses() {
    ConnectDevicesDialog d;
    d.setTokenFile("/tmp/edgerig-token");
    auto* problem = child<QLabel>(d, "connectProblem");
    for (const char* bad : {"nohost", "h:0", "h:99999", ":7070", ""}) {
      d.setRemote({"127.0.0.1:7070", bad});
      QVERIFY2(!okEnabled(d), bad);
      QVERIFY2(problem->text().startsWith("Row 2: "), qPrintable(problem->text()));
      QVERIFY(!d.problem().isEmpty());
    }
    d.setRemote({"127.0.0.1:7070"});
    QVERIFY(okEnabled(d));
    QVERIFY(problem->text().isEmpty());
    d.setRemote({"127.0.0.1:7070", "[::1]:7001", "pi.local:7000"});
    QVERIFY(okEnabled(d));
  }

  void connectNeedsATokenFileForAddresses() {
    ConnectDevicesDialog d;
    QVERIFY(okEnabled(d));  // nothing listed, nothing to authenticate
    d.setRemote({"127.0.0.1:7070"});
    QVERIFY(!okEnabled(d));
    QVERIFY(d.problem().contains("token file"));
    child<QLineEdit>(d, "tokenFile")->setText("/tmp/edgerig-token");
    QVERIFY(okEnabled(d));
  }

  void connectAddAndRemoveRows() {
    ConnectDevicesDialog d;
    d.setTokenFile("/tmp/t");
    QTest::mouseClick(child<QPushButton>(d, "addAddress"), Qt::LeftButton);
    QCOMPARE(d.remote().size(), size_t{1});
    QVERIFY(!okEnabled(d));  // an empty row is not an address
    QTest::mouseClick(child<QPushButton>(d, "removeAddress"), Qt::LeftButton);
    QVERIFY(d.remote().empty());
    QVERIFY(okEnabled(d));
  }

  void connectApplyTo() {
    ConnectDevicesDialog d;
    ExperimentConfig c;
    c.local_count = 3;
    c.profiles = {DeviceProfileConfig{"", 2}};
    d.setConfig(c);
    QVERIFY(!d.keepLocal());
    d.setRemote({"10.0.0.2:7000", "10.0.0.3:7000"});
    d.setTokenFile("/etc/edgerig/token");
    ExperimentConfig out = c;
    d.applyTo(out);
    QCOMPARE(out.remote, (std::vector<std::string>{"10.0.0.2:7000", "10.0.0.3:7000"}));
    QCOMPARE(out.token_file, std::string("/etc/edgerig/token"));
    QCOMPARE(out.local_count, 0);
    QVERIFY(out.profiles.empty());
    QVERIFY(edgerig::validateExperiment(out, edgerig::knownNames()).isOk());

    child<QCheckBox>(d, "keepLocal")->setChecked(true);
    out = c;
    d.applyTo(out);
    QCOMPARE(out.local_count, 3);
    QCOMPARE(out.numDevices(), 5);
    QCOMPARE(edgerig::ui::devicesSummary(out), QString("3 local (custom profiles), 2 remote"));
    QCOMPARE(edgerig::ui::experimentDeviceNames(out),
             (std::vector<std::string>{"dev0", "dev1", "dev2", "10.0.0.2:7000", "10.0.0.3:7000"}));
  }
};

QTEST_MAIN(TstDeviceDialogs)
#include "tst_device_dialogs.moc"
