// The table beneath the charts while runs are compared: the summary rows edgerig-run compare
// writes (the same cells, so Export CSV gives the same summary.csv), each run's colour, and a
// check box per run that shows or hides its markers on the charts.
#pragma once

#include <QAbstractTableModel>
#include <QColor>
#include <QWidget>
#include <vector>

#include "core/runlog/run_comparison.h"

class QLabel;
class QTableView;

namespace edgerig::ui {

class ComparisonTableModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  using QAbstractTableModel::QAbstractTableModel;

  void setComparison(Comparison comparison, std::vector<QColor> colors);
  const Comparison& comparison() const { return comparison_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  bool setData(const QModelIndex& index, const QVariant& value, int role) override;

 signals:
  // The run's check box (column 0): its markers shown or hidden.
  void markersToggled(int run, bool visible);

 private:
  Comparison comparison_;
  std::vector<QColor> colors_;
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> cells_;
  std::vector<bool> markers_;
};

class ComparePanel : public QWidget {
  Q_OBJECT

 public:
  explicit ComparePanel(QWidget* parent = nullptr);

  void setComparison(Comparison comparison, std::vector<QColor> colors);
  ComparisonTableModel* model() const { return model_; }
  QTableView* table() const { return table_; }
  // summary.csv of the runs shown, as edgerig-run compare writes it.
  Status exportCsv(const QString& path) const;
  // Tall enough for the rows (up to kRowsShown, then it scrolls).
  QSize sizeHint() const override;
  static constexpr int kRowsShown = 10;

 signals:
  void markersToggled(int run, bool visible);
  void closeRequested();

 private:
  void onExport();

  ComparisonTableModel* model_ = nullptr;
  QTableView* table_ = nullptr;
  QLabel* title_ = nullptr;
};

}  // namespace edgerig::ui
