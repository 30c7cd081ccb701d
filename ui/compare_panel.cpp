#include "ui/compare_panel.h"

#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QScrollBar>
#include <QTableView>
#include <QVBoxLayout>
#include <algorithm>

namespace edgerig::ui {

void ComparisonTableModel::setComparison(Comparison comparison, std::vector<QColor> colors) {
  beginResetModel();
  comparison_ = std::move(comparison);
  colors_ = std::move(colors);
  header_ = summaryHeader(comparison_);
  cells_ = summaryCells(comparison_);
  markers_.assign(cells_.size(), true);
  endResetModel();
}

int ComparisonTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(cells_.size());
}

int ComparisonTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(header_.size());
}

QVariant ComparisonTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const auto& row = cells_[static_cast<size_t>(index.row())];
  if (role == Qt::DisplayRole && index.column() < static_cast<int>(row.size())) {
    return QString::fromStdString(row[static_cast<size_t>(index.column())]);
  }
  if (index.column() != 0) {
    if (role == Qt::TextAlignmentRole && index.column() > 1) {
      return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    }
    return {};
  }
  if (role == Qt::DecorationRole && index.row() < static_cast<int>(colors_.size())) {
    return colors_[static_cast<size_t>(index.row())];
  }
  if (role == Qt::CheckStateRole) {
    return markers_[static_cast<size_t>(index.row())] ? Qt::Checked : Qt::Unchecked;
  }
  if (role == Qt::ToolTipRole) {
    return tr("%1\nTick to show this run's markers (faults, re-plans, switches) on the charts")
        .arg(QString::fromStdString(comparison_.rows[static_cast<size_t>(index.row())].run_dir));
  }
  return {};
}

QVariant ComparisonTableModel::headerData(int section, Qt::Orientation orientation,
                                          int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  if (section < 0 || section >= columnCount()) return {};
  return QString::fromStdString(header_[static_cast<size_t>(section)]);
}

Qt::ItemFlags ComparisonTableModel::flags(const QModelIndex& index) const {
  Qt::ItemFlags f = QAbstractTableModel::flags(index);
  if (index.column() == 0) f |= Qt::ItemIsUserCheckable;
  return f;
}

bool ComparisonTableModel::setData(const QModelIndex& index, const QVariant& value, int role) {
  if (role != Qt::CheckStateRole || index.column() != 0 || index.row() >= rowCount()) return false;
  const bool on = value.toInt() == Qt::Checked;
  markers_[static_cast<size_t>(index.row())] = on;
  emit dataChanged(index, index, {Qt::CheckStateRole});
  emit markersToggled(index.row(), on);
  return true;
}

ComparePanel::ComparePanel(QWidget* parent) : QWidget(parent) {
  model_ = new ComparisonTableModel(this);
  auto* top = new QHBoxLayout;
  top->setContentsMargins(6, 2, 6, 0);
  title_ = new QLabel(this);
  title_->setObjectName("compareTitle");
  top->addWidget(title_, 1);
  auto* export_button = new QPushButton(tr("Export CSV…"), this);
  export_button->setObjectName("compareExport");
  export_button->setToolTip(tr("summary.csv of these runs, as edgerig-run compare writes it"));
  top->addWidget(export_button);
  auto* close_button = new QPushButton(tr("Close comparison"), this);
  close_button->setObjectName("compareClose");
  top->addWidget(close_button);
  table_ = new QTableView(this);
  table_->setObjectName("compareTable");
  table_->setModel(model_);
  table_->setAlternatingRowColors(true);
  table_->verticalHeader()->hide();
  table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 6);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setWordWrap(false);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(2);
  layout->addLayout(top);
  layout->addWidget(table_, 1);
  connect(model_, &ComparisonTableModel::markersToggled, this, &ComparePanel::markersToggled);
  connect(export_button, &QPushButton::clicked, this, &ComparePanel::onExport);
  connect(close_button, &QPushButton::clicked, this, &ComparePanel::closeRequested);
}

void ComparePanel::setComparison(Comparison comparison, std::vector<QColor> colors) {
  const auto& c = comparison;
  QString target = tr("no target: no run was evaluated");
  if (c.target_accuracy) {
    target = tr("target accuracy %1 (%2)")
                 .arg(*c.target_accuracy, 0, 'f', 4)
                 .arg(c.target_given ? tr("given") : tr("98 % of the best final accuracy"));
  }
  title_->setText(tr("<b>Comparing %1 runs</b> — %2; the first is the baseline")
                      .arg(c.rows.size())
                      .arg(target));
  model_->setComparison(std::move(comparison), std::move(colors));
  table_->resizeColumnsToContents();
  // No taller than its rows (up to kRowsShown): the charts above keep the rest.
  setMaximumHeight(sizeHint().height());
}

QSize ComparePanel::sizeHint() const {
  // The rows, the header (counted as a row, it is as tall), a scroll bar, frames and the title
  // line above the table with its buttons.
  const int rows = std::clamp(model_->rowCount(), 2, kRowsShown) + 1;
  const int title = std::max(title_->sizeHint().height(), 30);
  const int height = title + rows * table_->verticalHeader()->defaultSectionSize() +
                     table_->horizontalScrollBar()->sizeHint().height() + 2 * table_->frameWidth() +
                     12;
  return {QWidget::sizeHint().width(), height};
}

Status ComparePanel::exportCsv(const QString& path) const {
  if (model_->rowCount() == 0) return unavailable("no runs are compared: open some first");
  return writeSummaryCsv(model_->comparison(), path.toStdString());
}

void ComparePanel::onExport() {
  const QString path =
      QFileDialog::getSaveFileName(this, tr("Export comparison"), kSummaryFile, tr("CSV (*.csv)"));
  if (path.isEmpty()) return;
  if (auto st = exportCsv(path); !st) {
    QMessageBox::warning(this, tr("Export comparison"), QString::fromStdString(st.message()));
  }
}

}  // namespace edgerig::ui
