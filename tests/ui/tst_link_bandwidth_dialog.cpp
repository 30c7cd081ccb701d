// The Link bandwidth dialog: the last probe of a run folder's links.csv as a matrix (device order
// of first appearance, an earlier probe's values not mixed in), each cell's rate as text and a
// slow link red beside green fast ones; and the main window filling it from a replayed run folder
// with links.csv, and leaving it empty for one without (older folders still open).
#include <QTemporaryDir>
#include <QtTest>

#include "core/runlog/run_log.h"
#include "ui/link_bandwidth_dialog.h"
#include "ui/main_window.h"

using edgerig::LinkBandwidthRecord;
using edgerig::ui::LinkBandwidthDialog;

namespace {

constexpr double kMbit = 1e6 / 8;

// Two probes of three devices: in the second, dev2's links are capped at 50 Mbit/s.
std::vector<LinkBandwidthRecord> twoProbes() {
  std::vector<LinkBandwidthRecord> r;
  const char* names[] = {"dev0", "dev1", "dev2"};
  for (int probe = 0; probe < 2; ++probe) {
    for (int a = 0; a < 3; ++a) {
      for (int b = 0; b < 3; ++b) {
        if (a == b) continue;
        if (probe == 1 && a == 1 && b == 0) continue;  // not measured the second time
        const double v = probe == 1 && a == 2 ? 50 * kMbit : 8000 * kMbit;
        r.push_back({probe == 0 ? 0.5 : 9.25, probe == 0 ? 0 : 12, names[a], names[b], v});
      }
    }
  }
  r.push_back({9.25, 12, "dev0", "dev1", 0});  // a failed burst: unmeasured
  return r;
}

}  // namespace

class TstLinkBandwidthDialog : public QObject {
  Q_OBJECT

 private slots:
  void lastProbeIsTheLatestRowSet() {
    const auto info = LinkBandwidthDialog::lastProbe(twoProbes());
    QCOMPARE(info.devices.size(), size_t{3});
    QCOMPARE(info.devices[2], std::string("dev2"));
    QCOMPARE(info.time_s, 9.25);
    QCOMPARE(info.iteration, int64_t{12});
    QCOMPARE(info.bytes_per_s[2][0], 50 * kMbit);
    QCOMPARE(info.bytes_per_s[1][2], 8000 * kMbit);
    QCOMPARE(info.bytes_per_s[0][1], 0.0);
    QCOMPARE(info.bytes_per_s[1][0], 0.0);  // the first probe's value is not carried over
    QVERIFY(LinkBandwidthDialog::lastProbe({}).devices.empty());
  }

  void cellsShowRatesAndTheSlowLinkIsRed() {
    LinkBandwidthDialog d;
    d.setBandwidth(LinkBandwidthDialog::lastProbe(twoProbes()));
    QCOMPARE(d.deviceCount(), 3);
    QCOMPARE(d.cellText(2, 0), QStringLiteral("50.0 Mbit/s"));
    QCOMPARE(d.cellText(1, 2), QStringLiteral("8.0 Gbit/s"));
    QCOMPARE(d.cellText(0, 1), QStringLiteral("?"));
    QCOMPARE(d.cellText(1, 1), QStringLiteral("—"));
    const QColor slow = d.cellColor(2, 1), fast = d.cellColor(0, 2);
    QVERIFY2(slow.hueF() < 0.05f, qPrintable(QString::number(slow.hueF())));  // red
    QVERIFY2(fast.hueF() > 0.3f, qPrintable(QString::number(fast.hueF())));   // green
    d.clear();
    QCOMPARE(d.deviceCount(), 0);
  }

  void mainWindowShowsTheReplayedRunsLinks() {
    QTemporaryDir root;
    const std::string with = root.filePath("with").toStdString();
    const std::string without = root.filePath("without").toStdString();
    for (const auto& dir : {with, without}) {
      auto log = edgerig::RunLog::create(dir, "{}");
      QVERIFY(log.isOk());
      (*log)->append(edgerig::MetricSample{1, 1, "", "train_loss", 1.0});
      if (dir == with) (*log)->append(twoProbes());
    }
    edgerig::ui::MainWindow w;
    QVERIFY(w.openRun(QString::fromStdString(with)).isOk());
    w.showLinkBandwidth();
    QCOMPARE(w.linkBandwidth()->deviceCount(), 3);
    QCOMPARE(w.linkBandwidth()->cellText(2, 1), QStringLiteral("50.0 Mbit/s"));
    const auto st = w.openRun(QString::fromStdString(without));
    QVERIFY2(st.isOk(), st.message().c_str());
    QCOMPARE(w.linkBandwidth()->deviceCount(), 0);
  }
};

QTEST_MAIN(TstLinkBandwidthDialog)
#include "tst_link_bandwidth_dialog.moc"
