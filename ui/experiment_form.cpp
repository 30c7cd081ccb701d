#include "ui/experiment_form.h"

#include "core/catalog/catalog.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QRegularExpressionValidator>
#include <QScrollArea>
#include <QSpinBox>
#include <QVBoxLayout>
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>

#include "core/controller/controller.h"
#include "ui/device_dialogs.h"

namespace edgerig::ui {
namespace {

const QColor kInvalidBackground(255, 214, 214);
const QColor kWarningText(179, 38, 30);

// Shows 0.05 rather than 0.050000 while still accepting six decimals.
class CompactDoubleSpinBox : public QDoubleSpinBox {
 public:
  using QDoubleSpinBox::QDoubleSpinBox;
  QString textFromValue(double value) const override { return locale().toString(value, 'g', 8); }
};

QSpinBox* intSpin(QWidget* parent, const char* name, int lo, int hi, const QString& special,
                  const QString& tip) {
  auto* s = new QSpinBox(parent);
  s->setObjectName(name);
  s->setRange(lo, hi);
  if (!special.isEmpty()) s->setSpecialValueText(special);
  s->setToolTip(tip);
  s->setGroupSeparatorShown(true);
  return s;
}

QDoubleSpinBox* doubleSpin(QWidget* parent, const char* name, double lo, double hi, int decimals,
                           double step, const QString& special, const QString& tip) {
  auto* s = new CompactDoubleSpinBox(parent);
  s->setObjectName(name);
  s->setDecimals(decimals);
  s->setRange(lo, hi);
  s->setSingleStep(step);
  if (!special.isEmpty()) s->setSpecialValueText(special);
  s->setToolTip(tip);
  return s;
}

int clampInt(int64_t v) { return static_cast<int>(std::clamp<int64_t>(v, 0, INT_MAX)); }

void setComboText(QComboBox* box, const std::string& value) {
  const QString v = QString::fromStdString(value);
  // A name the lists do not know stays visible, so validation can point at it.
  if (box->findText(v) < 0) box->addItem(v);
  box->setCurrentText(v);
}

void markInvalid(QWidget* w, bool invalid) {
  w->setProperty("validationError", invalid);
  if (!invalid) {
    w->setPalette(QPalette());
    w->setAutoFillBackground(false);
    return;
  }
  QPalette p = w->palette();
  p.setColor(QPalette::Base, kInvalidBackground);
  p.setColor(QPalette::Button, kInvalidBackground);
  p.setColor(QPalette::Window, kInvalidBackground);
  w->setPalette(p);
  w->setAutoFillBackground(true);
}

}  // namespace

ExperimentForm::ExperimentForm(QWidget* parent) : QWidget(parent), names_(knownNames()) {
  buildForm();
  load();
  showValidation();
}

void ExperimentForm::buildForm() {
  auto* content = new QWidget;
  auto group = [content](const QString& title) {
    auto* box = new QGroupBox(title, content);
    auto* form = new QFormLayout(box);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->setRowWrapPolicy(QFormLayout::WrapLongRows);
    return std::pair{box, form};
  };

  auto [run_box, run_form] = group(tr("Experiment"));
  name_ = new QLineEdit(run_box);
  name_->setObjectName("experimentName");
  name_->setToolTip(tr("Names the run folder: runs/<time>-<name>"));
  seed_ = new QLineEdit(run_box);
  seed_->setObjectName("experimentSeed");
  seed_->setValidator(
      new QRegularExpressionValidator(QRegularExpression(QStringLiteral("[0-9]{1,20}")), seed_));
  seed_->setToolTip(tr("Every random choice of the run (data order, initial weights) follows it"));
  run_form->addRow(tr("Name"), name_);
  run_form->addRow(tr("Seed"), seed_);

  auto [dev_box, dev_form] = group(tr("Devices"));
  devices_ = new QLabel(dev_box);
  devices_->setObjectName("devicesSummary");
  devices_->setWordWrap(true);
  local_button_ = new QPushButton(tr("Local testbed…"), dev_box);
  local_button_->setObjectName("localTestbedButton");
  local_button_->setToolTip(tr("Agents on this machine, with emulated slowdowns and links"));
  connect_button_ = new QPushButton(tr("Connect devices…"), dev_box);
  connect_button_->setObjectName("connectDevicesButton");
  connect_button_->setToolTip(tr("Real agents by address, with their token file"));
  auto* dev_buttons = new QHBoxLayout;
  dev_buttons->addWidget(local_button_);
  dev_buttons->addWidget(connect_button_);
  dev_buttons->addStretch(1);
  dev_form->addRow(devices_);
  dev_form->addRow(dev_buttons);

  auto [data_box, data_form] = group(tr("Model and data"));
  model_ = new QComboBox(data_box);
  model_->setObjectName("model");
  for (const auto& m : names_.models) model_->addItem(QString::fromStdString(m));
  dataset_ = new QComboBox(data_box);
  dataset_->setObjectName("dataset");
  for (const auto& d : names_.datasets) dataset_->addItem(QString::fromStdString(d));
  data_dir_ = new QLineEdit(data_box);
  data_dir_->setObjectName("dataDir");
  data_dir_->setPlaceholderText(tr("default location"));
  data_dir_->setToolTip(tr("Folder with the Fashion-MNIST IDX files, the same on every device"));
  data_dir_browse_ = new QPushButton(tr("Browse…"), data_box);
  data_dir_browse_->setObjectName("dataDirBrowse");
  auto* dir_row = new QHBoxLayout;
  dir_row->addWidget(data_dir_, 1);
  dir_row->addWidget(data_dir_browse_);
  train_limit_ = intSpin(data_box, "trainLimit", 0, INT_MAX, tr("all"),
                         tr("Use only the first N training samples (all = the whole split)"));
  test_limit_ = intSpin(data_box, "testLimit", 0, INT_MAX, tr("all"),
                        tr("Use only the first N test samples (all = the whole split)"));
  split_ = new QComboBox(data_box);
  split_->setObjectName("split");
  for (const auto& k : kSplitKinds) split_->addItem(QString::fromStdString(k));
  split_->setToolTip(
      tr("How a decentralized run shards the training set over its devices: iid, Dirichlet "
         "label skew (alpha), or a few classes per device. Pipelines ignore it."));
  alpha_ = doubleSpin(data_box, "alpha", 0.001, 1000, 3, 0.1, {},
                      tr("Dirichlet concentration: smaller is more skewed (0.1 strong, 100 ~iid)"));
  classes_per_device_ = intSpin(data_box, "classesPerDevice", 1, 10, {},
                                tr("Classes each device holds (the split 'classes')"));
  data_form->addRow(tr("Model"), model_);
  data_form->addRow(tr("Dataset"), dataset_);
  data_form->addRow(tr("Data folder"), dir_row);
  data_form->addRow(tr("Train samples"), train_limit_);
  data_form->addRow(tr("Test samples"), test_limit_);
  data_form->addRow(tr("Shards"), split_);
  data_form->addRow(tr("Alpha"), alpha_);
  data_form->addRow(tr("Classes per device"), classes_per_device_);

  auto [train_box, train_form] = group(tr("Training"));
  batch_size_ = intSpin(train_box, "batchSize", 1, 65536, {}, tr("Samples per iteration"));
  learning_rate_ =
      doubleSpin(train_box, "learningRate", 1e-6, 10, 6, 0.005, {}, tr("SGD learning rate"));
  momentum_ = doubleSpin(train_box, "momentum", 0, 0.999, 3, 0.05, {}, tr("SGD momentum, [0, 1)"));
  train_form->addRow(tr("Batch size"), batch_size_);
  train_form->addRow(tr("Learning rate"), learning_rate_);
  train_form->addRow(tr("Momentum"), momentum_);

  auto [stop_box, stop_form] = group(tr("Stop rule (first reached)"));
  epochs_ = doubleSpin(stop_box, "epochs", 0, 100000, 2, 0.5, tr("none"),
                       tr("Passes over the training split; fractions allowed"));
  max_iterations_ = intSpin(stop_box, "maxIterations", 0, INT_MAX, tr("no limit"),
                            tr("Stop after this many iterations"));
  max_seconds_ = doubleSpin(stop_box, "maxSeconds", 0, 1e7, 1, 10, tr("no limit"),
                            tr("Stop after this much training time (seconds)"));
  max_seconds_->setSuffix(QStringLiteral(" s"));
  stop_form->addRow(tr("Epochs"), epochs_);
  stop_form->addRow(tr("Max iterations"), max_iterations_);
  stop_form->addRow(tr("Max time"), max_seconds_);

  auto [eval_box, eval_form] = group(tr("Evaluation"));
  eval_every_ = intSpin(eval_box, "evalEvery", 0, INT_MAX, tr("only at the end"),
                        tr("Test accuracy every N iterations"));
  eval_samples_ = intSpin(eval_box, "evalSamples", 0, INT_MAX, tr("whole test split"),
                          tr("Test samples per evaluation"));
  eval_form->addRow(tr("Every (iterations)"), eval_every_);
  eval_form->addRow(tr("Samples"), eval_samples_);

  auto* content_layout = new QVBoxLayout(content);
  for (QGroupBox* b : {run_box, dev_box, data_box, train_box, stop_box, eval_box}) {
    content_layout->addWidget(b);
  }
  content_layout->addStretch(1);
  auto* scroll = new QScrollArea(this);
  scroll->setObjectName("experimentScroll");
  scroll->setWidget(content);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);

  message_ = new QLabel(this);
  message_->setObjectName("validationMessage");
  message_->setWordWrap(true);
  message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  message_->setContentsMargins(10, 6, 10, 6);
  QPalette warn = message_->palette();
  warn.setColor(QPalette::WindowText, kWarningText);
  message_->setPalette(warn);
  QFont bold = message_->font();
  bold.setBold(true);
  message_->setFont(bold);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(scroll, 1);
  layout->addWidget(message_);

  field_widgets_ = {{"name", name_},
                    {"seed", seed_},
                    {"devices", devices_},
                    {"model", model_},
                    {"dataset.name", dataset_},
                    {"dataset.syntheticSize", dataset_},
                    {"dataset.dataDir", data_dir_},
                    {"dataset.trainLimit", train_limit_},
                    {"dataset.testLimit", test_limit_},
                    {"dataset.split", split_},
                    {"dataset.alpha", alpha_},
                    {"dataset.classesPerDevice", classes_per_device_},
                    {"training.batchSize", batch_size_},
                    {"training.learningRate", learning_rate_},
                    {"training.momentum", momentum_},
                    {"training.epochs", epochs_},
                    {"training.maxIterations", max_iterations_},
                    {"training.maxSeconds", max_seconds_},
                    {"training.evalEvery", eval_every_},
                    {"training.evalSamples", eval_samples_}};

  auto edited = [this] { userEdited(); };
  for (QLineEdit* e : {name_, seed_, data_dir_}) connect(e, &QLineEdit::textChanged, this, edited);
  for (QComboBox* c : {model_, dataset_, split_}) {
    connect(c, &QComboBox::currentTextChanged, this, edited);
  }
  for (QSpinBox* s : {train_limit_, test_limit_, classes_per_device_, batch_size_, max_iterations_,
                      eval_every_, eval_samples_}) {
    connect(s, &QSpinBox::valueChanged, this, edited);
  }
  for (QDoubleSpinBox* s : {alpha_, learning_rate_, momentum_, epochs_, max_seconds_}) {
    connect(s, &QDoubleSpinBox::valueChanged, this, edited);
  }
  connect(local_button_, &QPushButton::clicked, this, &ExperimentForm::openLocalTestbedDialog);
  connect(connect_button_, &QPushButton::clicked, this, &ExperimentForm::openConnectDevicesDialog);
  connect(data_dir_browse_, &QPushButton::clicked, this, [this] {
    const QString dir =
        QFileDialog::getExistingDirectory(this, tr("Dataset folder"), data_dir_->text());
    if (!dir.isEmpty()) data_dir_->setText(dir);
  });
}

void ExperimentForm::setConfig(const ExperimentConfig& config) {
  config_ = config;
  load();
  showValidation();
}

void ExperimentForm::load() {
  loading_ = true;
  name_->setText(QString::fromStdString(config_.name));
  seed_->setText(QString::number(config_.seed));
  devices_->setText(devicesSummary(config_));
  setComboText(model_, config_.model);
  setComboText(dataset_, config_.dataset);
  data_dir_->setText(QString::fromStdString(config_.data_dir));
  train_limit_->setValue(clampInt(config_.train_limit));
  test_limit_->setValue(clampInt(config_.test_limit));
  setComboText(split_, config_.split);
  alpha_->setValue(config_.alpha);
  classes_per_device_->setValue(clampInt(config_.classes_per_device));
  batch_size_->setValue(config_.batch_size);
  learning_rate_->setValue(config_.learning_rate);
  momentum_->setValue(config_.momentum);
  epochs_->setValue(config_.epochs);
  max_iterations_->setValue(clampInt(config_.max_iterations));
  max_seconds_->setValue(config_.max_seconds);
  eval_every_->setValue(clampInt(config_.eval_every));
  eval_samples_->setValue(clampInt(config_.eval_samples));
  loading_ = false;
}

ExperimentConfig ExperimentForm::config() const {
  ExperimentConfig c = config_;
  c.name = name_->text().trimmed().toStdString();
  bool ok = false;
  const qulonglong seed = seed_->text().toULongLong(&ok);
  if (ok) c.seed = seed;
  c.model = model_->currentText().toStdString();
  c.dataset = dataset_->currentText().toStdString();
  c.data_dir = data_dir_->text().trimmed().toStdString();
  c.train_limit = train_limit_->value();
  c.test_limit = test_limit_->value();
  c.split = split_->currentText().toStdString();
  c.alpha = alpha_->value();
  c.classes_per_device = classes_per_device_->value();
  c.batch_size = batch_size_->value();
  c.learning_rate = learning_rate_->value();
  c.momentum = momentum_->value();
  c.epochs = epochs_->value();
  c.max_iterations = max_iterations_->value();
  c.max_seconds = max_seconds_->value();
  c.eval_every = eval_every_->value();
  c.eval_samples = eval_samples_->value();
  return c;
}

void ExperimentForm::setAlgorithm(const AlgorithmConfig& algorithm) {
  config_.algorithm = algorithm;
  showValidation();
}

void ExperimentForm::setFaults(const std::vector<FaultConfig>& faults) {
  config_.faults = faults;
  showValidation();
}

void ExperimentForm::setDevices(int local_count, const std::vector<DeviceProfileConfig>& profiles,
                                const std::vector<std::string>& remote,
                                const std::string& token_file) {
  config_.local_count = local_count;
  config_.profiles = profiles;
  config_.remote = remote;
  config_.token_file = token_file;
  devices_->setText(devicesSummary(config_));
  userEdited();
}

Status ExperimentForm::validate() const {
  bool ok = false;
  seed_->text().toULongLong(&ok);
  if (!ok) {
    return invalidArgument("field seed: must be a whole number from 0 to " +
                           std::to_string(UINT64_MAX));
  }
  return validateExperiment(config(), names_);
}

Status ExperimentForm::saveExperimentFile(const ExperimentConfig& config, const QString& path) {
  const std::string target = path.toStdString();
  const std::string tmp = target + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      return unavailable("cannot write experiment file " + target + " (" + std::strerror(errno) +
                         "); check that the folder exists and is writable");
    }
    out << toJson(config);
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      return unavailable("cannot write experiment file " + target + " (" + std::strerror(errno) +
                         "); check the free space");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, target, ec);  // atomic on one file system: old or new, never half
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    return unavailable("cannot replace experiment file " + target + " (" + ec.message() +
                       "); check the permissions of the file and its folder");
  }
  return Status::ok();
}

Result<ExperimentConfig> ExperimentForm::openExperimentFile(const QString& path) {
  return loadExperiment(path.toStdString(), knownNames());
}

void ExperimentForm::setEditable(bool editable) {
  // Read-only rather than disabled: the values stay readable on a projector during a run.
  for (QLineEdit* e : {name_, seed_, data_dir_}) e->setReadOnly(!editable);
  for (QAbstractSpinBox* s : std::initializer_list<QAbstractSpinBox*>{
           train_limit_, test_limit_, alpha_, classes_per_device_, batch_size_, learning_rate_,
           momentum_, epochs_, max_iterations_, max_seconds_, eval_every_, eval_samples_}) {
    s->setReadOnly(!editable);
    s->setButtonSymbols(editable ? QAbstractSpinBox::UpDownArrows : QAbstractSpinBox::NoButtons);
  }
  for (QWidget* w : std::initializer_list<QWidget*>{model_, dataset_, split_, data_dir_browse_,
                                                    local_button_, connect_button_}) {
    w->setEnabled(editable);
  }
}

void ExperimentForm::openLocalTestbedDialog() {
  LocalTestbedDialog dialog(this);
  dialog.setObjectName("localTestbedDialog");
  dialog.setConfig(config_);
  if (dialog.exec() != QDialog::Accepted) return;
  ExperimentConfig c = config_;
  LocalTestbedDialog::applyTo(c, dialog.count(), dialog.profiles());
  setDevices(c.local_count, c.profiles, c.remote, c.token_file);
}

void ExperimentForm::openConnectDevicesDialog() {
  ConnectDevicesDialog dialog(this);
  dialog.setObjectName("connectDevicesDialog");
  dialog.setConfig(config_);
  if (dialog.exec() != QDialog::Accepted) return;
  ExperimentConfig c = config_;
  dialog.applyTo(c);
  setDevices(c.local_count, c.profiles, c.remote, c.token_file);
}

void ExperimentForm::userEdited() {
  if (loading_) return;
  showValidation();
  emit configChanged();
}

QWidget* ExperimentForm::widgetForField(const QString& field) const {
  // The longest known prefix on a dot boundary: "devices.remote.1" → "devices".
  QWidget* best = nullptr;
  qsizetype best_len = -1;
  for (const auto& [prefix, widget] : field_widgets_) {
    const bool match = field == prefix || field.startsWith(prefix + QLatin1Char('.'));
    if (match && prefix.size() > best_len) {
      best = widget;
      best_len = prefix.size();
    }
  }
  return best;
}

void ExperimentForm::showValidation() {
  const Status s = validate();
  QWidget* target = nullptr;
  if (!s) {
    static const QRegularExpression kField(QStringLiteral("field ([A-Za-z0-9_.]+):"));
    const auto m = kField.match(QString::fromStdString(s.message()));
    if (m.hasMatch()) target = widgetForField(m.captured(1));
  }
  if (invalid_widget_ && invalid_widget_ != target) markInvalid(invalid_widget_, false);
  if (target) markInvalid(target, true);
  invalid_widget_ = target;
  message_->setText(s ? QString() : QString::fromStdString(s.message()));
  message_->setVisible(!s);
}

}  // namespace edgerig::ui
