// The fault schedule drawn as lanes, one per device, with a mark per fault at its time
// (circle) or iteration (diamond); clicking a mark selects that fault's row.
#pragma once

#include <QPointF>
#include <QRectF>
#include <QWidget>
#include <vector>

namespace edgerig::ui {

class FaultTableModel;

// One lane per device, a mark per fault at its time (circle) or iteration (diamond).
class FaultTimelineStrip : public QWidget {
  Q_OBJECT

 public:
  explicit FaultTimelineStrip(const FaultTableModel* model, QWidget* parent = nullptr);
  void setSelectedRow(int row);
  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;
  // The mark's centre, for tests and tooltips; invalid point if the row is not drawn.
  QPointF markPosition(int row) const;
  // Where each kind's swatch and name go below the lanes, wrapped to `width`; relative to the
  // top of the legend. For tests: no entry may run past the width.
  std::vector<QRectF> kindLegend(double width) const;

 signals:
  void rowClicked(int row);

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  QRectF plotArea() const;
  double legendHeight(double width) const;  // the scales line and the wrapped kinds
  int rowAt(const QPointF& pos) const;

  const FaultTableModel* model_;
  int selected_ = -1;
  double legend_h_ = 0;  // at the current width: a change asks the layout for a new height
};

}  // namespace edgerig::ui
