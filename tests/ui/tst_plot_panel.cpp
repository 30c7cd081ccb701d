// The plots fed a scripted metric stream: samples land on the right charts, cumulative counters
// become per-kind traffic rates and busy fractions, bursts coalesce into few replots (and are
// timed), the x axis switches, memory is bounded, the grid takes 3 columns when wide and scrolls
// when its rows do not fit, titles wrap to narrow charts, and a chart saves as CSV, PNG and PDF.
// Events as markers: tst_plot_markers.
#include <qcustomplot.h>

#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <cmath>

#include "plot_test_util.h"
#include "ui/plot_panel.h"

using edgerig::MetricSample;
using edgerig::RunEvent;
using edgerig::ui::Chart;
using edgerig::ui::PlotPanel;

using namespace plot_test;  // NOLINT(google-build-using-namespace)

class TstPlotPanel : public QObject {
  Q_OBJECT

 private slots:
  // A gossip run (8 devices' counters, consensus distance, compression ratios) brings the three
  // gossip charts: bytes per iteration by kind from the devices' cumulative counters, the
  // consensus distance, and each device's compression ratio.
  void gossipChartsAppearWithGossipData() {
    PlotPanel p;
    p.resize(1600, 1000);
    p.show();
    for (int it = 1; it <= 30; ++it) p.addMetrics(iteration(it));
    QTRY_VERIFY(!p.replotPending());
    QVERIFY(!p.isChartShown(Chart::kBytesPerIteration));
    QVERIFY(!p.isChartShown(Chart::kConsensus));
    QVERIFY(!p.isChartShown(Chart::kCompression));
    // Each device sends 1500 gossip bytes and 100 control bytes an iteration; two reports an
    // iteration (the second repeats the counters), devices one after the other.
    for (int it = 31; it <= 90; ++it) {
      for (int d = 0; d < 8; ++d) {
        for (int rep = 0; rep < 2; ++rep) {
          const double t = 0.1 * it + 0.01 * d + 0.05 * rep;
          const std::string dev = "dev" + std::to_string(d);
          p.addMetrics({{t, it, dev, "bytes_sent_gossip", 1500.0 * it},
                        {t, it, dev, "bytes_sent_control", 100.0 * it},
                        {t, it, dev, "compression_ratio", 40.0 + d}});
        }
      }
      if (it % 30 == 0) p.addMetrics({{0.1 * it, it, "", "consensus_distance", 3.0 / it}});
    }
    QTRY_VERIFY(!p.replotPending());
    QVERIFY(p.isChartShown(Chart::kBytesPerIteration));
    QVERIFY(p.isChartShown(Chart::kConsensus));
    QVERIFY(p.isChartShown(Chart::kCompression));
    p.replotAllNow();
    QCPGraph* gossip = graphNamed(p.chart(Chart::kBytesPerIteration), "gossip");
    QCPGraph* control = graphNamed(p.chart(Chart::kBytesPerIteration), "control");
    QVERIFY(gossip && control);
    QVERIFY(gossip->dataCount() >= 50);
    // 8 devices × 1500 bytes = 12 kB an iteration, drawn in kB; control 0.8 kB.
    QCOMPARE(gossip->data()->at(gossip->dataCount() - 1)->value, 12.0);
    QCOMPARE(control->data()->at(control->dataCount() - 1)->value, 0.8);
    QCOMPARE(p.pointCount("consensus_distance", ""), size_t{2});
    QCOMPARE(p.chart(Chart::kCompression)->graphCount(), 8);
    QCPGraph* dev3 = graphNamed(p.chart(Chart::kCompression), "dev3");
    QVERIFY(dev3);
    QCOMPARE(dev3->data()->at(dev3->dataCount() - 1)->value, 43.0);
    for (Chart c : {Chart::kBytesPerIteration, Chart::kConsensus, Chart::kCompression}) {
      QVERIFY(p.chart(c)->isVisible());
      QVERIFY(p.chart(c)->height() >= 200);
    }
    if (qEnvironmentVariableIsSet("EDGERIG_PLOT_SNAPSHOT")) p.grab().save("/tmp/gossip-plots.png");
    p.clear();
    QVERIFY(!p.isChartShown(Chart::kConsensus));
    // A run whose devices send gossip bytes but measure no consensus distance (dssync,
    // allreduce): bytes per iteration, and no empty consensus chart.
    for (int it = 1; it <= 20; ++it) {
      p.addMetrics({{0.1 * it, it, "dev0", "bytes_sent_gossip", 1500.0 * it}});
    }
    QTRY_VERIFY(!p.replotPending());
    QVERIFY(p.isChartShown(Chart::kBytesPerIteration));
    QVERIFY(!p.isChartShown(Chart::kConsensus));
  }

  // A respipe run's routed_per_s (per device and iteration) brings the routed-around chart, one
  // line per device; a take-over is a labelled marker on it as on every chart.
  void routedChartAppearsWithRespipeData() {
    PlotPanel p;
    p.resize(1600, 1000);
    p.show();
    for (int it = 1; it <= 20; ++it) p.addMetrics(iteration(it));
    QTRY_VERIFY(!p.replotPending());
    QVERIFY(!p.isChartShown(Chart::kRouted));
    for (int it = 21; it <= 40; ++it) {
      const double t = 0.1 * it;
      p.addMetrics({{t, it, "dev0", "routed_per_s", it >= 30 && it < 35 ? 16.0 : 0.0},
                    {t, it, "dev1", "routed_per_s", 0.0},
                    {t, it, "dev0", "routed_total", 4.0 * it}});
    }
    p.addEvents({RunEvent{3.4, 34, "dev0", "takeover", "dev0 took over dev1's layers"}});
    QTRY_VERIFY(!p.replotPending());
    p.replotAllNow();
    QVERIFY(p.isChartShown(Chart::kRouted));
    QVERIFY(p.chart(Chart::kRouted)->isVisible());
    QCOMPARE(p.chart(Chart::kRouted)->graphCount(), 2);  // routed_total is not drawn
    QCPGraph* dev0 = graphNamed(p.chart(Chart::kRouted), "dev0");
    QVERIFY(dev0);
    QCOMPARE(dev0->dataCount(), 20);
    QCOMPARE(dev0->data()->at(10)->value, 16.0);  // iteration 31
    QStringList labels;
    for (int i = 0; i < p.chart(Chart::kRouted)->itemCount(); ++i) {
      if (auto* text = qobject_cast<QCPItemText*>(p.chart(Chart::kRouted)->item(i)))
        labels << text->text();
    }
    QCOMPARE(labels, QStringList({"dev0: took over"}));
    p.clear();
    QVERIFY(!p.isChartShown(Chart::kRouted));
  }

  // An algorithm's own metrics get their charts once they arrive (edgegossip's: each device's
  // local batch and iteration time, the run's exchange period), batches and the period drawn as
  // steps; a re-plan and an algorithm's own "<what>_changed" event are labelled markers.
  void algorithmMetricChartsAppearWithTheirMetrics() {
    PlotPanel p;
    p.resize(1600, 1000);
    p.show();
    for (int it = 1; it <= 10; ++it) p.addMetrics(iteration(it));
    QTRY_VERIFY(!p.replotPending());
    for (Chart c : {Chart::kLocalBatch, Chart::kIterationTime, Chart::kExchangePeriod}) {
      QVERIFY(!p.isChartShown(c));
      QVERIFY(!p.chart(c)->isVisible());
    }
    // Four devices of speeds 1, 1, 2, 4: even batches of 32 until round 20, then 51, 51, 17, 9
    // (128 in all), and the round times even out; the period doubles at 30.
    const double speed[] = {1, 1, 2, 4};
    for (int it = 11; it <= 40; ++it) {
      const double t = 0.1 * it;
      std::vector<MetricSample> round{{t, it, "", "exchange_period", it < 30 ? 1.0 : 2.0}};
      for (int d = 0; d < 4; ++d) {
        const double batch = it < 20 ? 32.0 : (d < 2 ? 51.0 : d == 2 ? 17.0 : 9.0);
        const std::string dev = "dev" + std::to_string(d);
        round.push_back({t, it, dev, "local_batch", batch});
        round.push_back({t, it, dev, "iteration_time", 0.001 * batch * speed[d]});
      }
      p.addMetrics(round);
    }
    p.addEvents({RunEvent{2.0,
                          20,
                          "",
                          "replanned",
                          "edgegossip local batches dev0 51, ...",
                          {{"reason", "measured at the start"}}},
                 RunEvent{3.0,
                          30,
                          "",
                          "exchange_period_changed",
                          "edgegossip exchanges every 2 rounds (was 1; ...)",
                          {{"period", "2"}, {"was", "1"}}}});
    QTRY_VERIFY(!p.replotPending());
    p.replotAllNow();
    for (Chart c : {Chart::kLocalBatch, Chart::kIterationTime, Chart::kExchangePeriod}) {
      QVERIFY(p.isChartShown(c));
      QVERIFY(p.chart(c)->isVisible());
      QVERIFY(p.chart(c)->height() >= 150);
    }
    QCOMPARE(p.chart(Chart::kLocalBatch)->graphCount(), 4);
    QCOMPARE(p.chart(Chart::kIterationTime)->graphCount(), 4);
    QCOMPARE(p.chart(Chart::kExchangePeriod)->graphCount(), 1);
    QCPGraph* quarter = graphNamed(p.chart(Chart::kLocalBatch), "dev3");
    QVERIFY(quarter);
    QCOMPARE(quarter->dataCount(), 30);
    QCOMPARE(quarter->data()->at(0)->value, 32.0);
    QCOMPARE(quarter->data()->at(29)->value, 9.0);
    QCOMPARE(quarter->lineStyle(), QCPGraph::lsStepLeft);
    QCPGraph* slow = graphNamed(p.chart(Chart::kIterationTime), "dev3");
    QVERIFY(slow);
    QCOMPARE(slow->lineStyle(), QCPGraph::lsLine);
    // Round times on a log axis: a 4x spread is the same gap at any speed.
    QCOMPARE(p.chart(Chart::kIterationTime)->yAxis->scaleType(), QCPAxis::stLogarithmic);
    QCOMPARE(p.chart(Chart::kLocalBatch)->yAxis->scaleType(), QCPAxis::stLinear);
    QCOMPARE(slow->data()->at(0)->value, 0.128);
    QCPGraph* period = p.chart(Chart::kExchangePeriod)->graph(0);
    QCOMPARE(period->dataCount(), 30);
    QCOMPARE(period->data()->at(29)->value, 2.0);
    QCOMPARE(period->lineStyle(), QCPGraph::lsStepLeft);
    // The spread of the devices' median round times (of 7): 0.128 / 0.032 before the re-plan,
    // 0.051 / 0.034 at the end.
    QVERIFY(p.isChartShown(Chart::kIterationSpread));
    QCPGraph* spread = p.chart(Chart::kIterationSpread)->graph(0);
    QCOMPARE(spread->dataCount(), 30);
    QCOMPARE(spread->data()->at(8)->key, 19.0);
    QCOMPARE(spread->data()->at(8)->value, 4.0);
    QCOMPARE(spread->data()->at(29)->value, 0.051 / 0.034);
    // Per device only: a run-level local_batch would be on no chart.
    QCOMPARE(p.pointCount("local_batch", ""), size_t{0});
    QStringList labels;
    for (int i = 0; i < p.chart(Chart::kIterationTime)->itemCount(); ++i) {
      if (auto* text = qobject_cast<QCPItemText*>(p.chart(Chart::kIterationTime)->item(i)))
        labels << text->text();
    }
    QCOMPARE(labels, QStringList({"re-plan", "exchange period 2"}));
    if (qEnvironmentVariableIsSet("EDGERIG_PLOT_SNAPSHOT")) p.grab().save("/tmp/algo-plots.png");
    p.clear();
    QVERIFY(!p.isChartShown(Chart::kLocalBatch));
  }

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
    // Flat series stay in view: the pipeline's 600 samples/s above the devices' 300.
    QVERIFY(p.chart(Chart::kThroughput)->yAxis->range().contains(600));
    QVERIFY(p.chart(Chart::kThroughput)->yAxis->range().contains(290));
    // A series that stays 0 (nothing routed) is drawn on 0 to 1, not 0 to 1·10^-9.
    for (int it = 1; it <= 50; ++it) {
      p.addMetrics({{it * 0.1, it, "dev0", "routed_per_s", 0.0}});
    }
    QTRY_VERIFY(!p.replotPending());
    const QCPRange routed = p.chart(Chart::kRouted)->yAxis->range();
    QVERIFY2(routed.lower == 0 && routed.upper >= 1,
             qPrintable(QString("%1 to %2").arg(routed.lower).arg(routed.upper)));
    // A nearly flat series far from 0 (sparse-push's compression ratio, ~50) has room above it,
    // not its line on the chart's top edge, where the frame hides it.
    for (int it = 1; it <= 50; ++it) {
      p.addMetrics({{it * 0.1, it, "dev0", "compression_ratio", 49.9 + 0.001 * (it % 3)}});
    }
    QTRY_VERIFY(!p.replotPending());
    const QCPRange ratio = p.chart(Chart::kCompression)->yAxis->range();
    QVERIFY2(ratio.lower <= 0 && ratio.upper >= 1.05 * 49.902,
             qPrintable(QString("%1 to %2").arg(ratio.lower).arg(ratio.upper)));
  }

  void derivesBusyFractionPerDevice() {
    PlotPanel p;
    // dev0: busy 0.5 s of every 1 s; dev1: 0.25 s, then 0.9 s; a restart of dev1 (counters back
    // to 0) starts a new baseline instead of drawing a negative fraction. Fractions are over the
    // last 2 s of reports, as every plotted rate.
    p.addMetrics(counters(1, 10, "dev0", 2.0, 3.0, 0, 0));
    p.addMetrics(counters(1, 10, "dev1", 1.0, 1.0, 0, 0));
    p.addMetrics(counters(2, 20, "dev0", 2.5, 3.5, 0, 0));
    p.addMetrics(counters(2, 20, "dev1", 1.25, 1.75, 0, 0));
    p.addMetrics(counters(3, 30, "dev1", 2.15, 1.85, 0, 0));
    p.addMetrics(counters(4, 40, "dev1", 0.1, 0.1, 0, 0));
    p.addMetrics(counters(5, 50, "dev1", 0.2, 0.3, 0, 0));
    QTRY_VERIFY(!p.replotPending());
    QCOMPARE(p.pointCount("busy_s", "dev0"), size_t{0});  // counters are not drawn as such
    QCOMPARE(p.pointCount("busy_percent", "dev0"), size_t{1});
    QCOMPARE(p.pointCount("busy_percent", "dev1"), size_t{3});
    QCustomPlot* busy = p.chart(Chart::kBusy);
    QCOMPARE(busy->graphCount(), 2);
    auto* dev0 = graphNamed(busy, "dev0");
    auto* dev1 = graphNamed(busy, "dev1");
    QVERIFY(dev0 && dev1);
    QCOMPARE(dev0->data()->at(0)->key, 20.0);
    QCOMPARE(dev0->data()->at(0)->value, 50.0);
    QCOMPARE(dev1->data()->at(0)->value, 25.0);
    // Over the last 2 s (t = 1 to 3), not the last report: (2.15 - 1) / (4 - 2) busy.
    QVERIFY(qAbs(dev1->data()->at(1)->value - 57.5) < 1e-9);
    QVERIFY(qAbs(dev1->data()->at(2)->value - 100.0 / 3) < 1e-9);
    // The busy chart keeps its 0..100 % scale while following the tail.
    QVERIFY(busy->yAxis->range().lower <= 0 && busy->yAxis->range().upper >= 100);
  }

  void derivesTrafficPerMessageKind() {
    PlotPanel p;
    // dev0 sends 1 MB/s of activations, dev1 2 MB/s of gradients and 3 MB/s of activations;
    // both send 100 B of control once. Reports every 0.5 s, dev1 a little after dev0.
    for (int r = 0; r <= 6; ++r) {
      const double t = 0.5 * r;
      p.addMetrics(counters(t, r, "dev0", 0, 0, 1e6 * t, 0));
      p.addMetrics(counters(t + 0.1, r, "dev1", 0, 0, 3e6 * t, 2e6 * t));
    }
    QTRY_VERIFY(!p.replotPending());
    QCustomPlot* kinds = p.chart(Chart::kTrafficKind);
    QCOMPARE(kinds->graphCount(), 7);  // every kind of traffic_kind.h but the heartbeat
    auto* activation = graphNamed(kinds, "activation");
    auto* gradient = graphNamed(kinds, "gradient");
    auto* control = graphNamed(kinds, "control");
    QVERIFY(activation && gradient && control && graphNamed(kinds, "weights"));
    // One summed point per round of reports (rounds 1..6; round 0 is the baseline).
    QCOMPARE(p.pointCount("bytes_sent_activation_per_s", ""), size_t{6});
    const auto last = activation->data()->size() - 1;
    QCOMPARE(activation->data()->at(last)->key, 6.0);                 // x = iteration
    QVERIFY(qAbs(activation->data()->at(last)->value - 4.0) < 1e-9);  // 1 + 3 MB/s, drawn in MB/s
    QVERIFY(qAbs(gradient->data()->at(last)->value - 2.0) < 1e-9);
    QCOMPARE(control->data()->at(last)->value, 0.0);
    // A device that stops reporting drops out of the sum (dev1 is lost; dev0 goes on).
    for (int r = 7; r <= 20; ++r)
      p.addMetrics(counters(0.5 * r, r, "dev0", 0, 0, 1e6 * 0.5 * r, 0));
    QTRY_VERIFY(!p.replotPending());
    QVERIFY(qAbs(activation->data()->at(activation->data()->size() - 1)->value - 1.0) < 1e-9);
  }

  void timesReplots() {
    PlotPanel p;
    p.resize(1200, 800);
    QTRY_VERIFY(!p.replotPending());
    const int before = p.replotCount();
    for (int it = 1; it <= 100; ++it) p.addMetrics(iteration(it));
    QTRY_VERIFY(!p.replotPending());
    QVERIFY(p.replotCount() > before);
    QVERIFY(p.lastReplotMs() > 0);
    QVERIFY(p.meanReplotMs() > 0);
    QVERIFY(p.lastReplotMs() < 5000);
  }

  void gridTakesThreeColumnsWhenWide() {
    PlotPanel p;
    p.resize(900, 700);
    p.show();
    QTRY_COMPARE(p.columnCount(), 2);
    p.resize(1600, 1000);
    QTRY_COMPARE(p.columnCount(), 3);
    // Every chart keeps a usable size and its title and axis labels inside its area.
    QVERIFY(!p.isChartShown(Chart::kConsensus));  // no gossip data: six charts
    for (int c = 0; c < edgerig::ui::kChartCount; ++c) {
      if (!p.isChartShown(static_cast<Chart>(c))) continue;
      QCustomPlot* plot = p.chart(static_cast<Chart>(c));
      QVERIFY(plot->width() >= 380);
      QVERIFY(plot->height() >= 300);
    }
    if (qEnvironmentVariableIsSet("EDGERIG_PLOT_SNAPSHOT")) {
      for (int it = 1; it <= 300; ++it) {
        p.addMetrics(iteration(it));
        p.addMetrics(counters(0.1 * it, it, "dev0", 0.06 * it, 0.04 * it, 2e5 * it, 1e5 * it));
        p.addMetrics(counters(0.1 * it, it, "dev1", 0.03 * it, 0.07 * it, 1e5 * it, 3e4 * it));
      }
      p.addEvents({RunEvent{10, 100, "dev1", "fault_applied", "injected slowdown x8"},
                   RunEvent{20, 200, "", "algorithm_switched",
                            "from gpipe (4 micro-batches, even plan) to ftpipehd (4 "
                            "micro-batches, balanced plan) (12 tensors carried over, 0.1 s)"}});
      QTRY_VERIFY(!p.replotPending());
      p.grab().save(qEnvironmentVariable("EDGERIG_PLOT_SNAPSHOT"));
    }
  }

  // An algorithm with many charts (edgegossip's fourteen: five rows) does not make the panel, and
  // so the window, taller than a 1000-pixel screen: its charts keep their size and scroll (seen
  // at 1600 x 1000: the window grew to 1151 pixels, its status bar off the screen).
  void manyChartsScrollInsteadOfGrowingThePanel() {
    PlotPanel p;
    p.resize(1600, 600);
    p.show();
    QVERIFY(QTest::qWaitForWindowExposed(&p));
    for (int it = 1; it <= 40; ++it) {
      const double t = 0.1 * it;
      std::vector<MetricSample> round = iteration(it);
      round.push_back({t, it, "", "consensus_distance", 0.1});
      round.push_back({t, it, "", "exchange_period", 1});
      for (int d = 0; d < 4; ++d) {
        const std::string dev = "dev" + std::to_string(d);
        round.push_back({t, it, dev, "local_batch", 32});
        round.push_back({t, it, dev, "iteration_time", 0.01 * (d + 1)});
        round.push_back({t, it, dev, "compression_ratio", 50});
      }
      p.addMetrics(round);
      for (int d = 0; d < 2; ++d) {
        p.addMetrics(counters(t, it, "dev" + std::to_string(d), 0.05 * it, 0.05 * it, 0, 0));
      }
    }
    QTRY_VERIFY(!p.replotPending());
    int shown = 0;
    for (int c = 0; c < edgerig::ui::kChartCount; ++c) {
      if (!p.isChartShown(static_cast<Chart>(c))) continue;
      ++shown;
      QVERIFY(p.chart(static_cast<Chart>(c))->height() >= 180);  // not squashed to fit
    }
    QVERIFY2(shown >= 13, qPrintable(QString::number(shown)));  // five rows of three
    QVERIFY2(p.minimumSizeHint().height() <= 400,
             qPrintable(QString::number(p.minimumSizeHint().height())));
    auto* scroll = p.findChild<QScrollArea*>("plotScroll");
    QVERIFY(scroll);
    QVERIFY(scroll->verticalScrollBar()->isVisible());
    QVERIFY(scroll->verticalScrollBar()->maximum() > 0);
  }

  // A loss that spans about a decade (2.9 down to 0.25) on the log axis: the ticks are spread
  // evenly and their labels never overlap (QCustomPlot's log ticker falls back to linear ticks
  // below ~1.6 decades: 0.5, 1, 1.5, 2, 2.5, 3, squeezed together at the top of the axis).
  void logAxesSpreadTheirTicks() {
    PlotPanel p;
    p.resize(1600, 600);
    p.show();
    QVERIFY(QTest::qWaitForWindowExposed(&p));
    for (int it = 1; it <= 100; ++it) {
      p.addMetrics({{0.1 * it, it, "", "train_loss", 3.0 * std::exp(-it / 40.0)}});
    }
    QTRY_VERIFY(!p.replotPending());
    p.replotAllNow();
    QCPAxis* axis = p.chart(Chart::kLoss)->yAxis;
    QCOMPARE(axis->scaleType(), QCPAxis::stLogarithmic);
    QVERIFY2(axis->range().upper / axis->range().lower < 40,
             qPrintable(QString("%1 .. %2").arg(axis->range().lower).arg(axis->range().upper)));
    const QVector<double> ticks = axis->tickVector();
    QVERIFY(ticks.size() >= 3);
    std::vector<double> gaps;
    for (int i = 1; i < ticks.size(); ++i) {
      gaps.push_back(std::abs(axis->coordToPixel(ticks[i]) - axis->coordToPixel(ticks[i - 1])));
    }
    const double smallest = *std::min_element(gaps.begin(), gaps.end());
    const double largest = *std::max_element(gaps.begin(), gaps.end());
    const QVector<QString> tick_labels = axis->tickVectorLabels();
    const QStringList labels(tick_labels.begin(), tick_labels.end());
    QVERIFY2(largest <= 2 * smallest, qPrintable(labels.join(", ")));
    QVERIFY2(smallest >= QFontMetrics(axis->tickLabelFont()).height(),
             qPrintable(labels.join(", ")));
  }

  // On a narrow panel a long title is broken into lines that fit its chart, instead of the chart
  // widening its title column and cutting the title off at both ends (seen in a comparison:
  // "ytes per iteration so far, all kinds (kB"). Live titles and compared runs' titles alike.
  void titlesFitNarrowCharts() {
    PlotPanel p;
    p.resize(560, 1400);  // two columns of ~280 px, the narrowest a chart gets
    p.show();
    QVERIFY(QTest::qWaitForWindowExposed(&p));
    for (int it = 1; it <= 30; ++it) p.addMetrics(iteration(it));
    for (bool comparing : {false, true}) {
      if (comparing) {
        PlotPanel::OverlayRun run;
        run.name = "edgegossip";
        run.color = Qt::darkYellow;
        p.showRuns({run});
      }
      QTRY_VERIFY(!p.replotPending());
      int wrapped = 0;
      for (int c = 0; c < edgerig::ui::kChartCount; ++c) {
        if (!p.isChartShown(static_cast<Chart>(c))) continue;
        QCustomPlot* plot = p.chart(static_cast<Chart>(c));
        plot->replot();
        auto* title = qobject_cast<QCPTextElement*>(plot->plotLayout()->element(0, 0));
        QVERIFY(title);
        const QRect cell = title->outerRect();
        QVERIFY2(plot->rect().contains(cell), qPrintable(title->text()));
        const QFontMetrics fm(title->font());
        for (const QString& line : title->text().split('\n')) {
          QVERIFY2(fm.horizontalAdvance(line) <= cell.width(),
                   qPrintable(QString("'%1' is %2 px in a %3 px cell")
                                  .arg(line)
                                  .arg(fm.horizontalAdvance(line))
                                  .arg(cell.width())));
        }
        wrapped += title->text().contains('\n') ? 1 : 0;
      }
      QVERIFY(wrapped > 0);  // the width makes some title wrap, or this tests nothing
    }
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

  void legendListsDevicesInOrder() {
    PlotPanel p;
    std::vector<edgerig::DeviceStatus> devices(3);
    for (int d = 0; d < 3; ++d) {
      devices[d].index = d;
      devices[d].name = "dev" + std::to_string(d);
    }
    p.setDevices(devices);
    // Devices report in any order; the run's own line comes first here.
    p.addMetrics({{0.1, 1, "", "samples_per_s", 900},
                  {0.1, 1, "dev2", "samples_per_s", 300},
                  {0.1, 1, "dev0", "samples_per_s", 310},
                  {0.2, 1, "dev1", "samples_per_s", 290}});
    QTRY_VERIFY(!p.replotPending());
    QCPLegend* legend = p.chart(Chart::kThroughput)->legend;
    QStringList names;
    for (int i = 0; i < legend->itemCount(); ++i) {
      names << qobject_cast<QCPPlottableLegendItem*>(legend->item(i))->plottable()->name();
    }
    QCOMPARE(names, QStringList({"dev0", "dev1", "dev2", "whole run"}));

    // Message kinds in their fixed order, whichever was sent first.
    p.addMetrics(counters(0.5, 2, "dev0", 0.1, 0.1, 0, 0));
    p.addMetrics({{1.0, 3, "dev0", "bytes_sent_weights", 10},
                  {1.0, 3, "dev0", "bytes_sent_gradient", 20},
                  {1.0, 3, "dev0", "bytes_sent_replica", 5},
                  {1.0, 3, "dev0", "bytes_sent_control", 200},
                  {1.0, 3, "dev0", "bytes_sent_gossip", 7},
                  {1.0, 3, "dev0", "bytes_sent_probe", 3},
                  {1.0, 3, "dev0", "bytes_sent_activation", 30}});
    QTRY_VERIFY(!p.replotPending());
    legend = p.chart(Chart::kTrafficKind)->legend;
    names.clear();
    for (int i = 0; i < legend->itemCount(); ++i) {
      names << qobject_cast<QCPPlottableLegendItem*>(legend->item(i))->plottable()->name();
    }
    QStringList kinds;
    for (const auto& k : edgerig::ui::kMessageKinds) kinds << QString::fromStdString(k);
    QCOMPARE(names, kinds);
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
