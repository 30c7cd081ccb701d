// End to end: edgegossip on three real local agents of speeds 1, 1 and 1/4, its updates fed live to
// the plots as the window feeds them. Each device's local batch, its iteration time and the run's
// exchange period are drawn, point for point what the run folder's metrics.csv holds; the batches
// of a round add up to the global batch; the re-plan and the change of period are markers. The
// Devices table's local batch column and the topology's nodes, fed the same live metrics, show
// each device's last local_batch of metrics.csv. The same folder opened again (Open run) draws
// the same, and its wide CSV export has the columns.
#include <qcustomplot.h>

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <map>
#include <set>

#include "core/runlog/run_reader.h"
#include "ui/device_table_model.h"
#include "ui/plot_panel.h"
#include "ui/run_export.h"
#include "ui/run_replay.h"
#include "ui/run_session.h"
#include "ui/topology_view.h"

using namespace edgerig;
using edgerig::ui::Chart;
using edgerig::ui::PlotPanel;

namespace {

constexpr int kDevices = 3;
constexpr int kBatch = 32;  // per device at the start: the global batch is 96

ExperimentConfig edgegossipRun() {
  ExperimentConfig c;
  c.name = "algorithm-charts";
  c.seed = 7;
  c.local_count = kDevices;
  c.model = "mlp";
  c.dataset = "synthetic";
  c.synthetic_size = 3000;
  c.test_limit = 300;
  c.split = "iid";
  c.batch_size = kBatch;
  c.learning_rate = 0.05;
  c.momentum = 0.9;
  c.max_iterations = 40;
  c.epochs = 0;
  c.eval_every = 10;
  c.eval_samples = 200;
  const double slowdown[kDevices] = {1, 1, 4};
  for (int d = 0; d < kDevices; ++d) {
    DeviceProfileConfig p;
    p.name = "dev" + std::to_string(d);
    p.slowdown = slowdown[d];
    c.profiles.push_back(p);
  }
  c.algorithm.name = "edgegossip";
  c.algorithm.params.set("graph", std::string("ring"));
  c.algorithm.params.set("measureEvery", int64_t{10});
  c.algorithm.params.set("minPeriod", int64_t{1});
  c.algorithm.params.set("maxPeriod", int64_t{4});
  return c;
}

// The rows of metrics.csv for `metric`, by device ("" for the run).
std::map<std::string, std::vector<MetricSample>> rowsOf(const RunData& run,
                                                        const std::string& metric) {
  std::map<std::string, std::vector<MetricSample>> out;
  for (const auto& m : run.metrics) {
    if (m.metric == metric) out[m.device].push_back(m);
  }
  return out;
}

QCPGraph* graphNamed(QCustomPlot* plot, const QString& name) {
  for (int g = 0; g < plot->graphCount(); ++g) {
    if (plot->graph(g)->name() == name) return plot->graph(g);
  }
  return nullptr;
}

QString markerText(QCustomPlot* plot) {
  QStringList labels;
  for (int i = 0; i < plot->itemCount(); ++i) {
    if (auto* text = qobject_cast<QCPItemText*>(plot->item(i))) labels << text->text();
  }
  return labels.join('\n');
}

// What a panel must show of the run folder `run`: every row of the three metrics as a point of
// its series on its chart, the last round's batches adding up to the global batch, and the
// events as markers.
void checkPanel(PlotPanel& p, const RunData& run) {
  p.replotAllNow();
  struct Expect {
    Chart chart;
    const char* metric;
    bool per_device;
  };
  for (const Expect& e : {Expect{Chart::kLocalBatch, "local_batch", true},
                          Expect{Chart::kIterationTime, "iteration_time", true},
                          Expect{Chart::kExchangePeriod, "exchange_period", false}}) {
    QVERIFY2(p.isChartShown(e.chart), e.metric);
    QVERIFY2(p.chart(e.chart)->isVisible(), e.metric);
    const auto rows = rowsOf(run, e.metric);
    QCOMPARE(rows.size(), static_cast<size_t>(e.per_device ? kDevices : 1));
    QCOMPARE(p.chart(e.chart)->graphCount(), static_cast<int>(rows.size()));
    for (const auto& [device, samples] : rows) {
      QVERIFY2(samples.size() >= 30, e.metric);
      QCOMPARE(p.pointCount(e.metric, device), samples.size());
      QCPGraph* g = e.per_device ? graphNamed(p.chart(e.chart), QString::fromStdString(device))
                                 : p.chart(e.chart)->graph(0);
      QVERIFY2(g, device.c_str());
      QCOMPARE(g->dataCount(), static_cast<int>(samples.size()));
      QCOMPARE(g->data()->at(g->dataCount() - 1)->value, samples.back().value);
    }
  }
  // The spread of the devices' round times as drawn at the last round: the slowest device's
  // median of its last kSpreadRounds over the fastest one's, from metrics.csv.
  {
    std::map<std::string, std::vector<double>> times;
    for (const auto& [device, samples] : rowsOf(run, "iteration_time")) {
      for (const auto& m : samples) times[device].push_back(m.value);
    }
    double lo = 1e300, hi = 0;
    for (auto& [device, v] : times) {
      constexpr auto kRounds = static_cast<std::ptrdiff_t>(ui::DerivedMetrics::kSpreadRounds);
      std::vector<double> last(v.end() - kRounds, v.end());
      std::sort(last.begin(), last.end());
      lo = std::min(lo, last[last.size() / 2]);
      hi = std::max(hi, last[last.size() / 2]);
    }
    QVERIFY(p.isChartShown(Chart::kIterationSpread));
    QCPGraph* spread = p.chart(Chart::kIterationSpread)->graph(0);
    QVERIFY(spread->dataCount() >= 30);
    QCOMPARE(spread->data()->at(spread->dataCount() - 1)->value, hi / lo);
  }
  // The last round's batches, as drawn, are the global batch, the slow device's the smallest.
  std::map<QString, double> batch;
  for (int d = 0; d < kDevices; ++d) {
    const QString name = QStringLiteral("dev%1").arg(d);
    QCPGraph* g = graphNamed(p.chart(Chart::kLocalBatch), name);
    QVERIFY(g);
    batch[name] = g->data()->at(g->dataCount() - 1)->value;
  }
  QCOMPARE(batch["dev0"] + batch["dev1"] + batch["dev2"], double{kDevices * kBatch});
  QVERIFY(batch["dev2"] < batch["dev0"] && batch["dev2"] < batch["dev1"]);
  // The re-plans and period changes the run logged are markers on the charts.
  int replans = 0, periods = 0;
  for (const auto& ev : run.events) {
    replans += ev.kind == "replanned";
    periods += ev.kind == "exchange_period_changed";
  }
  QVERIFY(replans >= 1);
  QVERIFY(periods >= 1);  // the first evaluation is always a rise: 1 -> 2
  const QString labels = markerText(p.chart(Chart::kLocalBatch));
  QCOMPARE(static_cast<int>(labels.count("re-plan")), replans);
  QCOMPARE(static_cast<int>(labels.count("exchange period")), periods);
  QVERIFY2(labels.contains("exchange period 2"), qPrintable(labels));
}

// The Devices table and the topology, fed the run's live metrics, show each device's last
// local_batch row of the folder `run`.
void checkLocalBatches(const ui::DeviceTableModel& table, const ui::TopologyView& topology,
                       const RunData& run) {
  QVERIFY(table.hasLocalBatch());
  const auto rows = rowsOf(run, "local_batch");
  QCOMPARE(table.rowCount(), kDevices);
  for (int row = 0; row < table.rowCount(); ++row) {
    const std::string name =
        table.data(table.index(row, ui::DeviceTableModel::kName), ui::DeviceTableModel::kRawRole)
            .toString()
            .toStdString();
    QVERIFY2(rows.count(name), name.c_str());
    const double last = rows.at(name).back().value;
    const QModelIndex cell = table.index(row, ui::DeviceTableModel::kLocalBatch);
    QCOMPARE(table.data(cell).toString(), QString::number(last, 'f', 0));
    QCOMPARE(table.data(cell, ui::DeviceTableModel::kRawRole).toDouble(), last);
    const int index = table.devices()[static_cast<size_t>(row)].index;
    QCOMPARE(topology.nodeCaption(index).section(QStringLiteral(" · "), 0, 0),
             QStringLiteral("batch %1").arg(last, 0, 'f', 0));
    QVERIFY(topology.nodeToolTip(index).contains(QStringLiteral("local batch %1").arg(last)));
  }
}

}  // namespace

class TstAlgorithmCharts : public QObject {
  Q_OBJECT

 private slots:
  void edgegossipLiveReplayedAndExported() {
    QTemporaryDir runs;
    QVERIFY(runs.isValid());
    ui::RunSession session;
    PlotPanel live;
    live.resize(1600, 1000);
    live.show();
    connect(&session, &ui::RunSession::metricsArrived, &live, &PlotPanel::addMetrics);
    connect(&session, &ui::RunSession::eventsArrived, &live, &PlotPanel::addEvents);
    connect(&session, &ui::RunSession::devicesChanged, &live, &PlotPanel::setDevices);
    // The Devices table and the topology, wired as the window wires them.
    ui::DeviceTableModel table;
    ui::TopologyView topology;
    connect(&session, &ui::RunSession::devicesChanged, &table,
            &ui::DeviceTableModel::updateDevices);
    connect(&session, &ui::RunSession::devicesChanged, &topology, &ui::TopologyView::setDevices);
    connect(&session, &ui::RunSession::metricsArrived, &table, &ui::DeviceTableModel::addMetrics);
    connect(&session, &ui::RunSession::metricsArrived, &topology, &ui::TopologyView::addMetrics);
    QSignalSpy finished(&session, &ui::RunSession::finished);
    auto st = session.start(edgegossipRun(), runs.path());
    QVERIFY2(st.isOk(), st.message().c_str());
    QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 150000);
    QTRY_VERIFY(!live.replotPending());
    const QString dir = session.runDir();
    auto run = readRun(dir.toStdString());
    QVERIFY2(run.isOk(), run.status().message().c_str());

    checkPanel(live, *run);
    if (QTest::currentTestFailed()) return;
    checkLocalBatches(table, topology, *run);
    if (QTest::currentTestFailed()) return;

    // Open run: the folder alone.
    auto replay = ui::RunReplay::load(dir);
    QVERIFY2(replay.isOk(), replay.status().message().c_str());
    PlotPanel replayed;
    replayed.resize(1600, 1000);
    replayed.show();
    replay->feed(replayed);
    QTRY_VERIFY(!replayed.replotPending());
    checkPanel(replayed, *run);
    if (QTest::currentTestFailed()) return;

    // The wide export: a column per metric, a cell per row of the folder.
    const QString wide = runs.filePath("wide.csv");
    st = ui::exportRunCsv(dir, wide, ui::CsvLayout::kWide);
    QVERIFY2(st.isOk(), st.message().c_str());
    QFile f(wide);
    QVERIFY(f.open(QIODevice::ReadOnly | QIODevice::Text));
    const QStringList header = QString::fromUtf8(f.readLine()).trimmed().split(',');
    std::map<std::string, int> cells;
    for (const char* metric : {"local_batch", "iteration_time", "exchange_period"}) {
      QVERIFY2(header.contains(metric), metric);
    }
    while (!f.atEnd()) {
      const QStringList row = QString::fromUtf8(f.readLine()).trimmed().split(',');
      for (const char* metric : {"local_batch", "iteration_time", "exchange_period"}) {
        const int column = static_cast<int>(header.indexOf(metric));
        if (column < row.size() && !row[column].isEmpty()) ++cells[metric];
      }
    }
    for (const char* metric : {"local_batch", "iteration_time", "exchange_period"}) {
      size_t rows = 0;
      for (const auto& [device, samples] : rowsOf(*run, metric)) rows += samples.size();
      QCOMPARE(static_cast<size_t>(cells[metric]), rows);
    }
  }
};

QTEST_MAIN(TstAlgorithmCharts)
#include "tst_algorithm_charts.moc"
