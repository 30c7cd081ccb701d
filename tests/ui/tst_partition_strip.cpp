// The partition strip: layers from the model zoo, coloured by the device holding them, cut
// points where the device changes, widths by parameters, a tooltip per layer; it follows a
// new plan.
#include <QtTest>

#include "core/model/layer_info.h"
#include "ui/palette.h"
#include "ui/partition_strip.h"

using edgerig::DeviceState;
using edgerig::DeviceStatus;
using edgerig::ui::PartitionStrip;

namespace {

DeviceStatus holding(int index, int stage, int first, int last) {
  DeviceStatus d;
  d.index = index;
  d.name = "dev";
  d.name += std::to_string(index);  // not "dev" + ...: GCC 12 -Wrestrict false positive
  d.state = DeviceState::kTraining;
  d.stage = stage;
  d.first_layer = first;
  d.last_layer = last;
  return d;
}

}  // namespace

class TstPartitionStrip : public QObject {
  Q_OBJECT

 private slots:
  void colorsLayersByDeviceAndMarksCuts() {
    auto layers = edgerig::describeModel("cnn");
    QVERIFY2(layers.isOk(), layers.status().message().c_str());
    const int n = static_cast<int>(layers->size());
    QVERIFY(n >= 4);
    PartitionStrip strip;
    strip.resize(800, 70);
    strip.setLayers(*layers);
    QCOMPARE(strip.layerCount(), n);
    QCOMPARE(strip.deviceOf(0), -1);
    const int cut = n / 2;
    strip.setDevices({holding(0, 0, 0, cut), holding(1, 1, cut, n)});
    QCOMPARE(strip.cuts(), std::vector<int>{cut});
    QCOMPARE(strip.deviceOf(0), 0);
    QCOMPARE(strip.deviceOf(n - 1), 1);
    QCOMPARE(strip.layerColor(0), edgerig::ui::deviceColor(0));
    QCOMPARE(strip.layerColor(n - 1), edgerig::ui::deviceColor(1));

    // Rectangles tile the strip left to right; the centre of each finds its layer.
    for (int l = 0; l < n; ++l) {
      const QRect r = strip.layerRect(l);
      QVERIFY(r.width() > 0);
      if (l > 0) QCOMPARE(r.left(), strip.layerRect(l - 1).right() + 1);
      QCOMPARE(strip.layerAt(r.center()), l);
    }
    QCOMPARE(strip.layerAt(QPoint(1, 1)), -1);

    // The layer with the most parameters is drawn widest.
    int widest = 0, most = 0;
    for (int l = 0; l < n; ++l) {
      if (strip.layerRect(l).width() > strip.layerRect(widest).width()) widest = l;
      if ((*layers)[l].parameters > (*layers)[most].parameters) most = l;
    }
    QCOMPARE(widest, most);

    const QString tip = strip.layerToolTip(n - 1);
    QVERIFY(tip.contains(QString::fromStdString(layers->back().name)));
    QVERIFY(tip.contains(QString::number(layers->back().parameters)));
    QVERIFY(tip.contains("dev1"));
    QVERIFY(!strip.grab().isNull());  // paints without a display
  }

  void followsANewPlan() {
    std::vector<edgerig::LayerInfo> layers;
    for (const char* name : {"l0", "l1", "l2", "l3", "l4", "l5"}) {
      edgerig::LayerInfo l;
      l.name = name;
      l.parameters = 100;
      layers.push_back(l);
    }
    PartitionStrip strip;
    strip.resize(600, 70);
    strip.setLayers(layers);
    strip.setDevices({holding(0, 0, 0, 2), holding(1, 1, 2, 4), holding(2, 2, 4, 6)});
    QCOMPARE(strip.cuts(), (std::vector<int>{2, 4}));
    // Device 2 is lost and the plan moves its layers to device 1.
    auto lost = holding(2, -1, 0, 0);
    lost.state = DeviceState::kLost;
    strip.setDevices({holding(0, 0, 0, 3), holding(1, 1, 3, 6), lost});
    QCOMPARE(strip.cuts(), std::vector<int>{3});
    QCOMPARE(strip.deviceOf(5), 1);
    QCOMPARE(strip.deviceOf(2), 0);
    // Equal parameters: equal widths (to a pixel of rounding).
    QVERIFY(std::abs(strip.layerRect(0).width() - strip.layerRect(5).width()) <= 1);
  }
};

QTEST_MAIN(TstPartitionStrip)
#include "tst_partition_strip.moc"
