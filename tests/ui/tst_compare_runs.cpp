// The control room comparing runs: three replayed run folders overlaid give three coloured series
// per chart, named by run, and a three-row table whose Export CSV is byte for byte the summary
// edgerig-run compare --from writes for the same folders; markers hide per run; the x axis
// switches to wall time; a decentralized run's averaged model is a dashed second line on the
// accuracy chart; a comparison folder opens as its runs; long runs are decimated to the
// pixels (per-pixel min/max, extremes kept) and decimated again on a zoom.
#include <qcustomplot.h>

#include <QDialogButtonBox>
#include <QListWidget>
#include <QProcess>
#include <QPushButton>
#include <QSet>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "tests/support/fake_run.h"
#include "ui/compare_dialog.h"
#include "ui/compare_panel.h"
#include "ui/compare_series.h"
#include "ui/main_window.h"
#include "ui/plot_panel.h"

using edgerig::RunEvent;
using edgerig::testsupport::FakeRun;
using edgerig::ui::Chart;
using edgerig::ui::CompareDialog;
using edgerig::ui::ComparePanel;
using edgerig::ui::MainWindow;
using edgerig::ui::PlotPanel;

namespace {

std::string config(const char* plan) {
  return std::string(R"({"name": "cmp", "seed": 1, "algorithm": {"name": "gpipe", "plan": ")") +
         plan + R"("}})";
}

// Three runs of the same experiment: `even` slow, `balanced` 4x faster with a fault and a
// re-plan, `cuts` in between.
QStringList writeRuns(const QTemporaryDir& tmp, const QString& under = {}) {
  const QString root = under.isEmpty() ? tmp.path() : tmp.filePath(under);
  QStringList dirs;
  const char* plans[] = {"even", "balanced", "cuts"};
  const double seconds[] = {0.2, 0.05, 0.1};
  for (int r = 0; r < 3; ++r) {
    FakeRun f;
    f.config_json = config(plans[r]);
    f.seconds_per_iteration = seconds[r];
    f.iterations = 120;
    f.accuracy = [r](int64_t it) { return (0.6 + 0.1 * r) * static_cast<double>(it) / 120.0; };
    if (r == 1) {
      f.extra_events = {{2.0, 20, "dev1", "fault_applied", "injected slowdown x4"},
                        {3.0, 40, "", "plan_changed", "re-plan: a | b"}};
    }
    const QString dir = root + "/" + plans[r];
    const auto st = edgerig::testsupport::writeFakeRun(dir.toStdString(), f);
    if (!st) qFatal("writeFakeRun: %s", st.message().c_str());
    dirs << dir;
  }
  return dirs;
}

QByteArray slurp(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

}  // namespace

class TstCompareRuns : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    qputenv("XDG_CONFIG_HOME", QDir::temp().filePath("edgerig-tst-compare-runs").toUtf8());
  }

  void overlaysThreeRunsWithATableThatExportsTheHeadlessSummary() {
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QStringList dirs = writeRuns(tmp);
    MainWindow w;
    w.resize(1600, 1000);
    w.show();
    const auto st = w.compareRuns(dirs);
    QVERIFY2(st.isOk(), st.message().c_str());
    PlotPanel* plots = w.plots();
    QVERIFY(plots->comparing());
    QTRY_VERIFY(!plots->replotPending());
    for (int c = 0; c < edgerig::ui::kChartCount; ++c) {
      QCustomPlot* chart = plots->chart(static_cast<Chart>(c));
      QCOMPARE(chart->graphCount(), 3);
      QSet<QRgb> colours;
      QStringList names;
      for (int g = 0; g < 3; ++g) {
        colours.insert(chart->graph(g)->pen().color().rgb());
        names << chart->graph(g)->name();
      }
      QCOMPARE(colours.size(), 3);  // one colour per run, not per device
      QCOMPARE(names, (QStringList{"even", "balanced", "cuts"}));
      QCOMPARE(chart->legend->itemCount(), 3);
    }
    // Drawn points are the runs' own: the fastest run ends earliest in wall time.
    auto* accuracy = plots->chart(Chart::kAccuracy);
    QCOMPARE(accuracy->graph(0)->data()->size(), 6);  // evaluations every 20 iterations
    QCOMPARE(accuracy->graph(0)->data()->at(5)->key, 120.0);

    // The table beneath: three rows, the summary's columns, and the same CSV as the headless tool.
    ComparePanel* panel = w.comparePanel();
    QVERIFY(panel->isVisible());
    QCOMPARE(panel->model()->rowCount(), 3);
    QCOMPARE(panel->model()->headerData(2, Qt::Horizontal, Qt::DisplayRole).toString(),
             QString("algorithm.plan"));
    const QString exported = tmp.filePath("exported.csv");
    QVERIFY(panel->exportCsv(exported).isOk());
    QProcess headless;
    const QString out = tmp.filePath("headless");
    headless.start(qEnvironmentVariable("EDGERIG_RUN"),
                   QStringList{"compare", "--from"} + dirs + QStringList{"--out", out});
    QVERIFY2(headless.waitForFinished(60000), "edgerig-run compare --from did not finish");
    QVERIFY2(headless.exitCode() == 0, headless.readAllStandardError().constData());
    const QByteArray summary = slurp(out + "/summary.csv");
    QVERIFY(!summary.isEmpty());
    QCOMPARE(slurp(exported), summary);

    // Markers are what the summary counts: the balanced run's fault and re-plan, not the first
    // plan every run has. They hide per run.
    QCOMPARE(plots->markerCount(), 2);
    QCOMPARE(plots->visibleMarkerCount(), 2);
    QVERIFY(plots->runMarkersVisible(1));
    QVERIFY(
        panel->model()->setData(panel->model()->index(1, 0), Qt::Unchecked, Qt::CheckStateRole));
    QVERIFY(!plots->runMarkersVisible(1));
    QCOMPARE(plots->visibleMarkerCount(), 0);
    QVERIFY(plots->runMarkersVisible(0));
    QVERIFY(panel->model()->setData(panel->model()->index(1, 0), Qt::Checked, Qt::CheckStateRole));
    QCOMPARE(plots->visibleMarkerCount(), 2);

    // Wall time on the x axis: the last evaluation of `even` is at 1 + 120 x 0.2 s.
    plots->setXAxis(PlotPanel::XAxis::kWallTime);
    QTRY_VERIFY(!plots->replotPending());
    QCOMPARE(accuracy->graph(0)->data()->at(5)->key, 25.0);
    QCOMPARE(accuracy->graph(1)->data()->at(5)->key, 7.0);
    QVERIFY(accuracy->xAxis->range().contains(25.0));

    // Closing the comparison gives the single-run charts back.
    w.endComparison();
    QVERIFY(!plots->comparing());
    QVERIFY(!panel->isVisible());
    QCOMPARE(accuracy->graphCount(), 0);
  }

  void aDecentralizedRunsAveragedModelIsItsSecondLineOnTheAccuracyChart() {
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    QStringList dirs;
    for (const char* name : {"pipeline", "gossip"}) {
      FakeRun f;
      f.config_json = config(name);
      f.iterations = 60;
      if (std::string(name) == "gossip") {
        f.averaged_accuracy = [](int64_t it) { return 0.5 + static_cast<double>(it) / 200.0; };
      }
      dirs << tmp.filePath(name);
      const auto st = edgerig::testsupport::writeFakeRun(dirs.back().toStdString(), f);
      QVERIFY2(st.isOk(), st.message().c_str());
    }
    MainWindow w;
    w.resize(1600, 1000);
    w.show();
    const auto st = w.compareRuns(dirs);
    QVERIFY2(st.isOk(), st.message().c_str());
    PlotPanel* plots = w.plots();
    QTRY_VERIFY(!plots->replotPending());
    auto* accuracy = plots->chart(Chart::kAccuracy);
    QCOMPARE(accuracy->graphCount(), 3);
    QCOMPARE(accuracy->graph(2)->name(), QString("gossip avg model"));
    QCOMPARE(accuracy->graph(2)->pen().style(), Qt::DashLine);
    QCOMPARE(accuracy->graph(2)->pen().color(), accuracy->graph(1)->pen().color());
    QCOMPARE(accuracy->graph(1)->pen().style(), Qt::SolidLine);
    // Its points are the averaged model's evaluations (every 20 iterations and at the end).
    QCOMPARE(accuracy->graph(2)->data()->size(), 3);
    QCOMPARE(accuracy->graph(2)->data()->at(2)->key, 60.0);
    QCOMPARE(accuracy->graph(2)->data()->at(2)->value, 0.8);
    // The other charts keep one line a run.
    QCOMPARE(plots->chart(Chart::kLoss)->graphCount(), 2);
  }

  void opensAComparisonFolderAsItsRuns() {
    QTemporaryDir tmp;
    const QStringList dirs = writeRuns(tmp, "comparison");
    // summary.csv's order (the baseline first), not the folders' alphabetical order.
    QFile summary(tmp.filePath("comparison/summary.csv"));
    QVERIFY(summary.open(QIODevice::WriteOnly));
    summary.write("run,status\neven,finished\nbalanced,finished\ncuts,finished\n");
    summary.close();
    MainWindow w;
    QVERIFY(w.compareRuns({tmp.filePath("comparison")}).isOk());
    const auto& rows = w.comparePanel()->model()->comparison().rows;
    QCOMPARE(rows.size(), size_t{3});
    QCOMPARE(QString::fromStdString(rows[0].run), QString("even"));
    QCOMPARE(QString::fromStdString(rows[1].run), QString("balanced"));
    // One folder is not a comparison.
    QVERIFY(!w.compareRuns({dirs[0]}).isOk());
    QVERIFY(!w.compareRuns({tmp.filePath("nothing")}).isOk());
  }

  void theDialogOffersThisWindowsRunsAndFoldersFromDisk() {
    QTemporaryDir tmp;
    const QStringList dirs = writeRuns(tmp, "comparison");  // even, balanced, cuts
    CompareDialog dialog({dirs[0]}, tmp.path());
    QPushButton* ok = dialog.findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
    QVERIFY(dialog.chosen().isEmpty());  // this window's runs are offered, not ticked
    QVERIFY(!ok->isEnabled());
    // A comparison folder adds its runs, ticked (by name: it has no summary.csv).
    dialog.addFolders({tmp.filePath("comparison")});
    const QString root = QDir::cleanPath(tmp.filePath("comparison"));
    QCOMPARE(dialog.chosen(), (QStringList{root + "/balanced", root + "/cuts", root + "/even"}));
    QVERIFY(ok->isEnabled());
    // A folder that is no run says so in the list and cannot be ticked.
    dialog.addFolders({tmp.filePath("nothing")});
    QCOMPARE(dialog.chosen().size(), 3);
    auto* list = dialog.findChild<QListWidget*>("compareRunList");
    QVERIFY(list->item(list->count() - 1)->text().contains("no such folder"));
  }

  void decimatesLongRunsToThePixels() {
    PlotPanel p;
    p.resize(1500, 900);
    p.show();
    QVERIFY(QTest::qWaitForWindowExposed(&p));
    // 10,000 iterations of a noisy loss with one spike: drawn as a min/max per pixel.
    PlotPanel::OverlayRun run;
    run.name = "long";
    run.color = Qt::blue;
    auto& loss = run.lines[static_cast<size_t>(Chart::kLoss)];
    loss.metric = "train_loss";
    for (int it = 1; it <= 10000; ++it) {
      const double v = it == 7777 ? 50.0 : 1.0 + 0.5 * std::sin(it * 0.7);
      loss.points.push_back({0.1 * it, static_cast<double>(it), v});
    }
    p.showRuns({run});
    p.replotAllNow();
    QCustomPlot* chart = p.chart(Chart::kLoss);
    QCPGraph* g = chart->graph(0);
    const int pixels = chart->axisRect()->width();
    QVERIFY(pixels > 100);
    // Two points per pixel, give or take the 25 % a zoom or a resize may drift before the data
    // is decimated again.
    QVERIFY2(g->data()->size() <= 2.5 * pixels + 4,
             qPrintable(QString("%1 points for %2 pixels").arg(g->data()->size()).arg(pixels)));
    QVERIFY(g->data()->size() >= pixels);  // not thinned below the pixels either
    double top = 0;
    for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it) {
      top = std::max(top, it->value);
    }
    QCOMPARE(top, 50.0);  // the spike survives
    QCOMPARE(g->data()->constBegin()->key, 1.0);
    QCOMPARE((g->data()->constEnd() - 1)->key, 10000.0);
    // A zoom to a tenth decimates again: the range in view gets its ~2 points per pixel (it had
    // a tenth of that).
    auto inView = [g] {
      int n = 0;
      for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it) {
        n += it->key >= 5000 && it->key <= 6000;
      }
      return n;
    };
    QVERIFY(inView() < 0.3 * pixels);
    chart->xAxis->setRange(5000, 6000);
    QVERIFY2(inView() >= 1.5 * pixels && inView() <= 2.5 * pixels + 4,
             qPrintable(QString("%1 points for %2 pixels").arg(inView()).arg(pixels)));
  }

  void decimationKeepsEachPixelsExtremesInOrder() {
    std::vector<edgerig::ui::PlotPoint> pts;
    const double values[] = {5, 1, 9, 3, /*next bin*/ 2, 2, /*next*/ 7};
    for (int i = 0; i < 7; ++i)
      pts.push_back({0, static_cast<double>(i < 4 ? i : i < 6 ? 4 + (i - 4) * 0.5 : 8), values[i]});
    QVector<double> keys, vals;
    edgerig::ui::decimateMinMax(pts, /*by_iteration=*/true, /*bin_width=*/4, 1.0, &keys, &vals);
    // Bin [0,4): first 5, min 1, max 9 (3 dropped); bin [4,8): 2 (once); bin [8,12): 7.
    QCOMPARE(vals, (QVector<double>{5, 1, 9, 2, 7}));
    QCOMPARE(keys, (QVector<double>{0, 1, 2, 4, 8}));
  }
};

QTEST_MAIN(TstCompareRuns)
#include "tst_compare_runs.moc"
