// A run folder written with core's RunLog, opened again: the same events and metrics, devices
// with their last stages and a lost one marked, the last plan, the experiment (or why it did not
// parse), a run cut mid-row, a folder that is not a run, and feed() filling the plots.
#include <qcustomplot.h>

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include "core/experiment/experiment.h"
#include "core/runlog/run_log.h"
#include "ui/plot_panel.h"
#include "ui/run_replay.h"

using edgerig::DeviceState;
using edgerig::MetricSample;
using edgerig::PartitionRecord;
using edgerig::RunEvent;
using edgerig::RunLog;
using edgerig::ui::PlotPanel;
using edgerig::ui::RunReplay;

namespace {

struct Script {
  std::vector<RunEvent> events;
  std::vector<MetricSample> metrics;
  std::vector<PartitionRecord> partitions;
};

// Three devices; an even 3-stage plan, dev1 slowed and then lost, a 2-stage re-plan and a switch
// to ftpipehd. Values are exact in the run folder's float printing.
Script script() {
  Script s;
  for (int d = 0; d < 3; ++d) {
    const std::string name = "dev" + std::to_string(d);
    s.events.push_back(
        {0.25 * d, 0, name, "device_joined", "local agent at 127.0.0.1:4000" + std::to_string(d)});
  }
  s.events.push_back(
      {1, 0, "", "run_started", "replay: gpipe, model mlp, synthetic", {{"algorithm", "gpipe"}}});
  s.partitions = {{1, 0, 0, "dev0", 0, 2, "fc1 relu1"},
                  {1, 0, 1, "dev1", 2, 4, "fc2 relu2"},
                  {1, 0, 2, "dev2", 4, 5, "fc3"}};
  s.events.push_back({1, 0, "", "plan_changed", "even plan: fc1 relu1 | fc2 relu2 | fc3"});
  for (int it = 1; it <= 40; ++it) {
    const double t = 1 + 0.25 * it;
    s.metrics.push_back({t, it, "", "train_loss", 2.0 - 0.03125 * it});
    for (int d = 0; d < 3; ++d) {
      if (d == 1 && it > 20) continue;  // dev1 goes silent, then is lost
      const std::string name = "dev" + std::to_string(d);
      s.metrics.push_back({t, it, name, "samples_per_s", 100.0 * (d + 1) + it});
      s.metrics.push_back({t, it, name, "busy_s", 0.125 * it});
      s.metrics.push_back({t, it, name, "idle_s", 0.125 * it});
      s.metrics.push_back({t, it, name, "bytes_sent_activation", 1024.0 * it});
      s.metrics.push_back({t, it, name, "bytes_out_per_s", 4096});
    }
  }
  s.events.push_back({3, 8, "dev1", "fault_applied", "injected slowdown x8"});
  s.events.push_back({7, 24, "dev1", "device_lost", "no heartbeat for 3.5 s"});
  s.partitions.push_back({7.5, 25, 0, "dev0", 0, 3, "fc1 relu1 fc2"});
  s.partitions.push_back({7.5, 25, 1, "dev2", 3, 5, "relu2 fc3"});
  s.events.push_back({7.5, 25, "", "plan_changed", "recovery plan: fc1 relu1 fc2 | relu2 fc3"});
  // The GUI reads the new algorithm from the event's fields, not from its prose.
  s.events.push_back({8,
                      30,
                      "",
                      "algorithm_switched",
                      "from gpipe (microBatches 4) to the next one (6 tensors carried over)",
                      {{"from", "gpipe"}, {"to", "ftpipehd"}}});
  s.events.push_back({11, 40, "", "run_finished", "ok"});
  return s;
}

QString writeRun(const QTemporaryDir& tmp, const QString& name, const std::string& config) {
  const QString dir = tmp.filePath(name);
  auto log = RunLog::create(dir.toStdString(), config);
  if (!log) qFatal("RunLog::create: %s", log.status().message().c_str());
  const Script s = script();
  for (const auto& e : s.events) (*log)->append(e);
  (*log)->append(s.metrics);
  for (const auto& p : s.partitions) (*log)->append(p);
  if (!(*log)->status()) qFatal("RunLog: %s", (*log)->status().message().c_str());
  return dir;
}

std::string experimentJson() {
  edgerig::ExperimentConfig c;
  c.name = "replay";
  c.local_count = 3;
  c.model = "mlp";
  c.dataset = "synthetic";
  c.synthetic_size = 256;
  return edgerig::toJson(c);
}

}  // namespace

class TstRunReplay : public QObject {
  Q_OBJECT

 private slots:
  void replaysWhatTheRunWrote() {
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString dir = writeRun(tmp, "run", experimentJson());
    auto r = RunReplay::load(dir);
    QVERIFY2(r.isOk(), r.status().message().c_str());
    const Script s = script();
    QVERIFY(r->events() == s.events);
    QVERIFY(r->metrics() == s.metrics);
    QVERIFY(r->partitions() == s.partitions);
    QVERIFY2(r->config().has_value(), r->configError().c_str());
    QCOMPARE(QString::fromStdString(r->config()->name), QString("replay"));
    QCOMPARE(r->durationS(), 11.0);
    QCOMPARE(r->lastIteration(), int64_t{40});

    const auto& devices = r->devices();
    QCOMPARE(devices.size(), size_t{3});
    for (int d = 0; d < 3; ++d) {
      QCOMPARE(devices[d].index, d);
      QCOMPARE(QString::fromStdString(devices[d].name), QString("dev%1").arg(d));
      QCOMPARE(QString::fromStdString(devices[d].address), QString("127.0.0.1:4000%1").arg(d));
      QVERIFY(devices[d].local);
    }
    QCOMPARE(devices[0].state, DeviceState::kReady);
    QCOMPARE(devices[1].state, DeviceState::kLost);
    QCOMPARE(devices[2].state, DeviceState::kReady);
    QCOMPARE(QString::fromStdString(devices[1].faults), QString("injected slowdown x8"));
    // Stages from the last plan: dev1 holds none after the recovery.
    QCOMPARE(devices[0].stage, 0);
    QCOMPARE(devices[0].first_layer, 0);
    QCOMPARE(devices[0].last_layer, 3);
    QCOMPARE(devices[1].stage, -1);
    QCOMPARE(devices[2].stage, 1);
    QCOMPARE(devices[2].first_layer, 3);
    QCOMPARE(devices[2].last_layer, 5);
    // The last measurements.
    QCOMPARE(devices[0].samples_per_s, 140.0);
    QCOMPARE(devices[1].samples_per_s, 220.0);
    QCOMPARE(devices[2].busy_s, 5.0);
    QCOMPARE(devices[2].bytes_out_per_s, 4096.0);

    const auto& plan = r->plan();
    QCOMPARE(plan.stage_first_layer, std::vector<int>({0, 3}));
    QCOMPARE(plan.device_of_stage, std::vector<int>({0, 2}));
    QCOMPARE(QString::fromStdString(plan.algorithm), QString("ftpipehd"));
    QCOMPARE(QString::fromStdString(plan.why), QString("recovery plan"));
  }

  void keepsAConfigThatDoesNotParse() {
    QTemporaryDir tmp;
    const std::string bad = "{\"name\": \"old\", \"warpDrive\": 9}";
    auto r = RunReplay::load(writeRun(tmp, "run", bad));
    QVERIFY2(r.isOk(), r.status().message().c_str());
    QVERIFY(!r->config().has_value());
    QCOMPARE(QString::fromStdString(r->configJson()).trimmed(), QString::fromStdString(bad));
    QVERIFY2(QString::fromStdString(r->configError()).contains("warpDrive"),
             r->configError().c_str());
    QCOMPARE(QString::fromStdString(r->plan().algorithm), QString("ftpipehd"));
    QCOMPARE(r->events().size(), script().events.size());
  }

  // The status line's numbers for a replayed run: where it ended, of how many iterations.
  void progressSaysWhereTheRunEnded() {
    QTemporaryDir tmp;
    auto r = RunReplay::load(writeRun(tmp, "run", experimentJson()));
    QVERIFY2(r.isOk(), r.status().message().c_str());
    auto p = r->progress();
    QCOMPARE(p.iteration, int64_t{40});
    QCOMPARE(p.total_iterations, int64_t{40});  // no plan in the folder: its last iteration
    QCOMPARE(QString::fromStdString(p.algorithm), QString("ftpipehd"));  // switched at 30
    QCOMPARE(p.elapsed_s, 11.0);
    QCOMPARE(p.test_accuracy, -1.0);
    QCOMPARE(p.train_loss, 0.75);

    // A run stopped at 40 of the 100 its training_started planned, evaluated twice.
    auto planned = [&](const QString& name, const std::string& iterations) {
      const QString dir = tmp.filePath(name);
      auto log = RunLog::create(dir.toStdString(), experimentJson());
      if (!log) qFatal("RunLog::create: %s", log.status().message().c_str());
      (*log)->append(RunEvent{1, 0, "", "run_started", "allreduce", {{"algorithm", "allreduce"}}});
      (*log)->append(
          RunEvent{1, 0, "", "training_started", "planned", {{"iterations", iterations}}});
      std::vector<MetricSample> metrics;
      for (int it = 1; it <= 40; ++it) {
        metrics.push_back({1 + 0.25 * it, it, "", "train_loss", 1.0});
        metrics.push_back({1 + 0.25 * it, it, "", "epoch", it / 32.0});
        if (it % 20 == 0) metrics.push_back({1 + 0.25 * it, it, "", "test_accuracy", it / 48.0});
      }
      (*log)->append(metrics);
      if (!(*log)->status()) qFatal("RunLog: %s", (*log)->status().message().c_str());
      auto replay = RunReplay::load(dir);
      if (!replay) qFatal("RunReplay::load: %s", replay.status().message().c_str());
      return replay->progress();
    };
    p = planned("stopped", "100");
    QCOMPARE(p.iteration, int64_t{40});
    QCOMPARE(p.total_iterations, int64_t{100});
    QCOMPARE(QString::fromStdString(p.algorithm), QString("allreduce"));
    QCOMPARE(p.epoch, 1.25);
    QCOMPARE(p.test_accuracy, 40 / 48.0);
    // A field that is not a number is ignored, not thrown at the user.
    QCOMPARE(planned("garbled", "100x").total_iterations, int64_t{40});
  }

  void replaysARunCutMidRow() {
    QTemporaryDir tmp;
    const QString dir = writeRun(tmp, "run", experimentJson());
    QFile metrics(dir + "/metrics.csv");
    QVERIFY(metrics.open(QIODevice::Append));
    metrics.write("11.250,41,dev0,samples_p");  // the crash came mid-write
    metrics.close();
    auto r = RunReplay::load(dir);
    QVERIFY2(r.isOk(), r.status().message().c_str());
    QVERIFY(r->metrics() == script().metrics);
  }

  void refusesAFolderThatIsNotARun() {
    QTemporaryDir tmp;
    const QString empty = tmp.filePath("empty");
    QVERIFY(QDir().mkpath(empty));
    auto r = RunReplay::load(empty);
    QVERIFY(!r.isOk());
    QCOMPARE(QString::fromStdString(r.status().message()),
             empty + ": not a run folder: no metrics.csv");
    const QString missing = tmp.filePath("nope");
    auto m = RunReplay::load(missing);
    QVERIFY(!m.isOk());
    QVERIFY(QString::fromStdString(m.status().message()).startsWith(missing + ": no such folder"));
    // A bad row is named with its file and line.
    const QString dir = writeRun(tmp, "run", experimentJson());
    QFile metrics(dir + "/metrics.csv");
    QVERIFY(metrics.open(QIODevice::Append));
    metrics.write("x,1,dev0,samples_per_s,3\n12.000,2,dev0,samples_per_s,4\n");
    metrics.close();
    auto b = RunReplay::load(dir);
    QVERIFY(!b.isOk());
    QVERIFY2(QString::fromStdString(b.status().message()).contains("metrics.csv line"),
             b.status().message().c_str());
  }

  void feedsThePlots() {
    QTemporaryDir tmp;
    auto r = RunReplay::load(writeRun(tmp, "run", experimentJson()));
    QVERIFY(r.isOk());
    PlotPanel p;
    p.addMetrics({{0.5, 1, "", "test_loss", 9}});  // from another run: replaced
    QTRY_VERIFY(!p.replotPending());
    const int before = p.replotCount();
    r->feed(p);
    QTRY_VERIFY(!p.replotPending());
    QCOMPARE(p.replotCount(), before + 1);  // everything in one replot
    QCOMPARE(p.pointCount("test_loss", ""), size_t{0});
    QCOMPARE(p.pointCount("train_loss", ""), size_t{40});
    QCOMPARE(p.pointCount("samples_per_s", "dev0"), size_t{40});
    QCOMPARE(p.pointCount("samples_per_s", "dev1"), size_t{20});
    QCOMPARE(p.pointCount("busy_percent", "dev2"), size_t{39});
    QVERIFY(p.pointCount("bytes_sent_activation_per_s", "") > 0);
    // fault, loss, two plan changes and the switch; joins, start and finish are not markers.
    QCOMPARE(p.markerCount(), 5);
  }

  void replaysALongRunWhole() {
    // Longer than the live window: the replay still starts at iteration 1.
    const int n = static_cast<int>(PlotPanel::kMaxPointsPerSeries) * 2 + 10;
    QTemporaryDir tmp;
    const QString dir = tmp.filePath("long");
    auto log = RunLog::create(dir.toStdString(), experimentJson());
    QVERIFY(log.isOk());
    std::vector<MetricSample> ms;
    for (int it = 1; it <= n; ++it) ms.push_back({0.1 * it, it, "", "train_loss", 1.0 / it});
    (*log)->append(ms);
    QVERIFY((*log)->status().isOk());
    log->reset();
    auto r = RunReplay::load(dir);
    QVERIFY2(r.isOk(), r.status().message().c_str());
    PlotPanel p;
    r->feed(p);
    QTRY_VERIFY(!p.replotPending());
    QCOMPARE(p.pointCount("train_loss", ""), static_cast<size_t>(n));
    auto* graph = p.chart(edgerig::ui::Chart::kLoss)->graph(0);
    QCOMPARE(graph->data()->size(), n);
    QCOMPARE(graph->data()->constBegin()->key, 1.0);
    // ... and is all in view, not the live window's tail of the last 2000 iterations.
    QVERIFY(!p.followTail());
    QVERIFY(p.chart(edgerig::ui::Chart::kLoss)->xAxis->range().lower <= 1.0);
    QVERIFY(p.chart(edgerig::ui::Chart::kLoss)->xAxis->range().upper >= n);
    // A live run after it is back to the sliding window.
    p.clear();
    for (int it = 1; it <= n; ++it) p.addMetrics({{0.1 * it, it, "", "train_loss", 1.0}});
    QVERIFY(p.pointCount("train_loss", "") <= PlotPanel::kMaxPointsPerSeries);
  }
};

QTEST_MAIN(TstRunReplay)
#include "tst_run_replay.moc"
