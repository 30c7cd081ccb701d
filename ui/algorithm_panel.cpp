#include "ui/algorithm_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QVBoxLayout>
#include <climits>
#include <cmath>

#include "core/catalog/catalog.h"

namespace edgerig::ui {
namespace {

// Enough decimals that the declared range and default survive the spin box's rounding (a
// fraction with a minimum of 1e-6 must not become 0): at least 4, at most 10.
int decimalsFor(const ParamSpec& p) {
  int decimals = 4;
  const double def =
      std::holds_alternative<double>(p.default_value) ? std::get<double>(p.default_value) : 0.0;
  for (const double v : {p.min, p.max, def}) {
    if (std::isinf(v) || v == 0) continue;
    for (int d = decimals; d <= 10; ++d) {
      const double scale = std::pow(10.0, d);
      if (std::abs(std::round(v * scale) / scale - v) <= std::abs(v) * 1e-9) {
        decimals = d;
        break;
      }
      decimals = d;
    }
  }
  return decimals;
}

QString widgetName(const ParamSpec& p) {
  return QStringLiteral("param_") + QString::fromStdString(p.name);
}

template <typename T>
QString listText(const std::vector<T>& values) {
  QStringList parts;
  for (T v : values) parts << QString::number(v);
  return parts.join(QStringLiteral(", "));
}

// "2, 4" or "2 4" → {2, 4}; false when a part is not a number (of the list's kind).
bool parseList(const QString& text, bool integers, ParamValue* out) {
  static const QRegularExpression kSeparators(QStringLiteral("[,;\\s]+"));
  IntList ints;
  DoubleList doubles;
  for (const QString& part : text.split(kSeparators, Qt::SkipEmptyParts)) {
    bool ok = false;
    if (integers) {
      ints.push_back(part.toLongLong(&ok));
    } else {
      doubles.push_back(part.toDouble(&ok));
    }
    if (!ok) return false;
  }
  *out = integers ? ParamValue(std::move(ints)) : ParamValue(std::move(doubles));
  return true;
}

int clampToInt(double v) {
  return static_cast<int>(
      std::clamp(v, static_cast<double>(INT_MIN), static_cast<double>(INT_MAX)));
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
    // Another algorithm starts from its declared defaults.
    config_.name = combo_->currentData().toString().toStdString();
    const AlgorithmInfo* info = findAlgorithm(config_.name);
    config_.params = info ? defaultParams(*info) : AlgorithmParams{};
    buildForm();
    fillForm();
    onEdited();
  });
  config_.name = combo_->currentData().toString().toStdString();
  if (const AlgorithmInfo* info = findAlgorithm(config_.name))
    config_.params = defaultParams(*info);
  buildForm();
  fillForm();
  readForm();
  check();
}

void AlgorithmPanel::buildForm() {
  while (form_->rowCount() > 0) form_->removeRow(0);
  const AlgorithmInfo* info = findAlgorithm(config_.name);
  summary_->setText(info ? QStringLiteral("<i>%1</i> — %2")
                               .arg(QString::fromStdString(info->family).toHtmlEscaped(),
                                    QString::fromStdString(info->summary).toHtmlEscaped())
                         : tr("Unknown algorithm"));
  if (!info) return;
  for (const auto& p : info->params) {
    const QString help = QString::fromStdString(p.help);
    QWidget* w = nullptr;
    switch (p.kind) {
      case ParamSpec::Kind::kInt: {
        auto* s = new QSpinBox(form_host_);
        s->setRange(std::isinf(p.min) ? INT_MIN : clampToInt(p.min),
                    std::isinf(p.max) ? INT_MAX : clampToInt(p.max));
        connect(s, &QSpinBox::valueChanged, this, &AlgorithmPanel::onEdited);
        w = s;
        break;
      }
      case ParamSpec::Kind::kDouble: {
        auto* s = new QDoubleSpinBox(form_host_);
        s->setDecimals(decimalsFor(p));
        s->setRange(std::isinf(p.min) ? -1e12 : p.min, std::isinf(p.max) ? 1e12 : p.max);
        if (!std::isinf(p.min) && !std::isinf(p.max) && p.max - p.min <= 1) s->setSingleStep(0.01);
        connect(s, &QDoubleSpinBox::valueChanged, this, &AlgorithmPanel::onEdited);
        w = s;
        break;
      }
      case ParamSpec::Kind::kBool: {
        auto* c = new QCheckBox(form_host_);
        connect(c, &QCheckBox::toggled, this, &AlgorithmPanel::onEdited);
        w = c;
        break;
      }
      case ParamSpec::Kind::kChoice: {
        auto* c = new QComboBox(form_host_);
        for (const auto& choice : p.choices) c->addItem(QString::fromStdString(choice));
        connect(c, &QComboBox::currentIndexChanged, this, &AlgorithmPanel::onEdited);
        w = c;
        break;
      }
      case ParamSpec::Kind::kIntList:
      case ParamSpec::Kind::kDoubleList: {
        auto* e = new QLineEdit(form_host_);
        e->setPlaceholderText(tr("e.g. 2, 4 — empty: none"));
        connect(e, &QLineEdit::textEdited, this, &AlgorithmPanel::onEdited);
        w = e;
        break;
      }
    }
    w->setObjectName(widgetName(p));
    w->setToolTip(help);
    auto* label = new QLabel(QString::fromStdString(p.label), form_host_);
    label->setToolTip(help);
    label->setBuddy(w);
    form_->addRow(label, w);
  }
}

void AlgorithmPanel::fillForm() {
  const AlgorithmInfo* info = findAlgorithm(config_.name);
  if (!info) return;
  const bool was_filling = filling_;
  filling_ = true;
  for (const auto& p : info->params) {
    const QString name = widgetName(p);
    const auto& v = config_.params;
    if (auto* s = form_host_->findChild<QSpinBox*>(name)) {
      s->setValue(clampToInt(static_cast<double>(v.getInt(p.name))));
    } else if (auto* d = form_host_->findChild<QDoubleSpinBox*>(name)) {
      d->setValue(v.getDouble(p.name));
    } else if (auto* b = form_host_->findChild<QCheckBox*>(name)) {
      b->setChecked(v.getBool(p.name));
    } else if (auto* c = form_host_->findChild<QComboBox*>(name)) {
      c->setCurrentIndex(std::max(0, c->findText(QString::fromStdString(v.getString(p.name)))));
    } else if (auto* e = form_host_->findChild<QLineEdit*>(name)) {
      e->setText(p.kind == ParamSpec::Kind::kIntList ? listText(v.getIntList(p.name))
                                                     : listText(v.getDoubleList(p.name)));
    }
  }
  filling_ = was_filling;
}

void AlgorithmPanel::readForm() {
  error_.clear();
  parses_ = true;
  const AlgorithmInfo* info = findAlgorithm(config_.name);
  if (!info) {
    error_ = tr("algorithm: '%1' is not registered").arg(QString::fromStdString(config_.name));
    parses_ = false;
    return;
  }
  for (const auto& p : info->params) {
    const QString name = widgetName(p);
    auto& v = config_.params;
    if (auto* s = form_host_->findChild<QSpinBox*>(name)) {
      v.set(p.name, static_cast<int64_t>(s->value()));
    } else if (auto* d = form_host_->findChild<QDoubleSpinBox*>(name)) {
      v.set(p.name, d->value());
    } else if (auto* b = form_host_->findChild<QCheckBox*>(name)) {
      v.set(p.name, b->isChecked());
    } else if (auto* c = form_host_->findChild<QComboBox*>(name)) {
      v.set(p.name, c->currentText().toStdString());
    } else if (auto* e = form_host_->findChild<QLineEdit*>(name)) {
      ParamValue list;
      if (!parseList(e->text(), p.kind == ParamSpec::Kind::kIntList, &list)) {
        if (parses_) {
          error_ = tr("%1: '%2' is not a list of numbers")
                       .arg(QString::fromStdString(p.name), e->text().trimmed());
        }
        parses_ = false;
      } else {
        v.set(p.name, std::move(list));
      }
    }
  }
}

void AlgorithmPanel::check() {
  if (parses_) {
    ExperimentConfig candidate = experiment_;
    candidate.algorithm = config_;
    if (auto st = validateExperiment(candidate, knownNames()); !st) {
      // Only what this panel can change: a mistake elsewhere is the experiment form's to show.
      const std::string& m = st.message();
      if (m.rfind("field algorithm", 0) == 0) error_ = QString::fromStdString(m);
    }
  }
  const bool error = !error_.isEmpty();
  message_->setText(error ? error_ : QString());
  message_->setStyleSheet(QStringLiteral("color: #c62828; font-weight: bold;"));
  message_->setVisible(error);
  switch_->setEnabled(run_active_ && isValid() && !(config_ == running_));
  running_label_->setText(
      tr("Running now: %1").arg(QString::fromStdString(describeAlgorithm(running_, knownNames()))));
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
  const int i = combo_->findData(QString::fromStdString(config.name));
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
  }
}

void AlgorithmPanel::setExperiment(const ExperimentConfig& experiment) {
  experiment_ = experiment;
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
