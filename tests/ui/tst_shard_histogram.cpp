// The Data shards view: one row per device with its class counts on one common scale, names
// from the device list or the run folder, the skew figure, and tooltips naming class and count.
#include <QtTest>

#include "ui/shard_histogram.h"

using edgerig::DeviceStatus;
using edgerig::ShardInfo;
using edgerig::ShardRecord;
using edgerig::ui::ShardHistogram;

class TstShardHistogram : public QObject {
  Q_OBJECT

 private slots:
  void rowsAreDevicesOnOneScale() {
    ShardHistogram h;
    h.resize(600, 200);
    QCOMPARE(h.rowCount(), 0);
    DeviceStatus a, b;
    a.index = 0;
    a.name = "pi";
    b.index = 1;
    b.name = "jetson";
    h.setDevices({a, b});
    // Device 1 first: rows come out in device order anyway.
    h.setShards({ShardInfo{1, {0, 0, 400, 0, 0, 0, 0, 0, 0, 100}},
                 ShardInfo{0, {100, 100, 100, 100, 100, 100, 100, 100, 100, 100}}});
    QCOMPARE(h.rowCount(), 2);
    QCOMPARE(h.rowName(0), QStringLiteral("pi"));
    QCOMPARE(h.rowName(1), QStringLiteral("jetson"));
    QCOMPARE(h.topClassShare(0), 0.1);
    QCOMPARE(h.topClassShare(1), 0.8);
    // One scale for all rows: 400 is four times as tall as 100, wherever it is.
    const int tall = h.barRect(1, 2).height();
    const int short_one = h.barRect(0, 2).height();
    QVERIFY(tall > 0 && short_one > 0);
    QVERIFY2(std::abs(tall - 4 * short_one) <= 4,
             qPrintable(QString("%1 vs %2").arg(tall).arg(short_one)));
    QCOMPARE(h.barRect(1, 0).height(), 0);  // an absent class has no bar
    // Bars sit side by side within the row, left to right by class.
    QVERIFY(h.barRect(0, 0).right() < h.barRect(0, 1).left());
    // A rename reaches the rows.
    a.name = "pi-renamed";
    h.setDevices({a});
    QCOMPARE(h.rowName(0), QStringLiteral("pi-renamed"));
  }

  void aReplayedFolderNamesItsDevices() {
    ShardHistogram h;
    std::vector<ShardRecord> records;
    for (int c = 0; c < 10; ++c) records.push_back({"dev3", c, c == 4 ? 90 : 1});
    records.push_back({"dev5", 7, 12});
    h.setShardRecords(records);
    QCOMPARE(h.rowCount(), 2);
    QCOMPARE(h.rowName(0), QStringLiteral("dev3"));
    QCOMPARE(h.rowCounts(0)[4], int64_t{90});
    QCOMPARE(h.rowCounts(1).size(), size_t{8});  // classes up to the last one recorded
    QCOMPARE(h.topClassShare(1), 1.0);
    h.clear();
    QCOMPARE(h.rowCount(), 0);
  }
};

QTEST_MAIN(TstShardHistogram)
#include "tst_shard_histogram.moc"
