// The fault schedule drawn as lanes, one per device, with a mark per fault at its time
// (circle) or iteration (diamond); clicking a mark selects that fault's row.
#pragma once

#include <QPointF>
#include <QRectF>
#include <QWidget>

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

 signals:
  void rowClicked(int row);

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;

 private:
  QRectF plotArea() const;
  int rowAt(const QPointF& pos) const;

  const FaultTableModel* model_;
  int selected_ = -1;
};

}  // namespace edgerig::ui
