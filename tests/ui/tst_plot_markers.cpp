// Events on the plots: each becomes a labelled marker on every chart, events of one moment share
// one, a recovery is one marker with its phases, an algorithm's own "<what>_changed" events are
// markers and the core's graph and link changes are not, labels never cover each other, and no
// label hides a run's line.
#include <qcustomplot.h>

#include <QtTest>
#include <algorithm>
#include <cstdlib>

#include "plot_test_util.h"
#include "ui/plot_panel.h"

using edgerig::MetricSample;
using edgerig::RunEvent;
using edgerig::ui::Chart;
using edgerig::ui::PlotPanel;
using namespace plot_test;  // NOLINT(google-build-using-namespace)

class TstPlotMarkers : public QObject {
  Q_OBJECT

 private slots:
  // Markers for an algorithm's own changes: "<what>_changed" events not in the core's list
  // (dssync's groups_changed) are labelled by their first field; the core's graph and link
  // changes are not markers.
  void algorithmChangeEventsAreMarkers() {
    using edgerig::ui::markerLabel;
    QCOMPARE(markerLabel(RunEvent{1,
                                  1,
                                  "",
                                  "groups_changed",
                                  "2 site(s) {0 1} {2 3} ...",
                                  {{"sites", "{0 1} {2 3}"}, {"site_count", "2"}}}),
             QString("groups {0 1} {2 3}"));
    QCOMPARE(
        markerLabel(RunEvent{1, 1, "", "groups_changed", "", {{"sites", "{0 1 2 3} {4 5 6 7}"}}}),
        QString("groups {0 1 2 3} {4 5…"));
    QCOMPARE(markerLabel(RunEvent{1, 1, "", "graph_changed", "ring", {{"graph", "ring"}}}),
             QString());
    QCOMPARE(markerLabel(RunEvent{1, 1, "", "links_changed", "dev1", {{"from", "dev1"}}}),
             QString());
    QCOMPARE(markerLabel(RunEvent{1, 1, "", "_changed", "", {}}), QString());
    // A step of the learning-rate schedule, with the new rate.
    QCOMPARE(markerLabel(RunEvent{12.5,
                                  200,
                                  "",
                                  "learning_rate",
                                  "learning rate 0.005 from iteration 200 (x 0.1)",
                                  {{"learning_rate", "0.005"}}}),
             QString("lr 0.005"));
    // A recovery's phases, each with its duration.
    QCOMPARE(markerLabel(RunEvent{1,
                                  8,
                                  "",
                                  "recovery_phase",
                                  "recovery: fetch took 0.118 s",
                                  {{"phase", "fetch"}, {"seconds", "0.118"}, {"iteration", "8"}}}),
             QString("fetch 0.12 s"));
    QCOMPARE(markerLabel(RunEvent{1, 1, "", "evaluation", "", {}}), QString());
  }

  void drawsLabelledMarkersOnEveryChart() {
    PlotPanel p;
    for (int it = 1; it <= 30; ++it) p.addMetrics(iteration(it));
    p.addEvents({RunEvent{1.0, 10, "dev1", "fault_applied", "injected slowdown x8"},
                 RunEvent{1.2, 12, "", "evaluation", "test accuracy 0.5"},  // not a marker
                 RunEvent{1.5, 15, "", "plan_changed", "initial plan: fc1 | fc2"},
                 RunEvent{2.0, 20, "dev1", "device_lost", "no heartbeat"},
                 RunEvent{2.2, 22, "", "run_paused", ""},
                 RunEvent{9.4, 22, "", "run_resumed", ""},  // 7 s later: a marker of its own
                 // The label comes from the event's fields, not from its prose.
                 RunEvent{9.5,
                          25,
                          "",
                          "algorithm_switched",
                          "from gpipe (microBatches 4) to the other (10 tensors carried over)",
                          {{"from", "gpipe"}, {"to", "ftpipehd"}}}});
    QTRY_VERIFY(!p.replotPending());
    QCOMPARE(p.markerCount(), 6);
    for (int c = 0; c < edgerig::ui::kChartCount; ++c) {
      QCustomPlot* plot = p.chart(static_cast<Chart>(c));
      QCOMPARE(plot->itemCount(), 12);  // a line and a label per marker
      QStringList labels;
      for (int i = 0; i < plot->itemCount(); ++i) {
        if (auto* text = qobject_cast<QCPItemText*>(plot->item(i))) labels << text->text();
        if (auto* line = qobject_cast<QCPItemStraightLine*>(plot->item(i))) {
          QCOMPARE(line->point1->coords().x(), line->point2->coords().x());  // vertical
        }
      }
      QCOMPARE(labels, QStringList({"dev1: slowdown x8", "plan", "dev1: lost", "paused", "resumed",
                                    "→ ftpipehd"}));
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

  void eventsOfOneMomentShareAMarker() {
    PlotPanel p;
    for (int it = 1; it <= 30; ++it) p.addMetrics(iteration(it));
    p.addEvents({RunEvent{3.0, 20, "dev2", "fault_applied", "restart: local agent killed"},
                 RunEvent{4.1, 20, "", "plan_changed", "even plan: fc1 | fc2"}});
    p.addEvents({RunEvent{4.2, 20, "dev2", "device_restarted", "back at 127.0.0.1:1"},
                 RunEvent{4.3, 21, "", "plan_changed", "balanced plan"}});
    QTRY_VERIFY(!p.replotPending());
    QCOMPARE(p.markerCount(), 2);
    auto* text = qobject_cast<QCPItemText*>(p.chart(Chart::kLoss)->item(1));
    QVERIFY(text);
    QVERIFY2(text->text().count('\n') == 2, qPrintable(text->text()));  // three stacked labels
    QVERIFY(text->text().startsWith("dev2: "));
    QVERIFY(text->text().contains("plan"));
  }

  // A pipeline's recovery (ftpipehd): the loss, its four phases with their durations, the new
  // plan and the recovery are one marker, the phases two to a line, and the whole of it shows.
  void aRecoveryIsOneMarkerWithItsPhases() {
    PlotPanel p;
    p.resize(1200, 700);
    p.show();
    QVERIFY(QTest::qWaitForWindowExposed(&p));
    for (int it = 1; it <= 120; ++it) p.addMetrics(iteration(it));
    const auto phase = [](double t, const char* name, const char* seconds) {
      return RunEvent{t,
                      100,
                      "",
                      "recovery_phase",
                      std::string("recovery: ") + name + " took " + seconds + " s",
                      {{"phase", name}, {"seconds", seconds}, {"iteration", "100"}}};
    };
    p.addEvents({RunEvent{7.998, 100, "dev1", "device_lost", "no heartbeat"},
                 phase(7.998, "detect", "0.022"), phase(7.998, "re-plan", "0.000"),
                 phase(8.412, "fetch", "0.414"), phase(8.501, "commit", "0.089"),
                 RunEvent{8.501, 100, "", "plan_changed", "recovered without dev1"},
                 RunEvent{8.501, 100, "", "recovered", "went on without dev1 in 0.503 s"}});
    QCOMPARE(p.markerCount(), 1);
    QTRY_VERIFY(!p.replotPending());
    const QString expected =
        "dev1: lost\ndetect 0.02 s · re-plan 0.00 s\nfetch 0.41 s · commit 0.09 s\nplan\nrecovered";
    QCustomPlot* plot = p.chart(Chart::kAccuracy);
    bool shown = false;
    for (int i = 0; i < plot->itemCount(); ++i) {
      auto* text = qobject_cast<QCPItemText*>(plot->item(i));
      if (text && text->text() == expected) shown = text->visible();
    }
    QVERIFY2(shown, "the recovery's label, whole and visible");
  }

  void markerLabelsNeverCoverEachOther() {
    PlotPanel p;
    p.resize(1200, 700);
    p.show();
    QVERIFY(QTest::qWaitForWindowExposed(&p));
    for (int it = 1; it <= 100; ++it) p.addMetrics(iteration(it));
    // A burst of faults a few iterations apart, as in a scripted demo, and one at the newest
    // iteration, whose label would run off the right edge.
    std::vector<RunEvent> events;
    for (int k = 0; k < 12; ++k) {
      events.push_back(RunEvent{1.0 + k, 40 + 2 * k, "dev" + std::to_string(k % 2), "fault_applied",
                                "injected link delay 20 ms jitter 5 ms"});
    }
    events.push_back(RunEvent{20, 100, "dev1", "device_lost", "no heartbeat"});
    p.addEvents(events);
    QTRY_VERIFY(!p.replotPending());
    for (int c = 0; c < edgerig::ui::kChartCount; ++c) {
      if (!p.isChartShown(static_cast<Chart>(c))) continue;
      QCustomPlot* plot = p.chart(static_cast<Chart>(c));
      const QRect area = plot->axisRect()->rect();
      std::vector<QRect> shown;
      int hidden = 0;
      QStringList labels;
      for (int i = 0; i < plot->itemCount(); ++i) {
        auto* text = qobject_cast<QCPItemText*>(plot->item(i));
        if (!text) continue;
        if (!text->visible()) {
          ++hidden;
          continue;
        }
        const QRect r = QRectF(text->topLeft->pixelPosition(), text->bottomRight->pixelPosition())
                            .toAlignedRect()
                            .adjusted(1, 1, -1, -1);
        for (const QRect& other : shown) QVERIFY2(!r.intersects(other), qPrintable(text->text()));
        QVERIFY2(area.contains(r),  // nothing cut off at an edge
                 qPrintable(QString("%1 at %2,%3 %4x%5 outside %6,%7 %8x%9")
                                .arg(text->text())
                                .arg(r.x())
                                .arg(r.y())
                                .arg(r.width())
                                .arg(r.height())
                                .arg(area.x())
                                .arg(area.y())
                                .arg(area.width())
                                .arg(area.height())));
        QVERIFY(r.bottom() < area.top() + area.height() / 2);  // the data below stays readable
        shown.push_back(r);
        labels << text->text();
      }
      if (!plot->xAxis->range().contains(40) || !plot->xAxis->range().contains(100)) {
        QCOMPARE(shown.size(), size_t{0});  // markers out of view show no labels
        continue;
      }
      QVERIFY(shown.size() >= 4);
      QVERIFY(hidden > 0);                     // 13 labels within 60 iterations do not all fit
      QVERIFY(labels.contains("dev1: lost"));  // the newest event always shows
      // A line tells its events in full in its tooltip, the hidden labels too.
      const double x = plot->xAxis->coordToPixel(62);
      const QString tip = p.markerLabelsNear(static_cast<Chart>(c), x);
      QVERIFY2(tip.split('\n').contains("dev1: injected link delay 20 ms jitter 5 ms"),
               qPrintable(tip));
    }
  }

  // A marker's label sits in the top part of a chart, where an accuracy curve runs: the curve is
  // drawn over the label's box, not hidden behind it (seen in a comparison of two edgegossip
  // runs, whose re-plan labels covered both accuracy curves). Read from the rendered pixels.
  void aLabelNeverHidesARunsLine() {
    const auto label_box = [](PlotPanel& p) {
      QCustomPlot* plot = p.chart(Chart::kAccuracy);
      for (int i = 0; i < plot->itemCount(); ++i) {
        auto* text = qobject_cast<QCPItemText*>(plot->item(i));
        if (text && text->visible()) {
          return QRectF(text->topLeft->pixelPosition(), text->bottomRight->pixelPosition());
        }
      }
      return QRectF();
    };
    // The run's line is drawn before the event comes, as in a live run or a comparison.
    const auto feed = [](PlotPanel& p, double accuracy) {
      p.resize(1200, 700);
      p.show();
      QVERIFY(QTest::qWaitForWindowExposed(&p));
      for (int it = 1; it <= 100; ++it) {
        p.addMetrics({{0.1 * it, it, "", "train_loss", 1.0},
                      {0.1 * it, it, "", "train_accuracy", accuracy}});
      }
      QTRY_VERIFY(!p.replotPending());
      QVERIFY(graphNamed(p.chart(Chart::kAccuracy), "train (batch)"));
      p.addEvents({RunEvent{5.0, 50, "", "plan_changed", "balanced plan: a | b"}});
      QTRY_VERIFY(!p.replotPending());
    };
    // Where the label lands (the layout depends on the chart's size, not on its data)...
    PlotPanel probe;
    feed(probe, 0.5);
    if (QTest::currentTestFailed()) return;
    const QRectF box = label_box(probe);
    QVERIFY(box.height() > 4);
    const double through_label =
        probe.chart(Chart::kAccuracy)->yAxis->pixelToCoord(box.center().y());
    // ... then a run whose training accuracy runs straight through it.
    PlotPanel p;
    feed(p, through_label);
    if (QTest::currentTestFailed()) return;
    QCustomPlot* plot = p.chart(Chart::kAccuracy);
    QCOMPARE(label_box(p), box);
    const QColor pen = graphNamed(plot, "train (batch)")->pen().color();
    const QImage image = plot->toPixmap().toImage();
    const int y = qRound(plot->yAxis->coordToPixel(through_label));
    // Along the label, the line's own colour on one of its three middle rows.
    for (int x = qRound(box.left()) + 2; x < qRound(box.right()) - 2; ++x) {
      int closest = 255;
      for (int dy = -1; dy <= 1; ++dy) {
        const QColor c = image.pixelColor(x, y + dy);
        closest = std::min(
            closest, std::max({std::abs(c.red() - pen.red()), std::abs(c.green() - pen.green()),
                               std::abs(c.blue() - pen.blue())}));
      }
      QVERIFY2(closest <= 40, qPrintable(QString("at x %1 the line is hidden (its nearest pixel "
                                                 "is %2 away from its pen)")
                                             .arg(x)
                                             .arg(closest)));
    }
  }
};

QTEST_MAIN(TstPlotMarkers)
#include "tst_plot_markers.moc"
