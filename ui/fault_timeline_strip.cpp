#include "ui/fault_timeline_strip.h"

#include <QEvent>
#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>
#include <cmath>

#include "ui/fault_timeline.h"
#include "ui/palette.h"

namespace edgerig::ui {
namespace {

bool atIteration(const FaultConfig& f) { return f.at_iteration != 0; }
QString number(double v) { return QString::number(v, 'g', 6); }
constexpr double kMarkRadius = 6;

}  // namespace

FaultTimelineStrip::FaultTimelineStrip(const FaultTableModel* model, QWidget* parent)
    : QWidget(parent), model_(model) {
  setObjectName("faultTimelineStrip");
  setMouseTracking(true);
  setToolTip(tr("Faults by device: ● at a time, ◆ at an iteration; click a mark to edit it"));
  auto refresh = [this] {
    updateGeometry();
    update();
  };
  connect(model, &QAbstractItemModel::modelReset, this, refresh);
  connect(model, &QAbstractItemModel::layoutChanged, this, refresh);
  connect(model, &QAbstractItemModel::rowsInserted, this, refresh);
  connect(model, &QAbstractItemModel::rowsRemoved, this, refresh);
  connect(model, &QAbstractItemModel::dataChanged, this, refresh);
}

void FaultTimelineStrip::setSelectedRow(int row) {
  selected_ = row;
  update();
}

QSize FaultTimelineStrip::sizeHint() const {
  const int lanes = std::max<int>(1, static_cast<int>(model_->devices().size()));
  const int lane_h = fontMetrics().height() + 8;
  const double w = width() > 0 ? width() : 480;
  return {480, lanes * lane_h + static_cast<int>(std::ceil(legendHeight(w))) + 8};
}

QSize FaultTimelineStrip::minimumSizeHint() const {
  const double w = width() > 0 ? width() : 240;
  return {240, 2 * (fontMetrics().height() + 8) + static_cast<int>(std::ceil(legendHeight(w))) + 8};
}

std::vector<QRectF> FaultTimelineStrip::kindLegend(double width) const {
  std::vector<QRectF> out;
  const double line_h = fontMetrics().height();
  double x = 4, y = 0;
  for (const auto& k : kFaultKinds) {
    const double w = 14 + fontMetrics().horizontalAdvance(QString::fromStdString(k));
    if (x > 4 && x + w > width - 2) {  // the next line
      x = 4;
      y += line_h + 2;
    }
    out.emplace_back(x, y, w, line_h);
    x += w + 16;
  }
  return out;
}

double FaultTimelineStrip::legendHeight(double width) const {
  const auto entries = kindLegend(width);
  const double kinds = entries.empty() ? 0 : entries.back().bottom();
  return fontMetrics().height() + 6 + kinds;  // the scales line above the kinds
}

QRectF FaultTimelineStrip::plotArea() const {
  int label_w = fontMetrics().horizontalAdvance(tr("no devices"));
  for (const auto& n : model_->devices()) {
    label_w = std::max(label_w, fontMetrics().horizontalAdvance(QString::fromStdString(n)));
  }
  const double left = label_w + 12;
  const double bottom = legendHeight(width()) + 4;
  return QRectF(left, 4, std::max(10.0, width() - left - 2 * kMarkRadius - 4),
                std::max(10.0, height() - bottom - 4));
}

QPointF FaultTimelineStrip::markPosition(int row) const {
  const auto& faults = model_->faults();
  const int lanes = static_cast<int>(model_->devices().size());
  if (row < 0 || row >= static_cast<int>(faults.size())) return {-1, -1};
  const FaultConfig& f = faults[row];
  if (f.device < 0 || f.device >= lanes) return {-1, -1};
  double max_s = 0, max_it = 0;
  for (const auto& g : faults) {
    if (atIteration(g))
      max_it = std::max(max_it, static_cast<double>(g.at_iteration));
    else
      max_s = std::max(max_s, g.at_s);
  }
  // Each clock has its own scale, with room after the last fault.
  const double x_frac = atIteration(f) ? f.at_iteration / std::max(1.0, max_it * 1.1)
                                       : f.at_s / std::max(1.0, max_s * 1.1);
  const QRectF a = plotArea();
  const double lane_h = a.height() / lanes;
  return {a.left() + x_frac * a.width(), a.top() + (f.device + 0.5) * lane_h};
}

int FaultTimelineStrip::rowAt(const QPointF& pos) const {
  int best = -1;
  double best_d = kMarkRadius + 3;
  for (int r = 0; r < model_->rowCount(); ++r) {
    const QPointF p = markPosition(r);
    if (p.x() < 0) continue;
    const double d = QLineF(p, pos).length();
    if (d <= best_d) {
      best = r;
      best_d = d;
    }
  }
  return best;
}

void FaultTimelineStrip::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing);
  p.fillRect(rect(), palette().base());
  const QRectF a = plotArea();
  const auto& names = model_->devices();
  const int lanes = static_cast<int>(names.size());
  const QColor text = palette().text().color();
  if (lanes == 0) {
    p.setPen(text);
    p.drawText(rect(), Qt::AlignCenter, tr("no devices"));
    return;
  }
  const double lane_h = a.height() / lanes;
  for (int d = 0; d < lanes; ++d) {
    const QRectF lane(a.left(), a.top() + d * lane_h, a.width(), lane_h);
    if (d % 2 == 1) p.fillRect(lane, palette().alternateBase());
    p.setPen(deviceColor(d).darker(140));
    p.drawText(QRectF(4, lane.top(), a.left() - 8, lane_h), Qt::AlignVCenter | Qt::AlignRight,
               QString::fromStdString(names[d]));
    p.setPen(QPen(palette().mid().color(), 1, Qt::DotLine));
    p.drawLine(QPointF(a.left(), lane.center().y()), QPointF(a.right(), lane.center().y()));
  }
  double max_s = 0, max_it = 0;
  bool any_s = false, any_it = false;
  const auto& faults = model_->faults();
  for (size_t r = 0; r < faults.size(); ++r) {
    const FaultConfig& f = faults[r];
    (atIteration(f) ? any_it : any_s) = true;
    if (atIteration(f))
      max_it = std::max(max_it, static_cast<double>(f.at_iteration));
    else
      max_s = std::max(max_s, f.at_s);
    const QPointF c = markPosition(static_cast<int>(r));
    if (c.x() < 0) continue;
    const bool bad = !model_->problems()[r].isEmpty();
    const bool selected = static_cast<int>(r) == selected_;
    p.setPen(QPen(bad ? QColor(192, 0, 0) : text, selected ? 3 : 1));
    p.setBrush(faultKindColor(f.kind));
    const double rad = selected ? kMarkRadius + 2 : kMarkRadius;
    if (atIteration(f)) {
      QPainterPath diamond;
      diamond.moveTo(c.x(), c.y() - rad);
      diamond.lineTo(c.x() + rad, c.y());
      diamond.lineTo(c.x(), c.y() + rad);
      diamond.lineTo(c.x() - rad, c.y());
      diamond.closeSubpath();
      p.drawPath(diamond);
    } else {
      p.drawEllipse(c, rad, rad);
    }
  }
  // Scales and kinds, in words below the lanes.
  QStringList scales;
  if (any_s || !any_it) scales << tr("● time 0–%1 s").arg(number(std::max(1.0, max_s * 1.1)));
  if (any_it) scales << tr("◆ iteration 0–%1").arg(std::llround(std::max(1.0, max_it * 1.1)));
  const double line_h = fontMetrics().height();
  p.setPen(text);
  p.drawText(QRectF(a.left(), a.bottom() + 4, a.width(), line_h), Qt::AlignLeft,
             scales.join(QStringLiteral("    ")));
  const double y = a.bottom() + 6 + line_h;
  const auto entries = kindLegend(width());
  for (size_t i = 0; i < kFaultKinds.size() && i < entries.size(); ++i) {
    const QRectF e = entries[i].translated(0, y);
    p.setPen(Qt::NoPen);
    p.setBrush(faultKindColor(kFaultKinds[i]));
    p.drawRect(QRectF(e.left(), e.center().y() - 5, 10, 10));
    p.setPen(text);
    p.drawText(QPointF(e.left() + 14, e.top() + fontMetrics().ascent()),
               QString::fromStdString(kFaultKinds[i]));
  }
}

bool FaultTimelineStrip::event(QEvent* e) {
  if (e->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(e);
    const int row = rowAt(help->pos());
    if (row < 0) {
      QToolTip::showText(help->globalPos(), toolTip(), this);
      return true;
    }
    const FaultConfig& f = model_->faults()[row];
    QString text = tr("Row %1: %2 on %3: %4 %5")
                       .arg(row)
                       .arg(faultWhenText(f),
                            model_->data(model_->index(row, FaultTableModel::kDevice)).toString(),
                            QString::fromStdString(f.kind), faultParamsText(f));
    if (!model_->problems()[row].isEmpty()) text += QLatin1Char('\n') + model_->problems()[row];
    QToolTip::showText(help->globalPos(), text, this);
    return true;
  }
  return QWidget::event(e);
}

void FaultTimelineStrip::resizeEvent(QResizeEvent* e) {
  QWidget::resizeEvent(e);
  // A narrower strip wraps the kinds onto more lines: it needs more height.
  const double h = legendHeight(width());
  if (h != legend_h_) {
    legend_h_ = h;
    updateGeometry();
  }
}

void FaultTimelineStrip::mousePressEvent(QMouseEvent* e) {
  const int row = rowAt(e->position());
  if (row >= 0) emit rowClicked(row);
}

// ---------------------------------------------------------------------------------------------

}  // namespace edgerig::ui
