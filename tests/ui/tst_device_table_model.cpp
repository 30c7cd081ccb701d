// The Devices table fed a scripted stream of device pictures: rows, formatting, state colours,
// merge by index, and a lost device that stays, marked, until removed.
#include <QFont>
#include <QSignalSpy>
#include <QtTest>

#include "ui/device_table_model.h"
#include "ui/palette.h"

using edgerig::DeviceState;
using edgerig::DeviceStatus;
using edgerig::ui::DeviceTableModel;

namespace {

DeviceStatus device(int index, DeviceState state, double samples_per_s = 0) {
  DeviceStatus d;
  d.index = index;
  d.name = "dev" + std::to_string(index);
  d.address = "127.0.0.1:" + std::to_string(4000 + index);
  d.local = true;
  d.cores = 2;
  d.state = state;
  d.samples_per_s = samples_per_s;
  return d;
}

}  // namespace

class TstDeviceTableModel : public QObject {
  Q_OBJECT

 private slots:
  void insertsOneRowPerNewDeviceInIndexOrder() {
    DeviceTableModel m;
    QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);
    m.updateDevices({device(1, DeviceState::kReady), device(0, DeviceState::kReady)});
    QCOMPARE(m.rowCount(), 2);
    QCOMPARE(inserted.count(), 2);
    QCOMPARE(m.data(m.index(0, DeviceTableModel::kName)).toString(), QString("dev0"));
    QCOMPARE(m.data(m.index(1, DeviceTableModel::kName)).toString(), QString("dev1"));
    QCOMPARE(m.data(m.index(1, DeviceTableModel::kAddress)).toString(), QString("127.0.0.1:4001"));
    // A second picture of the same devices updates in place.
    m.updateDevices(
        {device(0, DeviceState::kTraining, 120), device(1, DeviceState::kTraining, 80)});
    QCOMPARE(m.rowCount(), 2);
    QCOMPARE(inserted.count(), 2);
    QCOMPARE(
        m.data(m.index(0, DeviceTableModel::kSamplesPerS), DeviceTableModel::kRawRole).toDouble(),
        120.0);
    QCOMPARE(m.data(m.index(0, DeviceTableModel::kState)).toString(), QString("training"));
  }

  void signalsOnlyRowsThatChanged() {
    DeviceTableModel m;
    m.updateDevices({device(0, DeviceState::kTraining, 10), device(1, DeviceState::kTraining, 10)});
    QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
    m.updateDevices({device(0, DeviceState::kTraining, 10), device(1, DeviceState::kSlow, 3)});
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.first().at(0).value<QModelIndex>().row(), 1);
  }

  void coloursTheStateCell() {
    DeviceTableModel m;
    m.updateDevices({device(0, DeviceState::kTraining), device(1, DeviceState::kSlow),
                     device(2, DeviceState::kFrozen)});
    for (int row = 0; row < 3; ++row) {
      const auto state = m.devices()[static_cast<size_t>(row)].state;
      const auto brush =
          m.data(m.index(row, DeviceTableModel::kState), Qt::BackgroundRole).value<QBrush>();
      QCOMPARE(brush.color(), edgerig::ui::stateColor(state));
    }
    QVERIFY(edgerig::ui::stateColor(DeviceState::kTraining) !=
            edgerig::ui::stateColor(DeviceState::kSlow));
    QCOMPARE(m.data(m.index(1, DeviceTableModel::kState)).toString(), QString("slow"));
  }

  void lostDeviceStaysMarkedUntilRemoved() {
    DeviceTableModel m;
    m.updateDevices({device(0, DeviceState::kTraining, 50), device(1, DeviceState::kTraining, 50)});
    m.markLost("dev1");
    // Later pictures without the device, or with a stale state, do not revive it.
    m.updateDevices({device(0, DeviceState::kTraining, 60)});
    m.updateDevices({device(1, DeviceState::kTraining, 70)});
    QCOMPARE(m.rowCount(), 2);
    const QModelIndex state = m.index(1, DeviceTableModel::kState);
    QCOMPARE(m.data(state).toString(), QString("lost"));
    QCOMPARE(m.data(state, Qt::BackgroundRole).value<QBrush>().color(),
             edgerig::ui::stateColor(DeviceState::kLost));
    QVERIFY(m.data(m.index(1, DeviceTableModel::kName), Qt::FontRole).value<QFont>().strikeOut());
    QCOMPARE(m.data(m.index(1, DeviceTableModel::kSamplesPerS)).toString(), QString("—"));
    QVERIFY(!m.data(m.index(0, DeviceTableModel::kName), Qt::FontRole).value<QFont>().strikeOut());
    m.removeLost();
    QCOMPARE(m.rowCount(), 1);
    QCOMPARE(m.data(m.index(0, DeviceTableModel::kName)).toString(), QString("dev0"));
  }

  void stageColumnNamesTheLayers() {
    DeviceTableModel m;
    std::vector<edgerig::LayerInfo> layers(4);
    for (int i = 0; i < 4; ++i) layers[static_cast<size_t>(i)].name = "fc" + std::to_string(i);
    auto d = device(0, DeviceState::kTraining);
    d.stage = 1;
    d.first_layer = 2;
    d.last_layer = 4;  // exclusive
    m.updateDevices({d});
    QCOMPARE(m.data(m.index(0, DeviceTableModel::kStage)).toString(), QString("1: 2–3"));
    m.setLayers(layers);
    QCOMPARE(m.data(m.index(0, DeviceTableModel::kStage)).toString(), QString("1: fc2–fc3"));
  }

  void formatsRates() {
    DeviceTableModel m;
    auto d = device(0, DeviceState::kTraining);
    d.bytes_out_per_s = 2.5e6;
    d.bytes_in_per_s = 512;
    d.rtt_ms = 0.42;
    m.updateDevices({d});
    QCOMPARE(m.data(m.index(0, DeviceTableModel::kBytesOutPerS)).toString(), QString("2.50 MB/s"));
    QCOMPARE(m.data(m.index(0, DeviceTableModel::kBytesInPerS)).toString(), QString("512 B/s"));
    QCOMPARE(m.data(m.index(0, DeviceTableModel::kRtt)).toString(), QString("0.4"));
  }

  void localBatchIsTheNewestMetricOrADash() {
    DeviceTableModel m;
    m.updateDevices({device(0, DeviceState::kTraining), device(1, DeviceState::kTraining)});
    const QModelIndex cell0 = m.index(0, DeviceTableModel::kLocalBatch);
    const QModelIndex cell1 = m.index(1, DeviceTableModel::kLocalBatch);
    QCOMPARE(m.headerData(DeviceTableModel::kLocalBatch, Qt::Horizontal).toString(),
             QString("Local batch"));
    // A run without local batches (dpsgd's metrics): nothing to show.
    m.addMetrics({{1.0, 3, "dev0", "samples_per_s", 900}, {1.0, 3, "", "train_loss", 2.1}});
    QVERIFY(!m.hasLocalBatch());
    QCOMPARE(m.data(cell0).toString(), QString("—"));
    // edgegossip's rows as the controller sends them: per device, the newest of a burst wins.
    QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
    m.addMetrics({{2.0, 4, "dev0", "local_batch", 32},
                  {2.0, 4, "", "exchange_period", 1},
                  {2.1, 5, "dev0", "local_batch", 47},
                  {2.1, 5, "dev0", "iteration_time", 0.03}});
    QVERIFY(m.hasLocalBatch());
    QCOMPARE(changed.count(), 1);
    QCOMPARE(m.data(cell0).toString(), QString("47"));
    QCOMPARE(m.data(cell0, DeviceTableModel::kRawRole).toDouble(), 47.0);
    QCOMPARE(m.data(cell1).toString(), QString("—"));  // dev1 reported none yet
    QVERIFY(!m.data(cell1, DeviceTableModel::kRawRole).isValid());
    m.addMetrics({{2.1, 5, "dev0", "local_batch", 47}});
    QCOMPARE(changed.count(), 1);  // an unchanged batch repaints nothing
    m.markLost("dev0");
    QCOMPARE(m.data(cell0).toString(), QString("—"));
    m.clear();
    QVERIFY(!m.hasLocalBatch());
  }
};

QTEST_MAIN(TstDeviceTableModel)
#include "tst_device_table_model.moc"
