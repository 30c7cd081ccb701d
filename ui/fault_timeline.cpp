#include "ui/fault_timeline.h"

#include "core/catalog/catalog.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QHelpEvent>
#include <QItemSelectionModel>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QPushButton>
#include <QSpinBox>
#include <QTableView>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <climits>
#include <numeric>

#include "ui/fault_params_form.h"
#include "ui/palette.h"

namespace edgerig::ui {
namespace {

bool atIteration(const FaultConfig& f) { return f.at_iteration != 0; }

// Timed faults by seconds, then faults at an iteration: the two clocks only meet during a run.
bool firesBefore(const FaultConfig& a, const FaultConfig& b) {
  if (atIteration(a) != atIteration(b)) return !atIteration(a);
  return atIteration(a) ? a.at_iteration < b.at_iteration : a.at_s < b.at_s;
}

QString number(double v) { return QString::number(v, 'g', 6); }

// Fresh parameters for a kind, so a kind change never carries another kind's values along.
FaultConfig withKind(const FaultConfig& from, const std::string& kind) {
  FaultConfig f;
  f.at_s = from.at_s;
  f.at_iteration = from.at_iteration;
  f.device = from.device;
  f.kind = kind;
  if (kind == "slowdown") f.slowdown = 4;
  if (kind == "link") f.delay_ms = 20;
  if (kind == "freeze") f.freeze_s = FaultParamsForm::kDefaultFreezeS;
  return f;
}

constexpr double kMarkRadius = 6;

}  // namespace

QString faultWhenText(const FaultConfig& f) {
  return atIteration(f) ? QObject::tr("at iteration %1").arg(f.at_iteration)
                        : QObject::tr("at %1 s").arg(number(f.at_s));
}

QString faultParamsText(const FaultConfig& f) {
  if (f.kind == "slowdown") return QStringLiteral("×%1").arg(number(f.slowdown));
  if (f.kind == "freeze") return QObject::tr("for %1 s").arg(number(f.freeze_s));
  if (f.kind == "crash") return QObject::tr("agent exits");
  if (f.kind == "restart") return QObject::tr("agent killed and restarted");
  if (f.kind == "clear") return QObject::tr("removes slowdown and link shaping");
  if (f.kind == "link") {
    QStringList p;
    p << QObject::tr("delay %1 ms").arg(number(f.delay_ms));
    if (f.jitter_ms > 0) p << QObject::tr("jitter %1 ms").arg(number(f.jitter_ms));
    p << (f.bandwidth_mbps > 0 ? QObject::tr("%1 Mbit/s").arg(number(f.bandwidth_mbps))
                               : QObject::tr("unlimited"));
    if (f.drop_probability > 0) {
      p << QObject::tr("drop %1%").arg(number(f.drop_probability * 100));
    }
    return p.join(QStringLiteral(", "));
  }
  return {};
}

QColor faultKindColor(const std::string& kind) {
  if (kind == "slowdown") return {230, 126, 34};
  if (kind == "link") return {31, 119, 180};
  if (kind == "freeze") return {142, 68, 173};
  if (kind == "crash") return {192, 57, 43};
  if (kind == "restart") return {141, 110, 99};
  if (kind == "clear") return {39, 174, 96};
  return {127, 127, 127};
}

std::vector<QString> faultProblems(const std::vector<FaultConfig>& faults, int devices) {
  std::vector<QString> out;
  for (size_t i = 0; i < faults.size(); ++i) {
    const QString at = QStringLiteral("faults.%1").arg(i);
    if (devices <= 0) {
      out.push_back(
          QStringLiteral("field %1.device: no devices yet; set up the devices first").arg(at));
      continue;
    }
    // validateExperiment on a config holding only this fault, renumbered to its row.
    ExperimentConfig c;
    c.local_count = devices;
    c.faults = {faults[i]};
    const Status s = validateExperiment(c, knownNames());
    QString message = QString::fromStdString(s.message());
    message.replace(QStringLiteral("field faults.0."), QStringLiteral("field %1.").arg(at));
    out.push_back(s ? QString() : message);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

FaultTableModel::FaultTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void FaultTableModel::setFaults(std::vector<FaultConfig> faults) {
  beginResetModel();
  faults_ = std::move(faults);
  std::stable_sort(faults_.begin(), faults_.end(), firesBefore);
  problems_ = faultProblems(faults_, static_cast<int>(devices_.size()));
  endResetModel();
}

void FaultTableModel::setDevices(std::vector<std::string> names) {
  devices_ = std::move(names);
  problems_ = faultProblems(faults_, static_cast<int>(devices_.size()));
  if (!faults_.empty()) emit dataChanged(index(0, 0), index(rowCount() - 1, kColumns - 1));
}

int FaultTableModel::addFault(FaultConfig fault) {
  const int row = rowCount();
  beginInsertRows({}, row, row);
  faults_.push_back(fault);
  problems_.emplace_back();
  endInsertRows();
  return replaceFault(row, fault);
}

int FaultTableModel::replaceFault(int row, const FaultConfig& fault) {
  if (row < 0 || row >= rowCount()) return -1;
  faults_[row] = fault;
  const int now = sortAndCheck()[row];
  emit dataChanged(index(0, 0), index(rowCount() - 1, kColumns - 1));
  return now;
}

void FaultTableModel::removeFault(int row) {
  if (row < 0 || row >= rowCount()) return;
  beginRemoveRows({}, row, row);
  faults_.erase(faults_.begin() + row);
  problems_.erase(problems_.begin() + row);
  endRemoveRows();
  // Row numbers in the messages follow the rows.
  problems_ = faultProblems(faults_, static_cast<int>(devices_.size()));
  if (!faults_.empty()) emit dataChanged(index(0, 0), index(rowCount() - 1, kColumns - 1));
}

std::vector<int> FaultTableModel::sortAndCheck() {
  std::vector<int> order(faults_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [this](int a, int b) { return firesBefore(faults_[a], faults_[b]); });
  emit layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
  std::vector<FaultConfig> sorted;
  std::vector<int> new_row(order.size());
  for (size_t r = 0; r < order.size(); ++r) {
    sorted.push_back(faults_[order[r]]);
    new_row[order[r]] = static_cast<int>(r);
  }
  faults_ = std::move(sorted);
  QModelIndexList from = persistentIndexList();
  QModelIndexList to;
  for (const QModelIndex& i : from) to << index(new_row[i.row()], i.column());
  changePersistentIndexList(from, to);
  problems_ = faultProblems(faults_, static_cast<int>(devices_.size()));
  emit layoutChanged({}, QAbstractItemModel::VerticalSortHint);
  return new_row;
}

QString FaultTableModel::deviceName(int device) const {
  if (device >= 0 && device < static_cast<int>(devices_.size())) {
    return QString::fromStdString(devices_[device]);
  }
  return tr("device %1 (missing)").arg(device);
}

int FaultTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(faults_.size());
}

int FaultTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumns;
}

QVariant FaultTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const FaultConfig& f = faults_[index.row()];
  const QString& problem = problems_[index.row()];
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case kAt:
          return atIteration(f) ? tr("iteration") : tr("time");
        case kWhen:
          return atIteration(f) ? QString::number(f.at_iteration)
                                : QStringLiteral("%1 s").arg(number(f.at_s));
        case kDevice:
          return deviceName(f.device);
        case kKind:
          return QString::fromStdString(f.kind);
        case kParams:
          return faultParamsText(f);
        default:
          return {};
      }
    case Qt::ToolTipRole:
      return problem.isEmpty() ? faultWhenText(f) : problem;
    case Qt::BackgroundRole:
      if (!problem.isEmpty()) return QColor(255, 214, 214);
      if (index.column() == kKind) return faultKindColor(f.kind).lighter(170);
      return {};
    case Qt::DecorationRole:
      if (index.column() == kDevice && f.device >= 0) return deviceColor(f.device);
      return {};
    case Qt::TextAlignmentRole:
      if (index.column() == kWhen) return int(Qt::AlignRight | Qt::AlignVCenter);
      return {};
    default:
      return {};
  }
}

QVariant FaultTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole) return {};
  if (orientation == Qt::Vertical) return section;  // the index validation messages use
  static const char* const kHeaders[kColumns] = {"At", "When", "Device", "Kind", "Parameters"};
  return section >= 0 && section < kColumns ? tr(kHeaders[section]) : QVariant();
}

// ---------------------------------------------------------------------------------------------

FaultTimelineEditor::FaultTimelineEditor(QWidget* parent) : QWidget(parent) {
  model_ = new FaultTableModel(this);
  strip_ = new FaultTimelineStrip(model_, this);

  table_ = new QTableView(this);
  table_->setObjectName("faultTable");
  table_->setModel(model_);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setMinimumHeight(table_->horizontalHeader()->sizeHint().height() +
                           4 * table_->verticalHeader()->defaultSectionSize() + 4);
  table_->setToolTip(tr("The fault schedule, sorted by when; select a row to edit it below"));

  auto* add = new QPushButton(tr("Add"), this);
  add->setObjectName("faultAdd");
  add->setToolTip(tr("A new fault 10 s after the last timed one"));
  remove_ = new QPushButton(tr("Remove"), this);
  remove_->setObjectName("faultRemove");
  duplicate_ = new QPushButton(tr("Duplicate"), this);
  duplicate_->setObjectName("faultDuplicate");
  duplicate_->setToolTip(tr("Copy the selected fault (then change its device or time)"));
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(add);
  buttons->addWidget(duplicate_);
  buttons->addWidget(remove_);
  buttons->addStretch(1);

  editors_ = new QWidget(this);
  at_kind_ = new QComboBox(editors_);
  at_kind_->setObjectName("faultAtKind");
  at_kind_->addItem(tr("at a time"), QStringLiteral("time"));
  at_kind_->addItem(tr("at an iteration"), QStringLiteral("iteration"));
  at_s_ = new QDoubleSpinBox(editors_);
  at_s_->setObjectName("faultAtS");
  at_s_->setRange(0, 1e7);
  at_s_->setDecimals(1);
  at_s_->setSuffix(QStringLiteral(" s"));
  at_s_->setToolTip(tr("Seconds of training time after the start"));
  at_iteration_ = new QSpinBox(editors_);
  at_iteration_->setObjectName("faultAtIteration");
  at_iteration_->setRange(1, INT_MAX);
  at_iteration_->setToolTip(tr("Applied at the start of this iteration"));
  auto* when = new QHBoxLayout;
  when->addWidget(at_kind_);
  when->addWidget(at_s_, 1);
  when->addWidget(at_iteration_, 1);
  device_ = new QComboBox(editors_);
  device_->setObjectName("faultDevice");
  params_ = new FaultParamsForm(QStringLiteral("Edit"), editors_);
  // When and Device go above the kind, in the same form.
  params_->formLayout()->insertRow(0, tr("When"), when);
  params_->formLayout()->insertRow(1, tr("Device"), device_);
  auto* editors_layout = new QVBoxLayout(editors_);
  editors_layout->setContentsMargins(0, 0, 0, 0);
  editors_layout->addWidget(params_);

  problem_ = new QLabel(this);
  problem_->setObjectName("faultValidation");
  problem_->setWordWrap(true);
  problem_->setStyleSheet(QStringLiteral("color: #b3261e; font-weight: bold;"));

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(strip_);
  layout->addWidget(table_, 1);
  layout->addLayout(buttons);
  layout->addWidget(editors_);
  layout->addWidget(problem_);

  connect(add, &QPushButton::clicked, this, &FaultTimelineEditor::addFault);
  connect(remove_, &QPushButton::clicked, this, &FaultTimelineEditor::removeFault);
  connect(duplicate_, &QPushButton::clicked, this, &FaultTimelineEditor::duplicateFault);
  connect(strip_, &FaultTimelineStrip::rowClicked, this, &FaultTimelineEditor::selectRow);
  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this] { loadEditors(); });
  connect(at_kind_, &QComboBox::currentIndexChanged, this, [this] { editorsChanged("at"); });
  connect(at_s_, &QDoubleSpinBox::valueChanged, this, [this] { editorsChanged("at_s"); });
  connect(at_iteration_, &QSpinBox::valueChanged, this, [this] { editorsChanged("at_it"); });
  connect(device_, &QComboBox::currentIndexChanged, this, [this] { editorsChanged("device"); });
  connect(params_, &FaultParamsForm::kindChanged, this, [this] { editorsChanged("kind"); });
  connect(params_, &FaultParamsForm::paramEdited, this, &FaultTimelineEditor::editorsChanged);
  loadEditors();
  updateProblem();
}

void FaultTimelineEditor::setFaults(std::vector<FaultConfig> faults) {
  model_->setFaults(std::move(faults));
  loadEditors();
  updateProblem();
}

void FaultTimelineEditor::setDevices(std::vector<std::string> names) {
  model_->setDevices(std::move(names));
  strip_->updateGeometry();
  loadEditors();
  updateProblem();
}

QString FaultTimelineEditor::problem() const {
  for (const QString& p : model_->problems()) {
    if (!p.isEmpty()) return p;
  }
  return {};
}

int FaultTimelineEditor::currentRow() const {
  const QModelIndex i = table_->selectionModel()->currentIndex();
  return i.isValid() ? i.row() : -1;
}

void FaultTimelineEditor::selectRow(int row) {
  if (row < 0 || row >= model_->rowCount()) {
    table_->selectionModel()->clearCurrentIndex();
    table_->clearSelection();
  } else {
    table_->selectRow(row);
    table_->selectionModel()->setCurrentIndex(
        model_->index(row, 0), QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  }
  loadEditors();
}

void FaultTimelineEditor::addFault() {
  FaultConfig f = withKind(FaultConfig{}, "slowdown");
  for (const auto& g : model_->faults()) {
    if (!atIteration(g)) f.at_s = std::max(f.at_s, g.at_s);
  }
  f.at_s += 10;
  if (const int row = currentRow(); row >= 0) f.device = model_->faults()[row].device;
  selectRow(model_->addFault(f));
  updateProblem();
  emit faultsChanged();
}

void FaultTimelineEditor::removeFault() {
  const int row = currentRow();
  if (row < 0) return;
  model_->removeFault(row);
  selectRow(std::min(row, model_->rowCount() - 1));
  updateProblem();
  emit faultsChanged();
}

void FaultTimelineEditor::duplicateFault() {
  const int row = currentRow();
  if (row < 0) return;
  selectRow(model_->addFault(model_->faults()[row]));
  updateProblem();
  emit faultsChanged();
}

void FaultTimelineEditor::loadEditors() {
  const int row = currentRow();
  strip_->setSelectedRow(row);
  editors_->setEnabled(row >= 0);
  remove_->setEnabled(row >= 0);
  duplicate_->setEnabled(row >= 0);
  loading_ = true;
  const FaultConfig f = row >= 0 ? model_->faults()[row] : FaultConfig{};
  device_->clear();
  for (size_t d = 0; d < model_->devices().size(); ++d) {
    device_->addItem(QString::fromStdString(model_->devices()[d]), static_cast<int>(d));
  }
  if (device_->findData(f.device) < 0) {
    device_->addItem(tr("device %1 (missing)").arg(f.device), f.device);
  }
  device_->setCurrentIndex(device_->findData(f.device));
  at_kind_->setCurrentIndex(atIteration(f) ? 1 : 0);
  at_s_->setVisible(!atIteration(f));
  at_iteration_->setVisible(atIteration(f));
  at_s_->setValue(f.at_s);
  at_iteration_->setValue(static_cast<int>(std::clamp<int64_t>(f.at_iteration, 1, INT_MAX)));
  params_->setFault(f);
  loading_ = false;
}

void FaultTimelineEditor::editorsChanged(const QString& what) {
  const int row = currentRow();
  if (loading_ || row < 0) return;
  FaultConfig f = model_->faults()[row];
  // Only the edited field changes: a value the spin boxes could not show (say a slowdown of 0.5
  // read from a file) stays as it is, and stays flagged, until it is edited.
  if (what == QLatin1String("at")) {
    const bool iteration = at_kind_->currentIndex() == 1;
    f.at_iteration = iteration ? at_iteration_->value() : 0;
  } else if (what == QLatin1String("at_s")) {
    f.at_s = at_s_->value();
  } else if (what == QLatin1String("at_it")) {
    f.at_iteration = at_iteration_->value();
  } else if (what == QLatin1String("device")) {
    f.device = device_->currentData().toInt();
  } else if (what == QLatin1String("kind")) {
    f = withKind(f, params_->kind());
  } else {
    params_->applyField(what, f);
  }
  const int now = model_->replaceFault(row, f);
  selectRow(now);  // also refreshes the editors (a kind change shows its defaults)
  updateProblem();
  emit faultsChanged();
}

void FaultTimelineEditor::updateProblem() {
  const QString p = problem();
  problem_->setText(p);
  problem_->setVisible(!p.isEmpty());
  strip_->update();
}

}  // namespace edgerig::ui
