// The plots fed a scripted metric stream: samples land on the right charts, bursts coalesce into
// few replots, events become labelled markers on every chart, the x axis switches, memory is
// bounded, and a chart saves as CSV, PNG and PDF.
#include <qcustomplot.h>

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "ui/plot_panel.h"

using edgerig::MetricSample;
using edgerig::RunEvent;
using edgerig::ui::Chart;
using edgerig::ui::PlotPanel;

namespace {

// One iteration's worth of what the controller publishes for a 2-device pipeline.
std::vector<MetricSample> iteration(int it) {
  const double t = 0.1 * it;
  return {
      {t, it, "", "train_loss", 2.0 / (1 + it)}, {t, it, "", "train_accuracy", 0.5},
      {t, it, "", "samples_per_s", 600},         {t, it, "dev0", "samples_per_s", 300},
      {t, it, "dev1", "samples_per_s", 290},     {t, it, "dev0", "bytes_out_per_s", 1e6},
      {t, it, "dev1", "bytes_out_per_s", 2e6},   {t, it, "dev0", "rtt_ms", 0.3}};  // on no chart
}

QCPGraph* graphNamed(QCustomPlot* plot, const QString& name) {
  for (int g = 0; g < plot->graphCount(); ++g) {
    if (plot->graph(g)->name() == name) return plot->graph(g);
  }
  return nullptr;
}

}  // namespace

class TstPlotPanel : public QObject {
  Q_OBJECT

 private slots:
  void routesSamplesToCharts() {
    PlotPanel p;
    for (int it = 1; it <= 50; ++it) p.addMetrics(iteration(it));
    p.addMetrics({{5.0, 50, "", "test_accuracy", 0.8}});
    QTRY_VERIFY(!p.replotPending());
    QCOMPARE(p.chart(Chart::kAccuracy)->graphCount(), 2);
    QCOMPARE(p.chart(Chart::kLoss)->graphCount(), 1);
    QCOMPARE(p.chart(Chart::kThroughput)->graphCount(), 3);
    QCOMPARE(p.chart(Chart::kTraffic)->graphCount(), 2);
    QCOMPARE(p.pointCount("rtt_ms", "dev0"), size_t{0});
    auto* loss = graphNamed(p.chart(Chart::kLoss), "train");
    QVERIFY(loss);
    QCOMPARE(loss->data()->size(), 50);
    QCOMPARE(loss->data()->at(0)->key, 1.0);  // x = iteration
    QCOMPARE(loss->data()->at(0)->value, 1.0);
    auto* test = graphNamed(p.chart(Chart::kAccuracy), "test");
    QVERIFY(test);
    QCOMPARE(test->data()->size(), 1);
    // Following the tail shows the newest iteration.
    QVERIFY(p.chart(Chart::kLoss)->xAxis->range().contains(50));
  }

  void coalescesBurstsIntoFewReplots() {
    PlotPanel p;
    QTRY_VERIFY(!p.replotPending());
    const int before = p.replotCount();
    // 200 bursts within one event-loop turn: one replot, not 200.
    for (int it = 1; it <= 200; ++it) p.addMetrics(iteration(it));
    QVERIFY(p.replotPending());
    QTRY_VERIFY(!p.replotPending());
    QCOMPARE(p.replotCount(), before + 1);
    QCOMPARE(graphNamed(p.chart(Chart::kLoss), "train")->data()->size(), 200);
    // Later samples are appended to the graphs, not lost.
    for (int it = 201; it <= 210; ++it) p.addMetrics(iteration(it));
    QTRY_VERIFY(!p.replotPending());
    QCOMPARE(p.replotCount(), before + 2);
    QCOMPARE(graphNamed(p.chart(Chart::kLoss), "train")->data()->size(), 210);
  }

  void drawsLabelledMarkersOnEveryChart() {
    PlotPanel p;
    for (int it = 1; it <= 30; ++it) p.addMetrics(iteration(it));
    p.addEvents({RunEvent{1.0, 10, "dev1", "fault_applied", "injected slowdown x8"},
                 RunEvent{1.2, 12, "", "evaluation", "test accuracy 0.5"},  // not a marker
                 RunEvent{1.5, 15, "", "plan_changed", "initial plan: fc1 | fc2"},
                 RunEvent{2.0, 20, "dev1", "device_lost", "no heartbeat"}});
    QTRY_VERIFY(!p.replotPending());
    QCOMPARE(p.markerCount(), 3);
    for (int c = 0; c < edgerig::ui::kChartCount; ++c) {
      QCustomPlot* plot = p.chart(static_cast<Chart>(c));
      QCOMPARE(plot->itemCount(), 6);  // a line and a label per marker
      QStringList labels;
      for (int i = 0; i < plot->itemCount(); ++i) {
        if (auto* text = qobject_cast<QCPItemText*>(plot->item(i))) labels << text->text();
        if (auto* line = qobject_cast<QCPItemStraightLine*>(plot->item(i))) {
          QCOMPARE(line->point1->coords().x(), line->point2->coords().x());  // vertical
        }
      }
      QCOMPARE(labels, QStringList({"dev1: slowdown x8", "plan", "dev1: lost"}));
    }
    // Switching the x axis moves the markers to wall time.
    p.setXAxis(PlotPanel::XAxis::kWallTime);
    QTRY_VERIFY(!p.replotPending());
    auto* line = qobject_cast<QCPItemStraightLine*>(p.chart(Chart::kLoss)->item(0));
    QVERIFY(line);
    QCOMPARE(line->point1->coords().x(), 1.0);
    auto* loss = graphNamed(p.chart(Chart::kLoss), "train");
    QCOMPARE(loss->data()->at(0)->key, 0.1);  // x = time_s now
  }

  void boundsMemory() {
    PlotPanel p;
    const int n = static_cast<int>(PlotPanel::kMaxPointsPerSeries) + 5000;
    std::vector<MetricSample> batch;
    for (int it = 1; it <= n; ++it) batch.push_back({0.01 * it, it, "", "train_loss", 1.0});
    p.addMetrics(batch);
    QVERIFY(p.pointCount("train_loss", "") <= PlotPanel::kMaxPointsPerSeries);
    QTRY_VERIFY(!p.replotPending());
    auto* loss = graphNamed(p.chart(Chart::kLoss), "train");
    QCOMPARE(static_cast<size_t>(loss->data()->size()), p.pointCount("train_loss", ""));
    QCOMPARE(loss->data()->at(loss->data()->size() - 1)->key, static_cast<double>(n));
    for (int i = 0; i < PlotPanel::kMaxMarkers + 10; ++i) {
      p.addEvents({RunEvent{1.0 * i, i, "dev0", "fault_applied", "injected clear"}});
    }
    QCOMPARE(p.markerCount(), PlotPanel::kMaxMarkers);
    QCOMPARE(p.chart(Chart::kLoss)->itemCount(), 2 * PlotPanel::kMaxMarkers);
  }

  void interactionStopsFollowing() {
    PlotPanel p;
    QSignalSpy spy(&p, &PlotPanel::followTailChanged);
    p.showAround(3.0, 30);
    QVERIFY(!p.followTail());
    QCOMPARE(spy.count(), 1);
    QVERIFY(p.chart(Chart::kLoss)->xAxis->range().contains(30));
    p.setFollowTail(true);
    QVERIFY(p.followTail());
  }

  void savesCsvPngAndPdf() {
    PlotPanel p;
    p.resize(900, 600);
    for (int it = 1; it <= 3; ++it) p.addMetrics(iteration(it));
    QTRY_VERIFY(!p.replotPending());
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString csv = dir.filePath("traffic.csv");
    QVERIFY(p.saveChart(Chart::kTraffic, csv).isOk());
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 7);
    QCOMPARE(lines[0], QString("time_s,iteration,device,metric,value"));
    QCOMPARE(lines[1], QString("0.1,1,dev0,bytes_out_per_s,1000000"));
    QCOMPARE(lines[4], QString("0.1,1,dev1,bytes_out_per_s,2000000"));
    QVERIFY(p.saveChart(Chart::kAccuracy, dir.filePath("acc.png")).isOk());
    QVERIFY(QFileInfo(dir.filePath("acc.png")).size() > 1000);
    QVERIFY(p.saveChart(Chart::kLoss, dir.filePath("loss.pdf")).isOk());
    QVERIFY(QFileInfo(dir.filePath("loss.pdf")).size() > 500);
    auto bad = p.saveChart(Chart::kLoss, dir.filePath("loss.bmp"));
    QVERIFY(!bad.isOk());
    QVERIFY(QString::fromStdString(bad.message()).contains(".csv"));
    auto missing = p.saveChart(Chart::kLoss, dir.filePath("no/such/folder/loss.csv"));
    QVERIFY(!missing.isOk());
  }
};

QTEST_MAIN(TstPlotPanel)
#include "tst_plot_panel.moc"
