#include "ui/compare_dialog.h"

#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

#include "ui/compare_runs.h"

namespace edgerig::ui {

CompareDialog::CompareDialog(const QStringList& made, const QString& start_dir, QWidget* parent)
    : QDialog(parent), start_dir_(start_dir) {
  setWindowTitle(tr("Compare runs"));
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(new QLabel(
      tr("Tick two or more runs to overlay them on the charts. The first ticked run is the "
         "baseline of the table's ratios."),
      this));
  list_ = new QListWidget(this);
  list_->setObjectName("compareRunList");
  list_->setDragDropMode(QAbstractItemView::InternalMove);  // drag to choose the baseline
  layout->addWidget(list_, 1);
  auto* row = new QHBoxLayout;
  auto* add = new QPushButton(tr("Add folder…"), this);
  add->setToolTip(
      tr("A run folder, or a comparison folder from edgerig-run compare (adds all its runs)"));
  row->addWidget(add);
  row->addStretch(1);
  layout->addLayout(row);
  buttons_ = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons_->button(QDialogButtonBox::Ok)->setText(tr("Compare"));
  layout->addWidget(buttons_);
  for (const QString& dir : made) {
    auto* item = new QListWidgetItem(tr("%1 (this window)").arg(QDir(dir).dirName()), list_);
    item->setData(Qt::UserRole, dir);
    item->setToolTip(dir);
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    item->setCheckState(Qt::Unchecked);
  }
  connect(list_, &QListWidget::itemChanged, this, &CompareDialog::updateOk);
  connect(add, &QPushButton::clicked, this, [this] {
    const QString dir =
        QFileDialog::getExistingDirectory(this, tr("Add a run or comparison folder"), start_dir_);
    if (dir.isEmpty()) return;
    start_dir_ = QFileInfo(dir).absolutePath();
    addFolders({dir});
  });
  connect(buttons_, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);
  resize(560, 380);
  updateOk();
}

void CompareDialog::addFolders(const QStringList& dirs) {
  auto expanded = expandRunFolders(dirs);
  if (!expanded) {
    auto* item = new QListWidgetItem(QString::fromStdString(expanded.status().message()), list_);
    item->setFlags(Qt::NoItemFlags);  // says why, cannot be ticked
    return;
  }
  for (const auto& d : *expanded) {
    const QString dir = QString::fromStdString(d);
    auto* item = new QListWidgetItem(QDir(dir).dirName() + "  —  " + dir, list_);
    item->setData(Qt::UserRole, dir);
    item->setToolTip(dir);
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    item->setCheckState(Qt::Checked);
  }
  updateOk();
}

QStringList CompareDialog::chosen() const {
  QStringList out;
  for (int i = 0; i < list_->count(); ++i) {
    const auto* item = list_->item(i);
    if (item->checkState() == Qt::Checked) out << item->data(Qt::UserRole).toString();
  }
  return out;
}

void CompareDialog::updateOk() {
  buttons_->button(QDialogButtonBox::Ok)->setEnabled(chosen().size() >= 2);
}

}  // namespace edgerig::ui
