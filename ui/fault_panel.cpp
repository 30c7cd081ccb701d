#include "ui/fault_panel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QStackedWidget>
#include <QVBoxLayout>

#include "ui/palette.h"

namespace edgerig::ui {
namespace {

QDoubleSpinBox* spin(QWidget* parent, const char* name, double lo, double hi, double value,
                     int decimals, const QString& suffix) {
  auto* s = new QDoubleSpinBox(parent);
  s->setObjectName(name);
  s->setRange(lo, hi);
  s->setDecimals(decimals);
  s->setValue(value);
  s->setSuffix(suffix);
  return s;
}

// Page order of the parameter stack follows kFaultKinds: slowdown, link, freeze, crash, restart,
// clear.
struct KindText {
  const char* kind;
  const char* label;
};
constexpr KindText kKinds[] = {
    {"slowdown", "Slow down compute"},    {"link", "Shape outgoing links"},
    {"freeze", "Freeze (straggler)"},     {"crash", "Crash"},
    {"restart", "Restart (local agent)"}, {"clear", "Clear faults"}};

}  // namespace

FaultPanel::FaultPanel(QWidget* parent) : QWidget(parent) {
  devices_ = new QListWidget(this);
  devices_->setObjectName("faultDevices");
  devices_->setToolTip(tr("Tick the devices the fault applies to"));
  devices_->setMaximumHeight(120);

  kind_ = new QComboBox(this);
  kind_->setObjectName("faultKind");
  for (const auto& k : kKinds) kind_->addItem(tr(k.label), QString::fromUtf8(k.kind));

  params_ = new QStackedWidget(this);
  auto* slow_page = new QWidget;
  auto* slow_form = new QFormLayout(slow_page);
  slowdown_ = spin(slow_page, "faultSlowdown", 1, 100, 4, 1, QStringLiteral(" ×"));
  slow_form->addRow(tr("Factor"), slowdown_);
  params_->addWidget(slow_page);

  auto* link_page = new QWidget;
  auto* link_form = new QFormLayout(link_page);
  delay_ms_ = spin(link_page, "faultDelayMs", 0, 10000, 20, 1, QStringLiteral(" ms"));
  jitter_ms_ = spin(link_page, "faultJitterMs", 0, 10000, 0, 1, QStringLiteral(" ms"));
  bandwidth_mbps_ =
      spin(link_page, "faultBandwidthMbps", 0, 100000, 0, 1, QStringLiteral(" Mbit/s"));
  bandwidth_mbps_->setSpecialValueText(tr("unlimited"));
  drop_percent_ = spin(link_page, "faultDropPercent", 0, 100, 0, 1, QStringLiteral(" %"));
  link_form->addRow(tr("Delay"), delay_ms_);
  link_form->addRow(tr("Jitter"), jitter_ms_);
  link_form->addRow(tr("Bandwidth"), bandwidth_mbps_);
  link_form->addRow(tr("Drop"), drop_percent_);
  params_->addWidget(link_page);

  auto* freeze_page = new QWidget;
  auto* freeze_form = new QFormLayout(freeze_page);
  freeze_s_ = spin(freeze_page, "faultFreezeS", 0.1, 3600, 5, 1, QStringLiteral(" s"));
  freeze_form->addRow(tr("For"), freeze_s_);
  params_->addWidget(freeze_page);

  auto note = [](const QString& text) {
    auto* l = new QLabel(text);
    l->setWordWrap(true);
    return l;
  };
  params_->addWidget(note(tr("The agent exits at once; a local one is killed (SIGKILL).")));
  params_->addWidget(
      note(tr("At the next iteration boundary the model is gathered, the local "
              "agent is killed and started again, and training resumes.")));
  params_->addWidget(note(tr("Removes slowdown and link shaping from the chosen devices.")));

  apply_ = new QPushButton(tr("Apply"), this);
  apply_->setObjectName("faultApply");

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(new QLabel(tr("Devices"), this));
  layout->addWidget(devices_);
  layout->addWidget(kind_);
  layout->addWidget(params_);
  layout->addWidget(apply_);
  layout->addStretch(1);

  connect(kind_, &QComboBox::currentIndexChanged, this, [this](int page) {
    // Size the stack to the page shown, so Apply sits right under its parameters.
    for (int i = 0; i < params_->count(); ++i) {
      const auto policy = i == page ? QSizePolicy::Preferred : QSizePolicy::Ignored;
      params_->widget(i)->setSizePolicy(policy, policy);
    }
    params_->setCurrentIndex(page);
    params_->adjustSize();
  });
  for (int i = 1; i < params_->count(); ++i) {
    params_->widget(i)->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Ignored);
  }
  connect(apply_, &QPushButton::clicked, this, &FaultPanel::apply);
  connect(devices_, &QListWidget::itemChanged, this, [this] { updateApplyEnabled(); });
  updateApplyEnabled();
}

void FaultPanel::setDevices(const std::vector<DeviceStatus>& devices) {
  for (const auto& d : devices) {
    QListWidgetItem* item = nullptr;
    for (int i = 0; i < devices_->count(); ++i) {
      if (devices_->item(i)->data(Qt::UserRole).toInt() == d.index) item = devices_->item(i);
    }
    const QString text =
        QStringLiteral("%1  (%2)").arg(QString::fromStdString(d.name), deviceStateName(d.state));
    if (!item) {
      item = new QListWidgetItem(text);
      item->setData(Qt::UserRole, d.index);
      item->setFlags(Qt::ItemIsUserCheckable | Qt::ItemIsEnabled);
      item->setCheckState(Qt::Unchecked);
      item->setForeground(deviceColor(d.index).darker(130));
      devices_->addItem(item);
    } else if (item->text() != text) {
      item->setText(text);
    }
  }
}

void FaultPanel::setDeviceChecked(int device, bool checked) {
  for (int i = 0; i < devices_->count(); ++i) {
    if (devices_->item(i)->data(Qt::UserRole).toInt() == device) {
      devices_->item(i)->setCheckState(checked ? Qt::Checked : Qt::Unchecked);
    }
  }
}

std::vector<int> FaultPanel::checkedDevices() const {
  std::vector<int> out;
  for (int i = 0; i < devices_->count(); ++i) {
    if (devices_->item(i)->checkState() == Qt::Checked) {
      out.push_back(devices_->item(i)->data(Qt::UserRole).toInt());
    }
  }
  return out;
}

FaultConfig FaultPanel::currentFault() const {
  FaultConfig f;
  f.kind = kind_->currentData().toString().toStdString();
  if (f.kind == "slowdown") f.slowdown = slowdown_->value();
  if (f.kind == "link") {
    f.delay_ms = delay_ms_->value();
    f.jitter_ms = jitter_ms_->value();
    f.bandwidth_mbps = bandwidth_mbps_->value();
    f.drop_probability = drop_percent_->value() / 100.0;
  }
  if (f.kind == "freeze") f.freeze_s = freeze_s_->value();
  return f;
}

void FaultPanel::setRunActive(bool active) {
  run_active_ = active;
  updateApplyEnabled();
}

void FaultPanel::updateApplyEnabled() {
  apply_->setEnabled(run_active_ && !checkedDevices().empty());
  apply_->setToolTip(run_active_ ? tr("Apply to the ticked devices now")
                                 : tr("Start a run to inject faults"));
}

void FaultPanel::apply() {
  const FaultConfig base = currentFault();
  for (int d : checkedDevices()) {
    FaultConfig f = base;
    f.device = d;
    emit faultRequested(f);
  }
}

}  // namespace edgerig::ui
