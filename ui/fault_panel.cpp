#include "ui/fault_panel.h"

#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

#include "ui/fault_params_form.h"
#include "ui/palette.h"

namespace edgerig::ui {

FaultPanel::FaultPanel(QWidget* parent) : QWidget(parent) {
  devices_ = new QListWidget(this);
  devices_->setObjectName("faultDevices");
  devices_->setToolTip(tr("Tick the devices the fault applies to"));
  devices_->setMaximumHeight(120);

  params_ = new FaultParamsForm({}, this);

  apply_ = new QPushButton(tr("Apply"), this);
  apply_->setObjectName("faultApply");

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(new QLabel(tr("Devices"), this));
  layout->addWidget(devices_);
  layout->addWidget(params_);
  layout->addWidget(apply_);
  layout->addStretch(1);

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

FaultConfig FaultPanel::currentFault() const { return params_->fault(); }

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
