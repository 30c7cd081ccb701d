// The algorithm panel: a form built from the registry's parameters alone, edits emitted as the
// exact AlgorithmConfig before a run, a switch only during a run and only to something
// different, and bad values named by the experiment's own checks.
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QtTest>

#include "core/catalog/catalog.h"
#include "ui/algorithm_panel.h"

using edgerig::AlgorithmConfig;
using edgerig::ExperimentConfig;
using edgerig::IntList;
using edgerig::ParamSpec;
using edgerig::ui::AlgorithmPanel;

namespace {

// Three devices and the cnn's six layers: the context gpipe's cut checks see.
ExperimentConfig threeDevices() {
  ExperimentConfig c;
  c.local_count = 3;
  c.model = "cnn";
  return c;
}

AlgorithmConfig gpipe(int64_t micro_batches) {
  AlgorithmConfig a;
  a.name = "gpipe";
  a.params = edgerig::defaultParams(*edgerig::findAlgorithm("gpipe"));
  a.params.set("microBatches", micro_batches);
  return a;
}

AlgorithmConfig lastConfig(const QSignalSpy& spy) {
  return spy.last().at(0).value<AlgorithmConfig>();
}

void typeCuts(AlgorithmPanel& panel, const QString& text) {
  auto* edit = panel.findChild<QLineEdit*>("param_cuts");
  QVERIFY(edit);
  edit->selectAll();
  QTest::keyClicks(edit, text);
  if (text.isEmpty()) QTest::keyClick(edit, Qt::Key_Backspace);
}

}  // namespace

class TstAlgorithmPanel : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { qRegisterMetaType<AlgorithmConfig>(); }

  void buildsOneWidgetPerParamOfEveryAlgorithm() {
    AlgorithmPanel panel;
    auto* combo = panel.findChild<QComboBox*>("algorithmCombo");
    QVERIFY(combo);
    QCOMPARE(combo->count(), static_cast<int>(edgerig::algorithmCatalog().size()));
    QVERIFY(combo->count() >= 2);  // gpipe and allreduce at least
    for (const auto& info : edgerig::algorithmCatalog()) {
      combo->setCurrentIndex(combo->findText(QString::fromStdString(info.name)));
      QCOMPARE(combo->itemData(combo->currentIndex(), Qt::ToolTipRole).toString(),
               QString::fromStdString(info.family + " — " + info.summary));
      // Another algorithm starts from its own declared defaults.
      QCOMPARE(panel.algorithm().name, info.name);
      QCOMPARE(panel.algorithm().params, edgerig::defaultParams(info));
      int widgets = 0;
      for (const auto& p : info.params) {
        const QString name = QStringLiteral("param_") + QString::fromStdString(p.name);
        QWidget* w = panel.findChild<QWidget*>(name);
        QVERIFY2(w, qPrintable(name));
        QCOMPARE(w->toolTip(), QString::fromStdString(p.help));
        switch (p.kind) {
          case ParamSpec::Kind::kInt: {
            auto* s = qobject_cast<QSpinBox*>(w);
            QVERIFY(s);
            QCOMPARE(s->minimum(), static_cast<int>(p.min));
            QCOMPARE(s->maximum(), static_cast<int>(p.max));
            break;
          }
          case ParamSpec::Kind::kDouble: {
            auto* s = qobject_cast<QDoubleSpinBox*>(w);
            QVERIFY(s);
            QCOMPARE(s->minimum(), p.min);
            QCOMPARE(s->maximum(), p.max);
            break;
          }
          case ParamSpec::Kind::kChoice: {
            auto* c = qobject_cast<QComboBox*>(w);
            QVERIFY(c);
            QCOMPARE(c->count(), static_cast<int>(p.choices.size()));
            break;
          }
          case ParamSpec::Kind::kBool:
            QVERIFY(qobject_cast<QCheckBox*>(w));
            break;
          case ParamSpec::Kind::kIntList:
          case ParamSpec::Kind::kDoubleList:
            QVERIFY(qobject_cast<QLineEdit*>(w));
            break;
        }
        ++widgets;
      }
      int params = 0;
      for (QWidget* w : panel.findChildren<QWidget*>()) {
        if (w->objectName().startsWith("param_")) ++params;
      }
      QCOMPARE(params, widgets);
    }
  }

  void editsEmitTheEditedConfig() {
    AlgorithmPanel panel;
    panel.setExperiment(threeDevices());
    const AlgorithmConfig start = gpipe(4);
    panel.setAlgorithm(start);
    QSignalSpy edited(&panel, &AlgorithmPanel::algorithmEdited);
    QSignalSpy switched(&panel, &AlgorithmPanel::switchRequested);
    QCOMPARE(edited.count(), 0);  // filling the form is not an edit
    QCOMPARE(panel.algorithm(), start);

    panel.findChild<QSpinBox*>("param_microBatches")->setValue(8);
    QCOMPARE(edited.count(), 1);
    AlgorithmConfig want = start;
    want.params.set("microBatches", int64_t{8});
    QCOMPARE(lastConfig(edited), want);

    auto* plan = panel.findChild<QComboBox*>("param_plan");
    plan->setCurrentIndex(plan->findText("balanced"));
    want.params.set("plan", std::string("balanced"));
    QCOMPARE(lastConfig(edited), want);

    typeCuts(panel, "2, 4");
    want.params.set("cuts", IntList{2, 4});
    QCOMPARE(lastConfig(edited), want);
    QVERIFY(panel.isValid());
    QCOMPARE(panel.algorithm(), want);

    // The strip's drag reaches the cuts field as an edit.
    panel.setCuts({1, 5});
    QCOMPARE(panel.findChild<QLineEdit*>("param_cuts")->text(), QStringLiteral("1, 5"));
    want.params.set("cuts", IntList{1, 5});
    QCOMPARE(lastConfig(edited), want);
    QCOMPARE(switched.count(), 0);  // no run: never a switch
    panel.requestSwitch();
    QCOMPARE(switched.count(), 0);
  }

  void badCutsAreNamedByGpipesOwnCheck() {
    AlgorithmPanel panel;
    panel.setExperiment(threeDevices());
    panel.setAlgorithm(gpipe(4));
    QSignalSpy edited(&panel, &AlgorithmPanel::algorithmEdited);
    auto* message = panel.findChild<QLabel*>("algorithmMessage");
    QVERIFY(message);

    typeCuts(panel, "3,x");
    QCOMPARE(message->text(), QStringLiteral("cuts: '3,x' is not a list of numbers"));
    QVERIFY(!panel.isValid());
    // Text that does not parse is never emitted.
    for (const auto& args : edited) {
      QVERIFY(args.at(0).value<AlgorithmConfig>().params.getIntList("cuts").size() < 2);
    }

    typeCuts(panel, "4, 2");
    QVERIFY2(message->text().contains("field algorithm.cuts.1") &&
                 message->text().contains("strictly increasing"),
             qPrintable(message->text()));
    typeCuts(panel, "2, 6");
    QVERIFY2(message->text().contains("cut 6 is past the last layer of 'cnn'"),
             qPrintable(message->text()));
    typeCuts(panel, "3");
    QVERIFY2(message->text().contains("3 devices") &&
                 message->text().contains("one cut fewer than devices"),
             qPrintable(message->text()));
    QVERIFY(!panel.isValid());
    typeCuts(panel, "3 5");
    QVERIFY(panel.isValid());
    QVERIFY(message->text().isEmpty());
    QCOMPARE(panel.algorithm().params.getIntList("cuts"), (IntList{3, 5}));
    // Fewer devices after the fact: the same cuts are now too many.
    ExperimentConfig two = threeDevices();
    two.local_count = 2;
    panel.setExperiment(two);
    QVERIFY(!panel.isValid());
    QVERIFY(message->text().startsWith("field algorithm.cuts"));
  }

  void switchOnlyDuringARunAndOnlyWhenDifferent() {
    AlgorithmPanel panel;
    const AlgorithmConfig running = gpipe(4);
    panel.setExperiment(threeDevices());
    panel.setAlgorithm(running);
    auto* button = panel.findChild<QPushButton*>("switchButton");
    QVERIFY(button);
    QVERIFY(!button->isEnabled());

    panel.setRunActive(true);
    panel.setRunningAlgorithm(running);
    QSignalSpy edited(&panel, &AlgorithmPanel::algorithmEdited);
    QSignalSpy switched(&panel, &AlgorithmPanel::switchRequested);
    QVERIFY(!button->isEnabled());  // same as running
    auto* micro = panel.findChild<QSpinBox*>("param_microBatches");
    QVERIFY(micro->isEnabled());
    micro->setValue(16);
    QCOMPARE(edited.count(), 0);  // during a run edits wait for the button
    QVERIFY(button->isEnabled());

    typeCuts(panel, "2,y");
    QVERIFY(!button->isEnabled());  // does not parse
    typeCuts(panel, "2, 4");
    QVERIFY(button->isEnabled());
    QTest::mouseClick(button, Qt::LeftButton);
    QCOMPARE(switched.count(), 1);
    AlgorithmConfig want = running;
    want.params.set("microBatches", int64_t{16});
    want.params.set("cuts", IntList{2, 4});
    QCOMPARE(lastConfig(switched), want);

    // The switch lands: the form now equals what runs, so there is nothing to apply.
    panel.setRunningAlgorithm(want);
    QVERIFY(!button->isEnabled());
    panel.requestSwitch();
    QCOMPARE(switched.count(), 1);

    micro->setValue(2);
    QVERIFY(button->isEnabled());
    panel.setRunActive(false);
    QVERIFY(!button->isEnabled());
    panel.requestSwitch();
    QCOMPARE(switched.count(), 1);
  }

  void switchesAcrossFamilies() {
    AlgorithmPanel panel;
    panel.setExperiment(threeDevices());
    panel.setAlgorithm(gpipe(4));
    panel.setRunActive(true);
    panel.setRunningAlgorithm(gpipe(4));
    QSignalSpy switched(&panel, &AlgorithmPanel::switchRequested);
    auto* combo = panel.findChild<QComboBox*>("algorithmCombo");
    combo->setCurrentIndex(combo->findText("allreduce"));
    QVERIFY(!panel.findChild<QWidget*>("param_cuts"));  // gpipe's form is gone
    auto* bucket = panel.findChild<QDoubleSpinBox*>("param_bucketMiB");
    QVERIFY(bucket);
    bucket->setValue(8);
    QTest::mouseClick(panel.findChild<QPushButton*>("switchButton"), Qt::LeftButton);
    QCOMPARE(switched.count(), 1);
    const AlgorithmConfig got = lastConfig(switched);
    QCOMPARE(got.name, std::string("allreduce"));
    QCOMPARE(got.params.getDouble("bucketMiB"), 8.0);
    QCOMPARE(got.params.all().size(), size_t{1});
  }
};

QTEST_MAIN(TstAlgorithmPanel)
#include "tst_algorithm_panel.moc"
