// The experiment form: files round-trip through save and open, bad files are named with their
// field, and the form's validation message names the field, marks its widget and clears.
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

#include "ui/experiment_form.h"
#include "ui_test_util.h"

using edgerig::AlgorithmConfig;
using edgerig::DeviceProfileConfig;
using edgerig::ExperimentConfig;
using edgerig::FaultConfig;
using edgerig::ui::ExperimentForm;

using edgerig::ui::test::child;

namespace {

// Every section of the file away from its default.
ExperimentConfig richConfig() {
  ExperimentConfig c;
  c.name = "round-trip";
  c.description = "all fields set";
  c.seed = 18446744073709551000ULL;
  c.local_count = 2;
  c.profiles = {DeviceProfileConfig{"fast", 1, 0, 0, 0, 0},
                DeviceProfileConfig{"", 2.5, 12, 3, 100, 0.01}};
  c.remote = {"[::1]:7001"};  // 3 devices: 3 stages for 2 cuts
  c.token_file = "/tmp/token";
  c.threads_per_agent = 2;
  c.model = "cnn";
  c.dataset = "synthetic";
  c.synthetic_size = 512;
  c.train_limit = 1000;
  c.test_limit = 200;
  c.algorithm.name = "gpipe";
  c.algorithm.params.set("microBatches", int64_t{8});
  c.algorithm.params.set("plan", std::string("balanced"));
  c.algorithm.params.set("cuts", edgerig::IntList{2, 5});
  c.split = "dirichlet";
  c.alpha = 0.25;
  c.classes_per_device = 3;
  c.batch_size = 32;
  c.learning_rate = 0.0125;
  c.momentum = 0.5;
  c.weight_decay = 1e-4;
  c.epochs = 0.25;
  c.max_iterations = 300;
  c.eval_every = 50;
  c.eval_samples = 100;
  c.max_seconds = 90;
  FaultConfig slow;
  slow.at_s = 5;
  slow.device = 1;
  slow.kind = "slowdown";
  slow.slowdown = 4;
  FaultConfig link;
  link.at_iteration = 120;
  link.device = 2;
  link.kind = "link";
  link.delay_ms = 30;
  link.jitter_ms = 2;
  link.bandwidth_mbps = 50;
  link.drop_probability = 0.05;
  c.faults = {slow, link};
  return c;
}

void writeFile(const QString& path, const QByteArray& text) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
  f.write(text);
}

}  // namespace

class TstExperimentForm : public QObject {
  Q_OBJECT

 private slots:
  void saveThenOpenGivesTheSameConfig() {
    QTemporaryDir dir;
    const QString path = dir.filePath("exp.json");
    const ExperimentConfig c = richConfig();
    QVERIFY(ExperimentForm::saveExperimentFile(c, path).isOk());
    QVERIFY(!QFile::exists(path + ".tmp"));
    auto back = ExperimentForm::openExperimentFile(path);
    QVERIFY2(back.isOk(), back.status().message().c_str());
    QVERIFY(*back == c);

    // Saving over an existing file replaces it whole.
    ExperimentConfig d = c;
    d.name = "second";
    d.faults.pop_back();
    QVERIFY(ExperimentForm::saveExperimentFile(d, path).isOk());
    back = ExperimentForm::openExperimentFile(path);
    QVERIFY(back.isOk());
    QVERIFY(*back == d);
  }

  void formPassesUntouchedConfigThrough() {
    ExperimentForm form;
    const ExperimentConfig c = richConfig();
    form.setConfig(c);
    QVERIFY(form.config() == c);
  }

  void saveErrorNamesThePathAndLeavesNothing() {
    QTemporaryDir dir;
    const QString path = dir.filePath("missing-folder/exp.json");
    const auto s = ExperimentForm::saveExperimentFile(ExperimentConfig{}, path);
    QVERIFY(!s.isOk());
    QVERIFY2(QString::fromStdString(s.message()).contains(path), s.message().c_str());

    // A failed rename (the target is a folder) keeps the old target and no temporary file.
    const QString folder = dir.filePath("taken");
    QVERIFY(QDir(dir.path()).mkdir("taken"));
    const auto r = ExperimentForm::saveExperimentFile(ExperimentConfig{}, folder);
    QVERIFY(!r.isOk());
    QVERIFY(QString::fromStdString(r.message()).contains(folder));
    QVERIFY(!QFile::exists(folder + ".tmp"));
  }

  void openingBadFilesNamesFileAndField() {
    QTemporaryDir dir;
    const QString missing = dir.filePath("nope.json");
    auto r = ExperimentForm::openExperimentFile(missing);
    QVERIFY(!r.isOk());
    QVERIFY2(QString::fromStdString(r.status().message()).contains(missing),
             r.status().message().c_str());

    const QString broken = dir.filePath("broken.json");
    writeFile(broken, "{ \"name\": \"x\", ");
    r = ExperimentForm::openExperimentFile(broken);
    QVERIFY(!r.isOk());
    QVERIFY(QString::fromStdString(r.status().message()).contains(broken));

    const QString ill_typed = dir.filePath("ill-typed.json");
    writeFile(ill_typed, R"({"name": "x", "training": {"batchSize": "many"}})");
    r = ExperimentForm::openExperimentFile(ill_typed);
    QVERIFY(!r.isOk());
    const QString m = QString::fromStdString(r.status().message());
    QVERIFY2(m.contains(ill_typed) && m.contains("training.batchSize"), qPrintable(m));

    const QString bad_value = dir.filePath("bad-value.json");
    writeFile(bad_value, R"({"name": "x", "faults": [{"kind": "slowdown", "slowdown": 0.5}]})");
    r = ExperimentForm::openExperimentFile(bad_value);
    QVERIFY(!r.isOk());
    const QString v = QString::fromStdString(r.status().message());
    QVERIFY2(v.contains(bad_value) && v.contains("faults.0.slowdown"), qPrintable(v));
  }

  void crossFieldErrorIsNamedMarkedAndCleared() {
    ExperimentForm form;
    ExperimentConfig c;
    c.algorithm.params.set("microBatches", int64_t{4});
    c.batch_size = 16;
    form.setConfig(c);
    auto* message = child<QLabel>(form, "validationMessage");
    auto* batch = child<QSpinBox>(form, "batchSize");
    QVERIFY(form.validate().isOk());
    QVERIFY(message->text().isEmpty());

    // gpipe's own check (its registry entry): fewer samples than micro-batches. The message is
    // the algorithm's; the form shows it (the batch size is this form's half of the rule).
    batch->setValue(2);
    QVERIFY(message->text().contains("algorithm.microBatches"));
    QVERIFY(message->text().contains("training.batchSize"));
    QVERIFY(message->isVisibleTo(&form));

    batch->setValue(4);
    QVERIFY(message->text().isEmpty());

    // No stop rule: the epochs field carries the message, max iterations fixes it.
    auto* epochs = child<QDoubleSpinBox>(form, "epochs");
    epochs->setValue(0);
    QVERIFY(message->text().startsWith("field training.epochs:"));
    QCOMPARE(form.invalidWidget(), epochs);
    child<QSpinBox>(form, "maxIterations")->setValue(100);
    QVERIFY(message->text().isEmpty());
    QVERIFY(!epochs->property("validationError").toBool());

    // The algorithm panel's part counts too.
    AlgorithmConfig a;
    a.params.set("microBatches", int64_t{8});
    form.setAlgorithm(a);
    QVERIFY(message->text().contains("algorithm.microBatches"));
    a.params.set("microBatches", int64_t{2});
    form.setAlgorithm(a);
    QVERIFY(message->text().isEmpty());
  }

  void noDevicesIsShownOnTheDevicesLine() {
    ExperimentForm form;
    form.setConfig(ExperimentConfig{});
    QSignalSpy changed(&form, &ExperimentForm::configChanged);
    form.setDevices(0, {}, {}, "");
    QCOMPARE(changed.count(), 1);
    auto* summary = child<QLabel>(form, "devicesSummary");
    QCOMPARE(summary->text(), QString("no devices"));
    QVERIFY(child<QLabel>(form, "validationMessage")->text().startsWith("field devices:"));
    QCOMPARE(form.invalidWidget(), summary);

    form.setDevices(4,
                    {DeviceProfileConfig{}, DeviceProfileConfig{}, DeviceProfileConfig{},
                     DeviceProfileConfig{"", 10}},
                    {"10.0.0.2:7000", "10.0.0.3:7000"}, "/tmp/token");
    QCOMPARE(summary->text(), QString("4 local (1:10 slowdowns), 2 remote"));
    QVERIFY(form.validate().isOk());
    QCOMPARE(form.invalidWidget(), nullptr);
  }

  void editsReachTheConfigAndKeepTheRest() {
    ExperimentForm form;
    const ExperimentConfig c = richConfig();
    form.setConfig(c);
    QSignalSpy changed(&form, &ExperimentForm::configChanged);
    child<QLineEdit>(form, "experimentName")->setText("edited");
    child<QLineEdit>(form, "experimentSeed")->setText("42");
    child<QComboBox>(form, "dataset")->setCurrentText("fashion-mnist");
    child<QLineEdit>(form, "dataDir")->setText("/data/fmnist");
    child<QSpinBox>(form, "trainLimit")->setValue(0);
    child<QSpinBox>(form, "testLimit")->setValue(500);
    child<QSpinBox>(form, "batchSize")->setValue(128);
    child<QDoubleSpinBox>(form, "learningRate")->setValue(0.1);
    child<QDoubleSpinBox>(form, "momentum")->setValue(0.95);
    child<QDoubleSpinBox>(form, "epochs")->setValue(2.5);
    child<QSpinBox>(form, "maxIterations")->setValue(0);
    child<QDoubleSpinBox>(form, "maxSeconds")->setValue(600);
    child<QSpinBox>(form, "evalEvery")->setValue(0);
    child<QSpinBox>(form, "evalSamples")->setValue(0);
    QCOMPARE(changed.count(), 14);

    ExperimentConfig want = c;
    want.name = "edited";
    want.seed = 42;
    want.dataset = "fashion-mnist";
    want.data_dir = "/data/fmnist";
    want.train_limit = 0;
    want.test_limit = 500;
    want.batch_size = 128;
    want.learning_rate = 0.1;
    want.momentum = 0.95;
    want.epochs = 2.5;
    want.max_iterations = 0;
    want.max_seconds = 600;
    want.eval_every = 0;
    want.eval_samples = 0;
    QVERIFY(form.config() == want);  // algorithm, faults, profiles, description untouched

    // setConfig is not a user edit.
    form.setConfig(c);
    QCOMPARE(changed.count(), 14);
  }

  void emptySeedIsNamed() {
    ExperimentForm form;
    child<QLineEdit>(form, "experimentSeed")->setText("");
    QVERIFY(child<QLabel>(form, "validationMessage")->text().startsWith("field seed:"));
    QCOMPARE(form.invalidWidget(), child<QLineEdit>(form, "experimentSeed"));
  }

  void readOnlyDuringARun() {
    ExperimentForm form;
    form.setEditable(false);
    QVERIFY(child<QLineEdit>(form, "experimentName")->isReadOnly());
    QVERIFY(child<QSpinBox>(form, "batchSize")->isReadOnly());
    QVERIFY(!child<QComboBox>(form, "model")->isEnabled());
    QVERIFY(!child<QPushButton>(form, "localTestbedButton")->isEnabled());
    QVERIFY(!child<QPushButton>(form, "connectDevicesButton")->isEnabled());
    form.setEditable(true);
    QVERIFY(!child<QLineEdit>(form, "experimentName")->isReadOnly());
    QVERIFY(child<QPushButton>(form, "localTestbedButton")->isEnabled());
  }
};

QTEST_MAIN(TstExperimentForm)
#include "tst_experiment_form.moc"
