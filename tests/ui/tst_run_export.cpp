// "Export CSV" of a run folder written with core's RunLog: the long file equals metrics.csv byte
// for byte, the wide one has one column per metric with the values in the right cells, a cut last
// row is left out, and errors name the run folder or the output path and leave no file behind.
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include "core/runlog/run_log.h"
#include "ui/run_export.h"

using edgerig::MetricSample;
using edgerig::RunLog;
using edgerig::ui::CsvLayout;
using edgerig::ui::defaultExportName;
using edgerig::ui::exportRunCsv;

namespace {

QString writeRun(const QTemporaryDir& tmp) {
  const QString dir = tmp.filePath("20260101-120000-demo");
  auto log = RunLog::create(dir.toStdString(), "{\"name\": \"demo\"}");
  if (!log) qFatal("RunLog::create: %s", log.status().message().c_str());
  (*log)->append(std::vector<MetricSample>{{0.5, 1, "", "train_loss", 2.5},
                                           {0.5, 1, "dev0", "samples_per_s", 120},
                                           {0.5, 1, "dev1", "samples_per_s", 80},
                                           {0.5, 1, "dev1", "busy_s", 0.25},
                                           {1.0, 2, "", "train_loss", 1.75},
                                           {1.0, 2, "dev0", "samples_per_s", 130}});
  return dir;
}

QByteArray contents(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

}  // namespace

class TstRunExport : public QObject {
  Q_OBJECT

 private slots:
  void longIsTheRunsMetricsFile() {
    QTemporaryDir tmp;
    const QString run = writeRun(tmp);
    const QString out = tmp.filePath("long.csv");
    QFile::remove(out);
    QVERIFY(QFile(out).open(QIODevice::WriteOnly));  // an older export is replaced
    auto st = exportRunCsv(run, out, CsvLayout::kLong);
    QVERIFY2(st.isOk(), st.message().c_str());
    const QByteArray metrics = contents(run + "/metrics.csv");
    QVERIFY(metrics.startsWith("time_s,iteration,device,metric,value\n"));
    QCOMPARE(metrics.count('\n'), 7);
    QCOMPARE(contents(out), metrics);
  }

  void longLeavesOutACutLastRow() {
    QTemporaryDir tmp;
    const QString run = writeRun(tmp);
    const QByteArray whole = contents(run + "/metrics.csv");
    QFile f(run + "/metrics.csv");
    QVERIFY(f.open(QIODevice::Append));
    f.write("1.500,3,dev0,samp");
    f.close();
    const QString out = tmp.filePath("long.csv");
    QVERIFY(exportRunCsv(run, out, CsvLayout::kLong).isOk());
    QCOMPARE(contents(out), whole);
  }

  void wideHasAColumnPerMetric() {
    QTemporaryDir tmp;
    const QString run = writeRun(tmp);
    const QString out = tmp.filePath("wide.csv");
    auto st = exportRunCsv(run, out, CsvLayout::kWide);
    QVERIFY2(st.isOk(), st.message().c_str());
    const QStringList lines = QString::fromUtf8(contents(out)).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 6);
    QCOMPARE(lines[0], QString("time_s,iteration,device,train_loss,samples_per_s,busy_s"));
    QCOMPARE(lines[1], QString("0.500,1,,2.5,,"));
    QCOMPARE(lines[2], QString("0.500,1,dev0,,120,"));
    QCOMPARE(lines[3], QString("0.500,1,dev1,,80,0.25"));
    QCOMPARE(lines[4], QString("1.000,2,,1.75,,"));
    QCOMPARE(lines[5], QString("1.000,2,dev0,,130,"));
    // Nothing but the export is left in the folder (the temporary file was renamed).
    QCOMPARE(QDir(tmp.path()).entryList(QDir::Files), QStringList({"wide.csv"}));
  }

  void namesAMissingRunFolder() {
    QTemporaryDir tmp;
    const QString missing = tmp.filePath("no-such-run");
    const QString out = tmp.filePath("x.csv");
    for (auto layout : {CsvLayout::kLong, CsvLayout::kWide}) {
      auto st = exportRunCsv(missing, out, layout);
      QVERIFY(!st.isOk());
      QVERIFY2(QString::fromStdString(st.message()).startsWith(missing), st.message().c_str());
      QVERIFY(!QFile::exists(out));
    }
    const QString empty = tmp.filePath("empty");
    QVERIFY(QDir().mkpath(empty));
    auto st = exportRunCsv(empty, out, CsvLayout::kWide);
    QCOMPARE(QString::fromStdString(st.message()), empty + ": not a run folder: no metrics.csv");
  }

  void namesAnUnwritableOutput() {
    QTemporaryDir tmp;
    const QString run = writeRun(tmp);
    const QString out = tmp.filePath("missing-folder/metrics.csv");
    for (auto layout : {CsvLayout::kLong, CsvLayout::kWide}) {
      auto st = exportRunCsv(run, out, layout);
      QVERIFY(!st.isOk());
      QVERIFY2(QString::fromStdString(st.message()).contains(out), st.message().c_str());
      QVERIFY(!QFile::exists(out));
    }
    // An output that cannot be replaced (a folder of that name): no half file left behind.
    const QString blocked = tmp.filePath("out/blocked.csv");
    QVERIFY(QDir().mkpath(blocked));
    for (auto layout : {CsvLayout::kLong, CsvLayout::kWide}) {
      auto st = exportRunCsv(run, blocked, layout);
      QVERIFY(!st.isOk());
      QVERIFY2(QString::fromStdString(st.message()).contains(blocked), st.message().c_str());
      QCOMPARE(QDir(tmp.filePath("out")).entryList(QDir::AllEntries | QDir::NoDotAndDotDot),
               QStringList({"blocked.csv"}));
    }
  }

  void suggestsAFileName() {
    QCOMPARE(defaultExportName("/data/runs/20260101-120000-demo", CsvLayout::kLong),
             QString("20260101-120000-demo-long.csv"));
    QCOMPARE(defaultExportName("/data/runs/20260101-120000-demo/", CsvLayout::kWide),
             QString("20260101-120000-demo-wide.csv"));
  }
};

QTEST_MAIN(TstRunExport)
#include "tst_run_export.moc"
