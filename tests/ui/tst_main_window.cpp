// The window without a run: opening experiments (errors name the file and the field), the
// panels it fills from the model, and a start that fails validation without starting anything.
#include <QAction>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include "core/model/layer_info.h"
#include "ui/main_window.h"
#include "ui/partition_strip.h"
#include "ui/run_session.h"
#include "ui/run_status_line.h"

using edgerig::ui::MainWindow;

namespace {

QString writeFile(const QTemporaryDir& dir, const QString& name, const QByteArray& text) {
  const QString path = dir.filePath(name);
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
  f.write(text);
  return path;
}

}  // namespace

class TstMainWindow : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); }  // keep user settings out

  void freshWindowShowsItsExperimentEverywhere() {
    // Before any file is opened, the panels agree on the default experiment.
    MainWindow w;
    auto layers = edgerig::describeModel(w.experiment().model);
    QVERIFY(layers.isOk());
    QVERIFY(w.partition()->layers() == *layers);
    QVERIFY(w.windowTitle().contains(QString::fromStdString(w.experiment().name)));
  }

  void opensAnExperiment() {
    QTemporaryDir dir;
    MainWindow w;
    const QString path = writeFile(dir, "two.json", R"({
      "name": "two-devices",
      "devices": {"localCount": 2},
      "model": {"name": "mlp"},
      "dataset": {"name": "synthetic"},
      "algorithm": {"name": "gpipe", "microBatches": 2}
    })");
    auto st = w.openExperiment(path);
    QVERIFY2(st.isOk(), st.message().c_str());
    QCOMPARE(w.experiment().name, std::string("two-devices"));
    QCOMPARE(w.experiment().local_count, 2);
    QVERIFY(w.windowTitle().contains("two-devices"));
    QVERIFY(w.partition()->layerCount() > 0);
    QVERIFY(w.statusLine()->text().startsWith("idle"));
  }

  void partitionFollowsTheModel() {
    // Every pair of models in the zoo, in both orders: the strip shows the chosen model's
    // layers (names and shapes). (The zoo has no two models with as many layers, the case the
    // strip once missed; the comparison is of the layers themselves now.)
    MainWindow w;
    const std::vector<std::string> models = {"mlp", "cnn", "lenet5", "vgg"};
    for (const auto& from : models) {
      for (const auto& to : models) {
        auto c = w.experiment();
        c.model = from;
        w.setExperiment(c, "edited");
        c.model = to;
        w.setExperiment(c, "edited");
        auto want = edgerig::describeModel(to);
        QVERIFY(want.isOk());
        QVERIFY2(w.partition()->layers() == *want, (from + " → " + to).c_str());
      }
    }
  }

  void proposedCutsSayWhenTheRunWillCutElsewhere() {
    // Before a run the strip proposes the even cuts by count. Only plan "even" will use them;
    // the other plans cut from the profile at the start, and the strip must not name stages it
    // does not know. Explicit cuts are what the run uses.
    QTemporaryDir dir;
    MainWindow w;
    auto open = [&](const char* algorithm) {
      const QString path = writeFile(dir, "p.json",
                                     QString(R"({"devices": {"localCount": 2},
                                               "model": {"name": "vgg"},
                                               "algorithm": %1})")
                                         .arg(algorithm)
                                         .toUtf8());
      auto st = w.openExperiment(path);
      QVERIFY2(st.isOk(), st.message().c_str());
      QVERIFY(!w.partition()->proposedCuts().empty());
    };
    open(R"({"name": "gpipe", "plan": "even"})");
    QVERIFY(w.partition()->proposalNote().isEmpty());
    open(R"({"name": "gpipe", "plan": "balanced"})");
    QVERIFY2(w.partition()->proposalNote().contains("plan balanced"),
             qPrintable(w.partition()->proposalNote()));
    open(R"({"name": "gpipe", "plan": "even-cost"})");
    QVERIFY(w.partition()->proposalNote().contains("plan even-cost"));
    open(R"({"name": "gpipe", "plan": "balanced", "cuts": [5]})");
    QVERIFY(w.partition()->proposalNote().isEmpty());
    QCOMPARE(w.partition()->proposedCuts(), std::vector<int>{5});
  }

  void errorsNameTheFileAndField() {
    QTemporaryDir dir;
    MainWindow w;
    const auto before = w.experiment();
    const QString bad = writeFile(dir, "bad.json", R"({"training": {"batchSize": "x"}})");
    auto st = w.openExperiment(bad);
    QVERIFY(!st.isOk());
    const QString msg = QString::fromStdString(st.message());
    QVERIFY2(msg.contains("bad.json") && msg.contains("batchSize"), qPrintable(msg));
    QVERIFY(w.experiment() == before);  // a bad file changes nothing

    st = w.openExperiment(dir.filePath("missing.json"));
    QVERIFY(!st.isOk());
    QVERIFY(QString::fromStdString(st.message()).contains("missing.json"));
  }

  void startRefusesAnInvalidExperiment() {
    MainWindow w;
    auto c = w.experiment();
    c.algorithm.params.set("microBatches", int64_t{0});
    w.setExperiment(c, "edited");
    auto st = w.startRun();
    QVERIFY(!st.isOk());
    QVERIFY2(QString::fromStdString(st.message()).contains("microBatches"), st.message().c_str());
    QVERIFY(!w.session()->running());
  }
};

QTEST_MAIN(TstMainWindow)
#include "tst_main_window.moc"
