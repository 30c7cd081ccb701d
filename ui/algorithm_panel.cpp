#include "ui/algorithm_panel.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QVBoxLayout>

#include "core/algorithms/registry.h"

namespace edgerig::ui {
namespace {

// AlgorithmConfig's fields by the JSON name the registry gives them. A parameter the config
// does not carry yet still gets a widget; its value just is not stored.
int* intField(AlgorithmConfig& c, const std::string& field) {
  return field == "microBatches" ? &c.micro_batches : nullptr;
}
std::string* choiceField(AlgorithmConfig& c, const std::string& field) {
  return field == "plan" ? &c.plan : nullptr;
}
std::vector<int>* listField(AlgorithmConfig& c, const std::string& field) {
  return field == "cuts" ? &c.cuts : nullptr;
}

QString listText(const std::vector<int>& values) {
  QStringList parts;
  for (int v : values) parts << QString::number(v);
  return parts.join(QStringLiteral(", "));
}

bool parseList(const QString& text, std::vector<int>* out) {
  std::vector<int> values;
  static const QRegularExpression kSeparators(QStringLiteral("[,;\\s]+"));
  for (const QString& part : text.split(kSeparators, Qt::SkipEmptyParts)) {
    bool ok = false;
    const int v = part.toInt(&ok);
    if (!ok) return false;
    values.push_back(v);
  }
  *out = std::move(values);
  return true;
}

QString describe(const AlgorithmConfig& c) {
  const AlgorithmInfo* info = findAlgorithm(c.algorithm);
  QStringList parts;
  AlgorithmConfig copy = c;
  for (const auto& p : info ? info->params : std::vector<AlgorithmParam>{}) {
    const QString label = QString::fromStdString(p.label);
    if (const int* v = intField(copy, p.field)) parts << QStringLiteral("%1 %2").arg(label).arg(*v);
    if (const std::string* s = choiceField(copy, p.field)) {
      parts << QStringLiteral("%1 %2").arg(label, QString::fromStdString(*s));
    }
    if (const auto* l = listField(copy, p.field); l && !l->empty()) {
      parts << QStringLiteral("%1 %2").arg(label, listText(*l));
    }
  }
  return QStringLiteral("%1 (%2)").arg(QString::fromStdString(c.algorithm), parts.join(", "));
}

}  // namespace

AlgorithmPanel::AlgorithmPanel(QWidget* parent) : QWidget(parent) {
  combo_ = new QComboBox(this);
  combo_->setObjectName("algorithmCombo");
  combo_->setToolTip(tr("The training algorithm; its parameters follow below"));
  for (const auto& a : algorithmCatalog()) {
    combo_->addItem(QString::fromStdString(a.name), QString::fromStdString(a.name));
    combo_->setItemData(combo_->count() - 1,
                        QStringLiteral("%1 — %2").arg(QString::fromStdString(a.family),
                                                      QString::fromStdString(a.summary)),
                        Qt::ToolTipRole);
  }
  summary_ = new QLabel(this);
  summary_->setObjectName("algorithmSummary");
  summary_->setWordWrap(true);

  form_host_ = new QWidget(this);
  form_ = new QFormLayout(form_host_);
  form_->setContentsMargins(0, 0, 0, 0);
  form_->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);

  message_ = new QLabel(this);
  message_->setObjectName("algorithmMessage");
  message_->setWordWrap(true);
  message_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  running_label_ = new QLabel(this);
  running_label_->setObjectName("runningAlgorithm");
  running_label_->setWordWrap(true);
  running_label_->setVisible(false);

  switch_ = new QPushButton(tr("Apply at next iteration"), this);
  switch_->setObjectName("switchButton");
  switch_->setToolTip(
      tr("Switch the running training to this algorithm at the next iteration boundary; the "
         "model's weights are kept"));
  switch_->setVisible(false);
  connect(switch_, &QPushButton::clicked, this, &AlgorithmPanel::requestSwitch);

  auto* top = new QHBoxLayout;
  auto* label = new QLabel(tr("&Algorithm"), this);
  label->setBuddy(combo_);
  top->addWidget(label);
  top->addWidget(combo_, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(summary_);
  layout->addWidget(form_host_);
  layout->addWidget(message_);
  layout->addWidget(running_label_);
  layout->addWidget(switch_);
  layout->addStretch(1);

  connect(combo_, &QComboBox::currentIndexChanged, this, [this] {
    if (filling_) return;
    config_.algorithm = combo_->currentData().toString().toStdString();
    buildForm();
    fillForm();
    onEdited();
  });
  config_.algorithm = combo_->currentData().toString().toStdString();
  buildForm();
  fillForm();
  readForm();
  check();
}

void AlgorithmPanel::buildForm() {
  while (form_->rowCount() > 0) form_->removeRow(0);
  const AlgorithmInfo* info = findAlgorithm(config_.algorithm);
  summary_->setText(info ? QStringLiteral("<i>%1</i> — %2")
                               .arg(QString::fromStdString(info->family).toHtmlEscaped(),
                                    QString::fromStdString(info->summary).toHtmlEscaped())
                         : tr("Unknown algorithm"));
  if (!info) return;
  for (const auto& p : info->params) {
    const QString name = QStringLiteral("param_") + QString::fromStdString(p.field);
    const QString help = QString::fromStdString(p.help);
    QWidget* w = nullptr;
    switch (p.kind) {
      case AlgorithmParam::Kind::kInt: {
        auto* s = new QSpinBox(form_host_);
        s->setRange(p.min, p.max);
        connect(s, &QSpinBox::valueChanged, this, &AlgorithmPanel::onEdited);
        w = s;
        break;
      }
      case AlgorithmParam::Kind::kChoice: {
        auto* c = new QComboBox(form_host_);
        for (const auto& choice : p.choices) c->addItem(QString::fromStdString(choice));
        connect(c, &QComboBox::currentIndexChanged, this, &AlgorithmPanel::onEdited);
        w = c;
        break;
      }
      case AlgorithmParam::Kind::kIntList: {
        auto* e = new QLineEdit(form_host_);
        e->setPlaceholderText(tr("e.g. 2, 4 — empty: none"));
        connect(e, &QLineEdit::textEdited, this, &AlgorithmPanel::onEdited);
        w = e;
        break;
      }
    }
    w->setObjectName(name);
    w->setToolTip(help);
    auto* label = new QLabel(QString::fromStdString(p.label), form_host_);
    label->setToolTip(help);
    label->setBuddy(w);
    form_->addRow(label, w);
  }
}

void AlgorithmPanel::fillForm() {
  const AlgorithmInfo* info = findAlgorithm(config_.algorithm);
  if (!info) return;
  const bool was_filling = filling_;
  filling_ = true;
  for (const auto& p : info->params) {
    const QString name = QStringLiteral("param_") + QString::fromStdString(p.field);
    if (auto* s = form_host_->findChild<QSpinBox*>(name)) {
      if (const int* v = intField(config_, p.field)) s->setValue(*v);
    } else if (auto* c = form_host_->findChild<QComboBox*>(name)) {
      if (const std::string* v = choiceField(config_, p.field)) {
        c->setCurrentIndex(std::max(0, c->findText(QString::fromStdString(*v))));
      }
    } else if (auto* e = form_host_->findChild<QLineEdit*>(name)) {
      if (const auto* v = listField(config_, p.field)) e->setText(listText(*v));
    }
  }
  filling_ = was_filling;
}

void AlgorithmPanel::readForm() {
  error_.clear();
  parses_ = true;
  const AlgorithmInfo* info = findAlgorithm(config_.algorithm);
  if (!info) {
    error_ = tr("algorithm: '%1' is not registered").arg(QString::fromStdString(config_.algorithm));
    parses_ = false;
    return;
  }
  for (const auto& p : info->params) {
    const QString name = QStringLiteral("param_") + QString::fromStdString(p.field);
    if (auto* s = form_host_->findChild<QSpinBox*>(name)) {
      if (int* v = intField(config_, p.field)) *v = s->value();
    } else if (auto* c = form_host_->findChild<QComboBox*>(name)) {
      if (std::string* v = choiceField(config_, p.field)) *v = c->currentText().toStdString();
    } else if (auto* e = form_host_->findChild<QLineEdit*>(name)) {
      std::vector<int> values;
      if (!parseList(e->text(), &values)) {
        if (parses_) {
          error_ = tr("%1: '%2' is not a list of integers")
                       .arg(QString::fromStdString(p.field), e->text().trimmed());
        }
        parses_ = false;
      } else if (auto* v = listField(config_, p.field)) {
        *v = std::move(values);
      }
    }
  }
}

void AlgorithmPanel::check() {
  note_.clear();
  if (parses_ && !config_.cuts.empty()) {
    const auto& cuts = config_.cuts;
    for (size_t i = 0; i < cuts.size() && error_.isEmpty(); ++i) {
      if (i > 0 && cuts[i] <= cuts[i - 1]) {
        error_ =
            tr("cuts: must be strictly increasing (%1 follows %2)").arg(cuts[i]).arg(cuts[i - 1]);
      } else if (cuts[i] < 1 || (layers_ > 0 && cuts[i] > layers_ - 1)) {
        error_ = layers_ > 0
                     ? tr("cuts: %1 is outside 1..%2 (the model has %3 layers)")
                           .arg(cuts[i])
                           .arg(layers_ - 1)
                           .arg(layers_)
                     : tr("cuts: %1 is not a layer boundary (cuts start at 1)").arg(cuts[i]);
      }
    }
    const int want = devices_ - 1;
    if (error_.isEmpty() && devices_ > 0 && static_cast<int>(cuts.size()) != want) {
      error_ = tr("cuts: %1 given for %2 devices; give %3 (one fewer than devices) or leave it "
                  "empty for the plan")
                   .arg(cuts.size())
                   .arg(devices_)
                   .arg(want);
    }
    if (error_.isEmpty()) note_ = tr("Cut points set by hand: the plan choice is not used.");
  }
  const bool error = !error_.isEmpty();
  message_->setText(error ? error_ : note_);
  message_->setStyleSheet(error ? QStringLiteral("color: #c62828; font-weight: bold;")
                                : QStringLiteral("color: palette(placeholder-text);"));
  message_->setVisible(!message_->text().isEmpty());
  switch_->setEnabled(run_active_ && isValid() && !(config_ == running_));
  running_label_->setText(tr("Running now: %1").arg(describe(running_)));
}

void AlgorithmPanel::onEdited() {
  if (filling_) return;
  readForm();
  check();
  if (!run_active_ && parses_) emit algorithmEdited(config_);
}

void AlgorithmPanel::setAlgorithm(const AlgorithmConfig& config) {
  filling_ = true;
  config_ = config;
  const int i = combo_->findData(QString::fromStdString(config.algorithm));
  if (i >= 0) combo_->setCurrentIndex(i);
  buildForm();
  fillForm();
  filling_ = false;
  readForm();
  check();
}

void AlgorithmPanel::setCuts(const std::vector<int>& cuts) {
  if (auto* e = form_host_->findChild<QLineEdit*>(QStringLiteral("param_cuts"))) {
    e->setText(listText(cuts));
    onEdited();
  } else {
    config_.cuts = cuts;
  }
}

void AlgorithmPanel::setDeviceCount(int devices) {
  devices_ = devices;
  readForm();
  check();
}

void AlgorithmPanel::setLayerCount(int layers) {
  layers_ = layers;
  readForm();
  check();
}

void AlgorithmPanel::setRunActive(bool active) {
  if (active && !run_active_) running_ = config_;  // until setRunningAlgorithm says otherwise
  run_active_ = active;
  switch_->setVisible(active);
  running_label_->setVisible(active);
  check();
}

void AlgorithmPanel::setRunningAlgorithm(const AlgorithmConfig& config) {
  running_ = config;
  check();
}

QString AlgorithmPanel::message() const { return message_->text(); }

void AlgorithmPanel::requestSwitch() {
  if (!run_active_ || !isValid() || config_ == running_) return;
  emit switchRequested(config_);
}

}  // namespace edgerig::ui
