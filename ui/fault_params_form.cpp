#include "ui/fault_params_form.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QStackedWidget>
#include <chrono>

#include "core/controller/controller.h"
#include "core/experiment/fault_limits.h"

namespace edgerig::ui {
namespace {

// One entry per kind of kFaultKinds, in its order.
struct KindText {
  const char* kind;
  const char* label;
  const char* note;  // for the kinds without parameters
};
constexpr KindText kKinds[] = {
    {"slowdown", QT_TRANSLATE_NOOP("FaultParamsForm", "Slow down compute"), nullptr},
    {"link", QT_TRANSLATE_NOOP("FaultParamsForm", "Shape outgoing links"), nullptr},
    {"freeze", QT_TRANSLATE_NOOP("FaultParamsForm", "Freeze (straggler)"), nullptr},
    {"crash", QT_TRANSLATE_NOOP("FaultParamsForm", "Crash"),
     QT_TRANSLATE_NOOP("FaultParamsForm",
                       "No parameters: the agent exits at once; a local one is killed "
                       "(SIGKILL).")},
    {"restart", QT_TRANSLATE_NOOP("FaultParamsForm", "Restart (local agent)"),
     QT_TRANSLATE_NOOP("FaultParamsForm",
                       "No parameters: at the next iteration boundary the model is gathered, "
                       "the local agent is killed and started again, and training resumes.")},
    {"clear", QT_TRANSLATE_NOOP("FaultParamsForm", "Clear faults"),
     QT_TRANSLATE_NOOP("FaultParamsForm",
                       "No parameters: removes slowdown and link shaping from the device.")},
};

// Pages of the parameter stack.
enum Page { kSlowdownPage, kLinkPage, kFreezePage, kNotePage };

Page pageOf(const QString& kind) {
  if (kind == QLatin1String("slowdown")) return kSlowdownPage;
  if (kind == QLatin1String("link")) return kLinkPage;
  if (kind == QLatin1String("freeze")) return kFreezePage;
  return kNotePage;
}

}  // namespace

FaultParamsForm::FaultParamsForm(const QString& name_suffix, QWidget* parent) : QWidget(parent) {
  kind_ = new QComboBox(this);
  kind_->setObjectName("faultKind" + name_suffix);
  for (const auto& k : kKinds) kind_->addItem(tr(k.label), QString::fromUtf8(k.kind));

  // Ranges are the widest the emulation takes; validateExperiment has the last word.
  auto spin = [&](const char* name, double lo, double hi, const QString& suffix) {
    auto* s = new QDoubleSpinBox(this);
    s->setObjectName(QString::fromUtf8(name) + name_suffix);
    s->setRange(lo, hi);
    s->setDecimals(1);
    s->setSuffix(suffix);
    return s;
  };
  params_ = new QStackedWidget(this);
  auto page = [this] {
    auto* w = new QWidget;
    auto* f = new QFormLayout(w);
    f->setContentsMargins(0, 0, 0, 0);
    params_->addWidget(w);
    return f;
  };
  slowdown_ = spin("faultSlowdown", 1, kMaxSlowdown, QStringLiteral(" ×"));
  slowdown_->setToolTip(tr("Compute takes this many times as long"));
  page()->addRow(tr("Factor"), slowdown_);

  delay_ms_ = spin("faultDelayMs", 0, kMaxLinkDelayMs, QStringLiteral(" ms"));
  jitter_ms_ = spin("faultJitterMs", 0, kMaxLinkDelayMs, QStringLiteral(" ms"));
  bandwidth_mbps_ = spin("faultBandwidthMbps", 0, kMaxBandwidthMbps, QStringLiteral(" Mbit/s"));
  bandwidth_mbps_->setSpecialValueText(tr("unlimited"));
  drop_percent_ = spin("faultDropPercent", 0, 99.9, QStringLiteral(" %"));
  QFormLayout* link = page();
  link->addRow(tr("Delay"), delay_ms_);
  link->addRow(tr("Jitter"), jitter_ms_);
  link->addRow(tr("Bandwidth"), bandwidth_mbps_);
  link->addRow(tr("Drop"), drop_percent_);

  freeze_s_ = spin("faultFreezeS", 0.1, kMaxFreezeS, QStringLiteral(" s"));
  freeze_s_->setToolTip(tr("The agent stops answering for this long, then goes on"));
  QFormLayout* freeze = page();
  freeze->addRow(tr("For"), freeze_s_);
  freeze_warning_ = new QLabel(this);
  freeze_warning_->setObjectName("faultFreezeWarning" + name_suffix);
  freeze_warning_->setWordWrap(true);
  freeze_warning_->setStyleSheet(QStringLiteral("color: #b3261e;"));
  freeze->addRow(freeze_warning_);
  auto warn = [this] {
    const QString w = freezeWarning();
    freeze_warning_->setText(w);
    freeze_warning_->setVisible(!w.isEmpty());
  };
  connect(freeze_s_, &QDoubleSpinBox::valueChanged, this, warn);

  note_ = new QLabel(this);
  note_->setObjectName("faultKindNote" + name_suffix);
  note_->setWordWrap(true);
  page()->addRow(note_);

  form_ = new QFormLayout(this);
  form_->setContentsMargins(0, 0, 0, 0);
  form_->addRow(tr("Kind"), kind_);
  form_->addRow(params_);

  connect(kind_, &QComboBox::currentIndexChanged, this, [this] {
    const QString k = kind_->currentData().toString();
    showKind(k);
    if (!loading_) emit kindChanged(k);
  });
  const std::pair<QDoubleSpinBox*, const char*> fields[] = {
      {slowdown_, "slowdown"},        {delay_ms_, "delay"},    {jitter_ms_, "jitter"},
      {bandwidth_mbps_, "bandwidth"}, {drop_percent_, "drop"}, {freeze_s_, "freeze"}};
  for (auto [box, field] : fields) {
    connect(box, &QDoubleSpinBox::valueChanged, this, [this, field = QString::fromUtf8(field)] {
      if (!loading_) emit paramEdited(field);
    });
  }
  FaultConfig defaults;
  defaults.kind = "slowdown";
  defaults.slowdown = 4;
  defaults.delay_ms = 20;
  defaults.freeze_s = kDefaultFreezeS;
  setFault(defaults);
  warn();
}

QString FaultParamsForm::freezeWarning() const {
  const double timeout_s = std::chrono::duration<double>(ControllerOptions{}.loss_timeout).count();
  if (freeze_s_->value() <= timeout_s) return {};
  return tr("Longer than the %1 s loss timeout: the device will be declared lost, and an "
            "algorithm without fault tolerance (gpipe) stops the run.")
      .arg(timeout_s);
}

std::string FaultParamsForm::kind() const { return kind_->currentData().toString().toStdString(); }

FaultConfig FaultParamsForm::fault(FaultConfig base) const {
  base.kind = kind();
  switch (pageOf(kind_->currentData().toString())) {
    case kSlowdownPage:
      applyField(QStringLiteral("slowdown"), base);
      break;
    case kLinkPage:
      for (const char* field : {"delay", "jitter", "bandwidth", "drop"}) {
        applyField(QString::fromUtf8(field), base);
      }
      break;
    case kFreezePage:
      applyField(QStringLiteral("freeze"), base);
      break;
    case kNotePage:
      break;
  }
  return base;
}

void FaultParamsForm::applyField(const QString& field, FaultConfig& f) const {
  if (field == QLatin1String("slowdown")) f.slowdown = slowdown_->value();
  if (field == QLatin1String("delay")) f.delay_ms = delay_ms_->value();
  if (field == QLatin1String("jitter")) f.jitter_ms = jitter_ms_->value();
  if (field == QLatin1String("bandwidth")) f.bandwidth_mbps = bandwidth_mbps_->value();
  if (field == QLatin1String("drop")) f.drop_probability = drop_percent_->value() / 100;
  if (field == QLatin1String("freeze")) f.freeze_s = freeze_s_->value();
}

void FaultParamsForm::setFault(const FaultConfig& f) {
  loading_ = true;
  kind_->setCurrentIndex(kind_->findData(QString::fromStdString(f.kind)));
  showKind(QString::fromStdString(f.kind));
  slowdown_->setValue(f.slowdown);
  delay_ms_->setValue(f.delay_ms);
  jitter_ms_->setValue(f.jitter_ms);
  bandwidth_mbps_->setValue(f.bandwidth_mbps);
  drop_percent_->setValue(f.drop_probability * 100);
  freeze_s_->setValue(f.freeze_s);
  loading_ = false;
}

void FaultParamsForm::showKind(const QString& kind) {
  const Page page = pageOf(kind);
  QString note;
  for (const auto& k : kKinds) {
    if (kind == QLatin1String(k.kind) && k.note) note = tr(k.note);
  }
  note_->setText(note);
  // Only the page shown takes room, so what follows the form sits right under it.
  for (int i = 0; i < params_->count(); ++i) {
    const auto policy = i == page ? QSizePolicy::Preferred : QSizePolicy::Ignored;
    params_->widget(i)->setSizePolicy(policy, policy);
  }
  params_->setCurrentIndex(page);
  params_->setVisible(kind_->findData(kind) >= 0);
  params_->adjustSize();
}

}  // namespace edgerig::ui
