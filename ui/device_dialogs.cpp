#include "ui/device_dialogs.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QStyledItemDelegate>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>

#include "device_bridge/address.h"

namespace edgerig::ui {
namespace {

constexpr int kMaxLocalDevices = 32;

// Profile table columns. Drop is shown in percent, as the fault panel does.
enum Column { kName, kSlowdown, kDelay, kJitter, kBandwidth, kDrop, kColumns };

struct ColumnSpec {
  const char* header;
  const char* tip;
  double lo, hi;
  int decimals;
};
constexpr ColumnSpec kSpecs[kColumns] = {
    {"Name", "The device's name in the run (dev<i> by default)", 0, 0, 0},
    {"Slowdown ×", "Compute slowdown (1 = native speed)", 1, 1000, 1},
    {"Delay ms", "Added delay on the device's outgoing links", 0, 100000, 1},
    {"Jitter ms", "Random extra delay on outgoing links", 0, 100000, 1},
    {"Bandwidth Mbit/s", "Outgoing bandwidth cap (0 = unlimited)", 0, 1000000, 1},
    {"Drop %", "Probability of dropping an outgoing message", 0, 99.9, 1},
};

// Spin-box editors with each column's range, so a table cell cannot hold a bad value.
class ProfileDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem& option,
                        const QModelIndex& index) const override {
    if (index.column() == kName) return QStyledItemDelegate::createEditor(parent, option, index);
    const ColumnSpec& s = kSpecs[index.column()];
    auto* e = new QDoubleSpinBox(parent);
    e->setRange(s.lo, s.hi);
    e->setDecimals(s.decimals);
    return e;
  }
};

double cellNumber(const QTableWidget* t, int row, int column) {
  const QTableWidgetItem* item = t->item(row, column);
  return item ? item->data(Qt::EditRole).toDouble() : 0.0;
}

}  // namespace

std::vector<std::string> experimentDeviceNames(const ExperimentConfig& config) {
  std::vector<std::string> names;
  for (int i = 0; i < config.local_count; ++i) {
    const bool named =
        i < static_cast<int>(config.profiles.size()) && !config.profiles[i].name.empty();
    names.push_back(named ? config.profiles[i].name : "dev" + std::to_string(i));
  }
  for (const auto& r : config.remote) names.push_back(r);
  return names;
}

QString devicesSummary(const ExperimentConfig& config) {
  QStringList parts;
  if (config.local_count > 0) {
    const QString preset = detectPreset(config.profiles, config.local_count);
    QString local = QObject::tr("%1 local").arg(config.local_count);
    if (preset == QLatin1String("custom")) {
      local += QObject::tr(" (custom profiles)");
    } else if (preset != QLatin1String("uniform")) {
      local += QObject::tr(" (%1 slowdowns)").arg(preset);
    }
    parts << local;
  }
  if (!config.remote.empty()) parts << QObject::tr("%1 remote").arg(config.remote.size());
  return parts.isEmpty() ? QObject::tr("no devices") : parts.join(QStringLiteral(", "));
}

std::vector<DeviceProfileConfig> presetProfiles(const QString& preset, int count) {
  std::vector<DeviceProfileConfig> out(static_cast<size_t>(std::max(count, 0)));
  for (int i = 0; i < count; ++i) {
    if (preset == QLatin1String("1:10")) {
      out[i].slowdown = i == count - 1 ? 10 : 1;
    } else if (preset == QLatin1String("1:2:4:8")) {
      out[i].slowdown = 1 << (i % 4);
    } else if (preset != QLatin1String("uniform")) {
      return {};
    }
  }
  return out;
}

QString detectPreset(const std::vector<DeviceProfileConfig>& profiles, int count) {
  if (static_cast<int>(profiles.size()) > count) return QStringLiteral("custom");
  std::vector<DeviceProfileConfig> padded = profiles;
  padded.resize(static_cast<size_t>(std::max(count, 0)));
  for (const QString& p : kSlowdownPresets) {
    if (p != QLatin1String("custom") && presetProfiles(p, count) == padded) return p;
  }
  return QStringLiteral("custom");
}

// ---------------------------------------------------------------------------------------------

LocalTestbedDialog::LocalTestbedDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Local testbed"));
  count_ = new QSpinBox(this);
  count_->setObjectName("localCount");
  count_->setRange(1, kMaxLocalDevices);
  count_->setValue(3);
  count_->setToolTip(tr("How many agent processes to start on this machine"));

  preset_ = new QComboBox(this);
  preset_->setObjectName("slowdownPreset");
  preset_->addItems(kSlowdownPresets);
  preset_->setToolTip(
      tr("uniform: all native speed\n1:10: the last device 10× slower than the others\n"
         "1:2:4:8: device i slowed 2^(i mod 4)×\ncustom: edit the table"));

  table_ = new QTableWidget(0, kColumns, this);
  table_->setObjectName("profileTable");
  table_->setItemDelegate(new ProfileDelegate(table_));
  for (int c = 0; c < kColumns; ++c) {
    auto* h = new QTableWidgetItem(tr(kSpecs[c].header));
    h->setToolTip(tr(kSpecs[c].tip));
    table_->setHorizontalHeaderItem(c, h);
  }
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setSectionResizeMode(kName, QHeaderView::Stretch);
  table_->setToolTip(tr("Emulated profile per device; editing a cell switches to custom"));

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons->setObjectName("buttons");
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

  auto* form = new QFormLayout;
  form->addRow(tr("Devices"), count_);
  form->addRow(tr("Slowdown preset"), preset_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(table_, 1);
  layout->addWidget(buttons);
  resize(720, 420);

  connect(count_, &QSpinBox::valueChanged, this, &LocalTestbedDialog::onCountChanged);
  connect(preset_, &QComboBox::currentTextChanged, this, [this](const QString& p) {
    if (p != QLatin1String("custom")) fillTable(presetProfiles(p, count()));
  });
  connect(table_, &QTableWidget::itemChanged, this, &LocalTestbedDialog::onCellEdited);
  fillTable(presetProfiles(QStringLiteral("uniform"), count()));
}

void LocalTestbedDialog::setConfig(const ExperimentConfig& config) {
  const int n = std::clamp(config.local_count, 1, kMaxLocalDevices);
  const QString p = detectPreset(config.profiles, n);
  filling_ = true;
  count_->setValue(n);
  preset_->setCurrentText(p);
  filling_ = false;
  std::vector<DeviceProfileConfig> profiles = config.profiles;
  profiles.resize(static_cast<size_t>(n));
  fillTable(profiles);
}

void LocalTestbedDialog::setCount(int count) { count_->setValue(count); }
void LocalTestbedDialog::setPreset(const QString& preset) { preset_->setCurrentText(preset); }
QString LocalTestbedDialog::preset() const { return preset_->currentText(); }
int LocalTestbedDialog::count() const { return count_->value(); }

std::vector<DeviceProfileConfig> LocalTestbedDialog::profiles() const {
  std::vector<DeviceProfileConfig> out;
  for (int r = 0; r < table_->rowCount(); ++r) {
    DeviceProfileConfig p;
    if (const QTableWidgetItem* name = table_->item(r, kName)) {
      p.name = name->text().trimmed().toStdString();
      if (p.name == "dev" + std::to_string(r)) p.name.clear();  // the default, shown
    }
    p.slowdown = cellNumber(table_, r, kSlowdown);
    p.delay_ms = cellNumber(table_, r, kDelay);
    p.jitter_ms = cellNumber(table_, r, kJitter);
    p.bandwidth_mbps = cellNumber(table_, r, kBandwidth);
    p.drop_probability = cellNumber(table_, r, kDrop) / 100.0;
    out.push_back(p);
  }
  return out;
}

void LocalTestbedDialog::applyTo(ExperimentConfig& config, int count,
                                 std::vector<DeviceProfileConfig> profiles) {
  config.local_count = count;
  profiles.resize(std::min(profiles.size(), static_cast<size_t>(std::max(count, 0))));
  while (!profiles.empty() && profiles.back() == DeviceProfileConfig{}) profiles.pop_back();
  config.profiles = std::move(profiles);
}

void LocalTestbedDialog::fillTable(const std::vector<DeviceProfileConfig>& profiles) {
  const bool was_filling = filling_;
  filling_ = true;
  table_->setRowCount(static_cast<int>(profiles.size()));
  for (int r = 0; r < table_->rowCount(); ++r) {
    const DeviceProfileConfig& p = profiles[r];
    auto set = [&](int column, const QVariant& v) {
      auto* item = new QTableWidgetItem;
      item->setData(Qt::EditRole, v);
      if (column != kName) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      table_->setItem(r, column, item);
    };
    set(kName, p.name.empty() ? QStringLiteral("dev%1").arg(r) : QString::fromStdString(p.name));
    set(kSlowdown, p.slowdown);
    set(kDelay, p.delay_ms);
    set(kJitter, p.jitter_ms);
    set(kBandwidth, p.bandwidth_mbps);
    set(kDrop, p.drop_probability * 100.0);
    table_->setVerticalHeaderItem(r, new QTableWidgetItem(QString::number(r)));
  }
  filling_ = was_filling;
}

void LocalTestbedDialog::onCountChanged(int count) {
  if (filling_) return;
  if (preset() != QLatin1String("custom")) {
    fillTable(presetProfiles(preset(), count));
    return;
  }
  // Custom: keep the rows the user edited, add native devices or drop the last ones.
  std::vector<DeviceProfileConfig> p = profiles();
  p.resize(static_cast<size_t>(count));
  fillTable(p);
}

void LocalTestbedDialog::onCellEdited() {
  if (filling_) return;
  filling_ = true;
  preset_->setCurrentText(QStringLiteral("custom"));
  filling_ = false;
}

// ---------------------------------------------------------------------------------------------

ConnectDevicesDialog::ConnectDevicesDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Connect devices"));
  addresses_ = new QListWidget(this);
  addresses_->setObjectName("remoteAddresses");
  addresses_->setToolTip(tr("Agents to dial, one host:port per row (double-click to edit)"));

  auto* add = new QPushButton(tr("Add"), this);
  add->setObjectName("addAddress");
  auto* remove = new QPushButton(tr("Remove"), this);
  remove->setObjectName("removeAddress");
  remove->setToolTip(tr("Remove the selected address"));

  token_ = new QLineEdit(this);
  token_->setObjectName("tokenFile");
  token_->setPlaceholderText(tr("file holding the agents' pre-shared token"));
  token_->setToolTip(tr("The same file the agents were started with (--token-file)"));
  auto* browse = new QPushButton(tr("Browse…"), this);
  browse->setObjectName("tokenBrowse");

  keep_local_ = new QCheckBox(tr("Keep the local testbed too"), this);
  keep_local_->setObjectName("keepLocal");
  keep_local_->setToolTip(tr("Run the local agents beside the remote ones"));

  problem_ = new QLabel(this);
  problem_->setObjectName("connectProblem");
  problem_->setWordWrap(true);
  problem_->setStyleSheet(QStringLiteral("color: #b3261e;"));

  buttons_ = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons_->setObjectName("buttons");
  connect(buttons_, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);

  auto* row_buttons = new QHBoxLayout;
  row_buttons->addWidget(add);
  row_buttons->addWidget(remove);
  row_buttons->addStretch(1);
  auto* token_row = new QHBoxLayout;
  token_row->addWidget(token_, 1);
  token_row->addWidget(browse);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(new QLabel(tr("Agent addresses (host:port)"), this));
  layout->addWidget(addresses_, 1);
  layout->addLayout(row_buttons);
  layout->addWidget(new QLabel(tr("Token file"), this));
  layout->addLayout(token_row);
  layout->addWidget(keep_local_);
  layout->addWidget(problem_);
  layout->addWidget(buttons_);
  resize(520, 420);

  connect(add, &QPushButton::clicked, this, [this] { addAddress(); });
  connect(remove, &QPushButton::clicked, this, &ConnectDevicesDialog::removeSelectedAddress);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString f = QFileDialog::getOpenFileName(this, tr("Token file"), token_->text());
    if (!f.isEmpty()) setTokenFile(f);
  });
  connect(token_, &QLineEdit::textChanged, this, &ConnectDevicesDialog::updateOk);
  connect(addresses_, &QListWidget::itemChanged, this, &ConnectDevicesDialog::updateOk);
  updateOk();
}

void ConnectDevicesDialog::setConfig(const ExperimentConfig& config) {
  setRemote(config.remote);
  setTokenFile(QString::fromStdString(config.token_file));
  keep_local_->setChecked(!config.remote.empty() && config.local_count > 0);
}

void ConnectDevicesDialog::setRemote(const std::vector<std::string>& addresses) {
  addresses_->clear();
  for (const auto& a : addresses) {
    auto* item = new QListWidgetItem(QString::fromStdString(a));
    item->setFlags(item->flags() | Qt::ItemIsEditable);
    addresses_->addItem(item);
  }
  updateOk();
}

void ConnectDevicesDialog::setTokenFile(const QString& path) { token_->setText(path); }

void ConnectDevicesDialog::addAddress(const QString& address) {
  auto* item = new QListWidgetItem(address);
  item->setFlags(item->flags() | Qt::ItemIsEditable);
  addresses_->addItem(item);
  if (address.isEmpty()) {
    addresses_->setCurrentItem(item);
    addresses_->editItem(item);
  }
  updateOk();
}

void ConnectDevicesDialog::removeSelectedAddress() {
  delete addresses_->currentItem();
  updateOk();
}

std::vector<std::string> ConnectDevicesDialog::remote() const {
  std::vector<std::string> out;
  for (int i = 0; i < addresses_->count(); ++i) {
    out.push_back(addresses_->item(i)->text().trimmed().toStdString());
  }
  return out;
}

QString ConnectDevicesDialog::tokenFile() const { return token_->text().trimmed(); }
bool ConnectDevicesDialog::keepLocal() const { return keep_local_->isChecked(); }

QString ConnectDevicesDialog::problem() const {
  const std::vector<std::string> list = remote();
  for (size_t i = 0; i < list.size(); ++i) {
    // The rule validateExperiment applies to devices.remote.N.
    auto address = bridge::parseHostPort(list[i]);
    const QString row = tr("Row %1: ").arg(i + 1);
    if (!address) return row + QString::fromStdString(address.status().message());
    if (address->port == 0) {
      return row + tr("address '%1' has port 0; give the port the agent listens on")
                       .arg(QString::fromStdString(list[i]));
    }
  }
  if (!list.empty() && tokenFile().isEmpty()) {
    return tr(
        "Choose the token file: remote agents only accept a controller that holds their "
        "pre-shared token.");
  }
  return {};
}

void ConnectDevicesDialog::applyTo(ExperimentConfig& config) const {
  config.remote = remote();
  config.token_file = tokenFile().toStdString();
  if (!config.remote.empty() && !keepLocal()) {
    config.local_count = 0;
    config.profiles.clear();
  }
}

void ConnectDevicesDialog::updateOk() {
  const QString why = problem();
  problem_->setText(why);
  problem_->setVisible(!why.isEmpty());
  buttons_->button(QDialogButtonBox::Ok)->setEnabled(why.isEmpty());
}

}  // namespace edgerig::ui
