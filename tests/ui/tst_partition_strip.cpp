// The partition strip: layers from the model zoo, coloured by the device holding them, cut
// points where the device changes, widths by parameters / compute time / activation bytes, a
// tooltip per layer; it follows a new plan; before a run its cuts can be dragged.
#include <QComboBox>
#include <QSignalSpy>
#include <QVariantAnimation>
#include <QtTest>

#include "core/model/layer_info.h"
#include "ui/palette.h"
#include "ui/partition_strip.h"

using edgerig::DeviceState;
using edgerig::DeviceStatus;
using edgerig::PlanInfo;
using edgerig::ui::PartitionStrip;
using WidthBy = edgerig::ui::PartitionStrip::WidthBy;

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

std::vector<edgerig::LayerInfo> equalLayers(int n) {
  std::vector<edgerig::LayerInfo> layers;
  for (int i = 0; i < n; ++i) {
    edgerig::LayerInfo l;
    l.name = "l";
    l.name += std::to_string(i);
    l.parameters = 100;
    l.activation_bytes = 1000;
    layers.push_back(l);
  }
  return layers;
}

// Press on the cut's boundary, move in steps to `to_x`, release.
void dragCut(PartitionStrip& strip, int from_x, int to_x) {
  const int y = strip.layerRect(0).center().y();
  QTest::mousePress(&strip, Qt::LeftButton, {}, QPoint(from_x, y));
  const int steps = 6;
  for (int i = 1; i <= steps; ++i) {
    QTest::mouseMove(&strip, QPoint(from_x + (to_x - from_x) * i / steps, y));
  }
  QTest::mouseRelease(&strip, Qt::LeftButton, {}, QPoint(to_x, y));
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

  void followsAPlanInfo() {
    PartitionStrip strip;
    strip.resize(600, 70);
    strip.setLayers(equalLayers(6));
    PlanInfo plan;
    plan.stage_first_layer = {0, 1, 4};
    plan.device_of_stage = {2, 0, 1};
    strip.setPlan(plan);
    QCOMPARE(strip.cuts(), (std::vector<int>{1, 4}));
    QCOMPARE(strip.deviceOf(0), 2);
    QCOMPARE(strip.deviceOf(3), 0);
    QCOMPARE(strip.deviceOf(5), 1);
    QCOMPARE(strip.layerColor(0), edgerig::ui::deviceColor(2));
    QVERIFY(!strip.hasLayerTimes());
  }

  // respipe: stage k keeps replicas of k+1 .. k+r. Each stage names the devices holding a replica
  // of it and has a band in the nearest one's colour; a shrunk plan (a take-over) follows.
  void showsWhichStagesHoldReplicasOfWhich() {
    PartitionStrip strip;
    strip.resize(600, 70);
    strip.setLayers(equalLayers(6));
    PlanInfo plan;
    plan.stage_first_layer = {0, 2, 4};
    plan.device_of_stage = {0, 1, 2};
    strip.setPlan(plan);
    QVERIFY(strip.replicaHoldersOf(1).empty());  // r = 0: no replicas
    const QPoint band_of_stage_2(strip.layerRect(5).center().x(), strip.layerRect(5).top() + 2);
    QCOMPARE(strip.grab().toImage().pixelColor(band_of_stage_2), edgerig::ui::deviceColor(2));
    strip.setStageReplicas(1);
    QVERIFY(strip.replicaHoldersOf(0).empty());
    QCOMPARE(strip.replicaHoldersOf(1), (std::vector<int>{0}));
    QCOMPARE(strip.replicaHoldersOf(2), (std::vector<int>{1}));
    const QImage image = strip.grab().toImage();
    QCOMPARE(image.pixelColor(band_of_stage_2).rgb(),
             edgerig::ui::deviceColor(1).darker(110).rgb());
    // Below the band the layer keeps its owner's colour; stage 0 has no band.
    const QPoint below(strip.layerRect(5).left() + 3, strip.layerRect(5).bottom() - 3);
    QCOMPARE(image.pixelColor(below).rgb(), edgerig::ui::deviceColor(2).rgb());
    QCOMPARE(image.pixelColor(strip.layerRect(0).center().x(), strip.layerRect(0).top() + 2).rgb(),
             edgerig::ui::deviceColor(0).rgb());
    strip.setStageReplicas(2);
    QCOMPARE(strip.replicaHoldersOf(2), (std::vector<int>{1, 0}));
    // dev0 took dev1's layers over: two stages left.
    plan.stage_first_layer = {0, 4};
    plan.device_of_stage = {0, 2};
    strip.setPlan(plan);
    QCOMPARE(strip.replicaHoldersOf(1), (std::vector<int>{0}));
    if (qEnvironmentVariableIsSet("EDGERIG_STRIP_SNAPSHOT"))
      strip.grab().save(qEnvironmentVariable("EDGERIG_STRIP_SNAPSHOT"));
  }

  // ftpipehd: stage k's replica lives on stage k+1, the last stage's on the controller; each
  // stage names where and how old, in iterations, from the run's metrics, with a band in the
  // holder's colour (grey: the controller). None on the stages after a restart: the global one.
  void namesWhereEachStagesReplicaLivesAndHowOld() {
    PartitionStrip strip;
    strip.resize(900, 70);
    strip.setLayers(equalLayers(6));
    PlanInfo plan;
    plan.algorithm = "ftpipehd";
    plan.stage_first_layer = {0, 2, 4};
    plan.device_of_stage = {0, 1, 2};
    strip.setPlan(plan);
    QCOMPARE(strip.successorReplicaText(0), QString());  // nothing reported: nothing said
    const auto metric = [](int64_t it, const char* name, double v) {
      return edgerig::MetricSample{0.1 * static_cast<double>(it), it, "", name, v};
    };
    strip.addMetrics(
        {metric(0, "neighbour_replica_iteration", -1), metric(0, "global_replica_iteration", 0)});
    QCOMPARE(strip.successorReplicaText(0), QString("replica on the controller, 0 it old"));
    strip.addMetrics({metric(40, "neighbour_replica_iteration", 40),
                      edgerig::MetricSample{5.3, 53, "dev0", "samples_per_s", 100}});
    QCOMPARE(strip.successorReplicaText(0), QString("replica on device 1, 13 it old"));
    QCOMPARE(strip.successorReplicaText(1), QString("replica on device 2, 13 it old"));
    QCOMPARE(strip.successorReplicaText(2), QString("replica on the controller, 13 it old"));
    const QImage image = strip.grab().toImage();
    const auto bandOf = [&](int layer) {
      return image.pixelColor(strip.layerRect(layer).center().x(), strip.layerRect(layer).top() + 2)
          .rgb();
    };
    QCOMPARE(bandOf(0), edgerig::ui::deviceColor(1).darker(110).rgb());
    QCOMPARE(bandOf(2), edgerig::ui::deviceColor(2).darker(110).rgb());
    QCOMPARE(bandOf(4), QColor(90, 90, 90).rgb());
    // A restart on a new plan: the stages hold none until the next replication.
    strip.addMetrics({metric(60, "neighbour_replica_iteration", -1)});
    QCOMPARE(strip.successorReplicaText(1), QString("replica on the controller, 60 it old"));
    // Another algorithm's plan (a switch) says nothing of replicas.
    plan.algorithm = "gpipe";
    strip.setPlan(plan);
    QCOMPARE(strip.successorReplicaText(0), QString());
    if (qEnvironmentVariableIsSet("EDGERIG_STRIP_SNAPSHOT"))
      strip.grab().save(qEnvironmentVariable("EDGERIG_STRIP_SNAPSHOT"));
  }

  // A re-plan that moves a cut slides it from the old boundary to the new one; the layers take
  // their new owner at once. A plan with another number of stages (a recovery) just shows.
  void aReplanSlidesTheCutToItsNewPlace() {
    PartitionStrip strip;
    strip.resize(600, 70);
    strip.setLayers(equalLayers(6));
    PlanInfo plan;
    plan.algorithm = "ftpipehd";
    plan.stage_first_layer = {0, 2};
    plan.device_of_stage = {0, 1};
    strip.setPlan(plan);
    QCOMPARE(strip.cutAnimation()->state(), QAbstractAnimation::Stopped);  // the first plan
    QCOMPARE(strip.drawnCutX(0), strip.boundaryX(2));
    plan.stage_first_layer = {0, 4};
    strip.setPlan(plan);
    QCOMPARE(strip.cutAnimation()->state(), QAbstractAnimation::Running);
    QCOMPARE(strip.deviceOf(3), 0);  // already the new owner's
    strip.cutAnimation()->pause();
    strip.cutAnimation()->setCurrentTime(0);
    QCOMPARE(strip.drawnCutX(0), strip.boundaryX(2));
    strip.cutAnimation()->setCurrentTime(PartitionStrip::kCutMoveMs / 2);
    QVERIFY(strip.drawnCutX(0) > strip.boundaryX(2) + 10);
    QVERIFY(strip.drawnCutX(0) < strip.boundaryX(4) - 10);
    // The bar is drawn where drawnCutX says, mid-way across layer 2 or 3.
    const QImage image = strip.grab().toImage();
    const int y = strip.layerRect(2).center().y();
    QCOMPARE(image.pixelColor(strip.drawnCutX(0), y).rgb(), QColor(30, 30, 30).rgb());
    strip.cutAnimation()->setCurrentTime(PartitionStrip::kCutMoveMs);
    QTRY_COMPARE(strip.drawnCutX(0), strip.boundaryX(4));
    strip.cutAnimation()->stop();
    // A recovery on fewer stages: no slide.
    plan.stage_first_layer = {0};
    plan.device_of_stage = {1};
    strip.setPlan(plan);
    QCOMPARE(strip.cutAnimation()->state(), QAbstractAnimation::Stopped);
  }

  void widthModes() {
    auto layers = edgerig::describeModel("cnn");
    QVERIFY2(layers.isOk(), layers.status().message().c_str());
    const int n = static_cast<int>(layers->size());
    int conv = -1, fc = -1, biggest_act = 0;
    for (int l = 0; l < n; ++l) {
      const auto& name = (*layers)[l].name;
      if (conv < 0 && name.rfind("conv", 0) == 0) conv = l;
      if (fc < 0 && name.rfind("fc", 0) == 0) fc = l;
      if ((*layers)[l].activation_bytes > (*layers)[biggest_act].activation_bytes) biggest_act = l;
    }
    QVERIFY(conv >= 0 && fc >= 0);
    PartitionStrip strip;
    strip.resize(900, 70);
    strip.setLayers(*layers);
    QSignalSpy changed(&strip, &PartitionStrip::widthByChanged);
    const int conv_by_params = strip.layerRect(conv).width();
    const int fc_by_params = strip.layerRect(fc).width();

    // Not profiled yet: compute time falls back to parameters and says so.
    strip.setWidthBy(WidthBy::kComputeTime);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(strip.effectiveWidthBy(), WidthBy::kParameters);
    QVERIFY(strip.widthLegend().contains("not profiled"));
    QVERIFY(strip.layerToolTip(conv).contains("not profiled"));
    QCOMPARE(strip.layerRect(conv).width(), conv_by_params);

    // Convolutions cost time out of proportion to their few parameters.
    std::vector<double> times(static_cast<size_t>(n), 0.0005);
    times[static_cast<size_t>(conv)] = 0.004;
    times[static_cast<size_t>(fc)] = 0.001;
    PlanInfo plan;
    plan.stage_first_layer = {0};
    plan.device_of_stage = {0};
    plan.layer_time_s = times;
    strip.setPlan(plan);
    QCOMPARE(strip.effectiveWidthBy(), WidthBy::kComputeTime);
    QCOMPARE(strip.widthLegend(), QStringLiteral("width by compute time"));
    QVERIFY(strip.layerRect(conv).width() > conv_by_params);
    QVERIFY(strip.layerRect(fc).width() < fc_by_params);
    QVERIFY(strip.layerRect(conv).width() > strip.layerRect(fc).width());
    QVERIFY(strip.layerToolTip(conv).contains("4.00 ms"));

    // By activation bytes the layer with the largest output is widest; fc layers shrink to the
    // floor but stay hoverable.
    strip.setWidthBy(WidthBy::kActivationBytes);
    int widest = 0;
    for (int l = 0; l < n; ++l) {
      QVERIFY(strip.layerRect(l).width() >= 10);
      QCOMPARE(strip.layerAt(strip.layerRect(l).center()), l);
      if (strip.layerRect(l).width() > strip.layerRect(widest).width()) widest = l;
    }
    QCOMPARE(widest, biggest_act);
    QVERIFY(strip.layerRect(fc).width() < fc_by_params);

    // The window's combo follows the strip and drives it.
    QComboBox* combo = strip.createWidthByCombo(nullptr);
    QCOMPARE(combo->objectName(), QStringLiteral("widthByCombo"));
    QCOMPARE(combo->currentData().toInt(), static_cast<int>(WidthBy::kActivationBytes));
    combo->setCurrentIndex(combo->findData(static_cast<int>(WidthBy::kParameters)));
    QCOMPARE(strip.widthBy(), WidthBy::kParameters);
    strip.setWidthBy(WidthBy::kComputeTime);
    QCOMPARE(combo->currentData().toInt(), static_cast<int>(WidthBy::kComputeTime));
    delete combo;
    QVERIFY(!strip.grab().isNull());
  }

  void dragsACut() {
    PartitionStrip strip;
    strip.resize(600, 70);
    strip.setLayers(equalLayers(6));
    strip.setCuts({2, 4});
    QSignalSpy edited(&strip, &PartitionStrip::cutsEdited);

    // Not editable: a drag changes nothing.
    dragCut(strip, strip.boundaryX(2), strip.boundaryX(3));
    QCOMPARE(edited.count(), 0);
    QCOMPARE(strip.proposedCuts(), (std::vector<int>{2, 4}));

    strip.setCutsEditable(true);
    dragCut(strip, strip.boundaryX(2), strip.boundaryX(3) + 3);
    QCOMPARE(edited.count(), 1);
    QCOMPARE(edited.last().at(0).value<std::vector<int>>(), (std::vector<int>{3, 4}));
    QCOMPARE(strip.proposedCuts(), (std::vector<int>{3, 4}));

    // Past its neighbour: it stops one layer short, no stage ever empties.
    dragCut(strip, strip.boundaryX(3), strip.width() - 2);
    QCOMPARE(edited.count(), 1);  // it could not move: no edit
    QCOMPARE(strip.proposedCuts(), (std::vector<int>{3, 4}));
    dragCut(strip, strip.boundaryX(4), strip.width() - 2);
    QCOMPARE(edited.last().at(0).value<std::vector<int>>(), (std::vector<int>{3, 5}));
    dragCut(strip, strip.boundaryX(3), 1);
    QCOMPARE(edited.last().at(0).value<std::vector<int>>(), (std::vector<int>{1, 5}));
    for (const auto& args : edited) {
      const auto cuts = args.at(0).value<std::vector<int>>();
      QCOMPARE(cuts.size(), size_t{2});
      QVERIFY(cuts[0] >= 1 && cuts[0] < cuts[1] && cuts[1] <= 5);
    }
    // A press away from any cut drags nothing.
    const int before = static_cast<int>(edited.count());
    dragCut(strip, strip.layerRect(3).center().x(), strip.layerRect(4).center().x());
    QCOMPARE(static_cast<int>(edited.count()), before);
    // Proposed stages colour the layers before a run.
    QCOMPARE(strip.deviceOf(0), -1);
    QVERIFY(strip.layerColor(0) != strip.layerColor(1));
    QVERIFY(!strip.grab().isNull());
  }
};

QTEST_MAIN(TstPartitionStrip)
#include "tst_partition_strip.moc"
