// The algorithm panel: a form built from the registry's parameters, edits emitted as the exact
// AlgorithmConfig before a run, a switch only during a run and only to something different,
// and bad cuts named.
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QtTest>

#include "core/algorithms/registry.h"
#include "ui/algorithm_panel.h"

using edgerig::AlgorithmConfig;
using edgerig::AlgorithmParam;
using edgerig::ui::AlgorithmPanel;

namespace {

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

  void buildsOneWidgetPerParam() {
    AlgorithmPanel panel;
    auto* combo = panel.findChild<QComboBox*>("algorithmCombo");
    QVERIFY(combo);
    QCOMPARE(combo->count(), static_cast<int>(edgerig::algorithmCatalog().size()));
    const auto* gpipe = edgerig::findAlgorithm("gpipe");
    QVERIFY(gpipe);
    QCOMPARE(combo->itemData(combo->findText("gpipe"), Qt::ToolTipRole).toString(),
             QString::fromStdString(gpipe->family + " — " + gpipe->summary));
    int widgets = 0;
    for (const auto& p : gpipe->params) {
      const QString name = QStringLiteral("param_") + QString::fromStdString(p.field);
      QWidget* w = panel.findChild<QWidget*>(name);
      QVERIFY2(w, qPrintable(name));
      QCOMPARE(w->toolTip(), QString::fromStdString(p.help));
      switch (p.kind) {
        case AlgorithmParam::Kind::kInt: {
          auto* s = qobject_cast<QSpinBox*>(w);
          QVERIFY(s);
          QCOMPARE(s->minimum(), p.min);
          QCOMPARE(s->maximum(), p.max);
          break;
        }
        case AlgorithmParam::Kind::kChoice: {
          auto* c = qobject_cast<QComboBox*>(w);
          QVERIFY(c);
          QCOMPARE(c->count(), static_cast<int>(p.choices.size()));
          break;
        }
        case AlgorithmParam::Kind::kIntList:
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

  void editsEmitTheEditedConfig() {
    AlgorithmPanel panel;
    AlgorithmConfig start;
    start.micro_batches = 4;
    start.plan = "even";
    panel.setAlgorithm(start);
    QSignalSpy edited(&panel, &AlgorithmPanel::algorithmEdited);
    QSignalSpy switched(&panel, &AlgorithmPanel::switchRequested);
    QCOMPARE(edited.count(), 0);  // filling the form is not an edit
    QCOMPARE(panel.algorithm(), start);

    panel.findChild<QSpinBox*>("param_microBatches")->setValue(8);
    QCOMPARE(edited.count(), 1);
    AlgorithmConfig want = start;
    want.micro_batches = 8;
    QCOMPARE(lastConfig(edited), want);

    auto* plan = panel.findChild<QComboBox*>("param_plan");
    plan->setCurrentIndex(plan->findText("balanced"));
    want.plan = "balanced";
    QCOMPARE(lastConfig(edited), want);

    panel.setDeviceCount(3);
    panel.setLayerCount(6);
    typeCuts(panel, "2, 4");
    want.cuts = {2, 4};
    QCOMPARE(lastConfig(edited), want);
    QVERIFY(panel.isValid());
    QCOMPARE(panel.algorithm(), want);

    // The strip's drag reaches the cuts field as an edit.
    panel.setCuts({1, 5});
    QCOMPARE(panel.findChild<QLineEdit*>("param_cuts")->text(), QStringLiteral("1, 5"));
    want.cuts = {1, 5};
    QCOMPARE(lastConfig(edited), want);
    QCOMPARE(switched.count(), 0);  // no run: never a switch
    panel.requestSwitch();
    QCOMPARE(switched.count(), 0);
  }

  void badCutsAreNamed() {
    AlgorithmPanel panel;
    panel.setAlgorithm(AlgorithmConfig{});
    panel.setDeviceCount(3);
    panel.setLayerCount(6);
    QSignalSpy edited(&panel, &AlgorithmPanel::algorithmEdited);
    auto* message = panel.findChild<QLabel*>("algorithmMessage");
    QVERIFY(message);

    typeCuts(panel, "3,x");
    QCOMPARE(message->text(), QStringLiteral("cuts: '3,x' is not a list of integers"));
    QVERIFY(!panel.isValid());
    // Text that does not parse is never emitted.
    for (const auto& args : edited) QVERIFY(args.at(0).value<AlgorithmConfig>().cuts.size() < 2);

    typeCuts(panel, "4, 2");
    QVERIFY2(message->text().contains("strictly increasing"), qPrintable(message->text()));
    typeCuts(panel, "2, 6");
    QVERIFY2(message->text().contains("6 is outside 1..5"), qPrintable(message->text()));
    typeCuts(panel, "3");
    QVERIFY2(message->text().contains("3 devices") && message->text().contains("give 2"),
             qPrintable(message->text()));
    QVERIFY(!panel.isValid());
    typeCuts(panel, "3 5");
    QVERIFY(panel.isValid());
    QVERIFY(!message->text().startsWith("cuts:"));
    QCOMPARE(panel.algorithm().cuts, (std::vector<int>{3, 5}));
    // Fewer devices after the fact: the same cuts are now too many.
    panel.setDeviceCount(2);
    QVERIFY(!panel.isValid());
    QVERIFY(message->text().startsWith("cuts:"));
  }

  void switchOnlyDuringARunAndOnlyWhenDifferent() {
    AlgorithmPanel panel;
    AlgorithmConfig running;
    running.micro_batches = 4;
    panel.setAlgorithm(running);
    panel.setDeviceCount(3);
    panel.setLayerCount(6);
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
    want.micro_batches = 16;
    want.cuts = {2, 4};
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
    QVERIFY(!panel.grab().isNull());
  }
};

QTEST_MAIN(TstAlgorithmPanel)
#include "tst_algorithm_panel.moc"
