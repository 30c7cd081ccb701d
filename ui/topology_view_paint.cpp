// The topology view's painting: where each edge and its label go (avoiding nodes and each
// other), the edges, labels and nodes, and the tool tips. The model and the layout are in
// topology_view.cpp.
#include "ui/topology_view.h"

#include <QHelpEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "ui/format.h"
#include "ui/palette.h"
#include "ui/topology_view_style.h"

namespace edgerig::ui {
namespace {

QPointF centreOf(const QRectF& r) { return r.center(); }

bool segmentHits(const QPointF& p0, const QPointF& p1, const QRectF& r) {
  // Sampling is plenty for node-sized boxes and keeps this free of clipping maths.
  for (int i = 1; i < 40; ++i) {
    if (r.contains(p0 + (p1 - p0) * (i / 40.0))) return true;
  }
  return false;
}

// Arrows by what the eye sees: a→b drawn right to left reads "←".
std::pair<QString, QString> arrowsFor(const QPointF& a, const QPointF& b) {
  const QPointF d = b - a;
  if (std::abs(d.x()) >= std::abs(d.y())) {
    return d.x() >= 0 ? std::pair{QStringLiteral("→"), QStringLiteral("←")}
                      : std::pair{QStringLiteral("←"), QStringLiteral("→")};
  }
  return d.y() >= 0 ? std::pair{QStringLiteral("↓"), QStringLiteral("↑")}
                    : std::pair{QStringLiteral("↑"), QStringLiteral("↓")};
}

}  // namespace

using namespace topology;  // NOLINT(google-build-using-namespace)

QFont TopologyView::edgeFont(const Geometry& g) const {
  QFont f = font();
  f.setPointSizeF(std::max(6.5, f.pointSizeF() * std::clamp(g.scale, 0.7, 1.0)));
  return f;
}

std::vector<TopologyView::PlacedEdge> TopologyView::placeEdges(const Geometry& g,
                                                               const QFont& font) const {
  std::vector<PlacedEdge> out;
  for (const auto& e : edges()) {
    if (!g.nodes.count(e.a) || !g.nodes.count(e.b)) continue;
    const QPointF a = centreOf(g.nodes.at(e.a)), b = centreOf(g.nodes.at(e.b));
    bool blocked = false;
    for (const auto& [index, r] : g.nodes) {
      if (index != e.a && index != e.b && segmentHits(a, b, r.adjusted(-2, -2, 2, 2))) {
        blocked = true;
      }
    }
    const QPointF d = b - a;
    const double len = std::max(1.0, std::hypot(d.x(), d.y()));
    QPointF normal(d.y() / len, -d.x() / len);  // pointing up for a left-to-right edge
    if (normal.y() > 0 || (std::abs(normal.y()) < 1e-9 && normal.x() < 0)) normal = -normal;
    PlacedEdge placed;
    placed.edge = e;
    placed.path = QPainterPath(a);
    if (blocked) {
      // Bow around the nodes in between instead of crossing them.
      const QPointF ctrl = (a + b) / 2 + normal * std::min(len * 0.35, kNodeH * g.scale * 1.4 + 30);
      placed.path.quadTo(ctrl, b);
    } else {
      placed.path.lineTo(b);
    }
    const auto [fwd, back] = arrowsFor(a, b);
    if (graphMode() && (e.arrow_ab != e.arrow_ba)) {
      // One direction only: one line, for that direction.
      const bool ab = e.arrow_ab;
      const double rate = ab ? e.ab : e.ba;
      const double other = ab ? e.ba : e.ab;
      placed.text = rate <= 0 && other <= 0
                        ? QObject::tr("idle")
                        : QStringLiteral("%1 %2").arg(ab ? fwd : back, formatRate(rate));
      if (other > 0) {
        placed.text += QStringLiteral("\n%1 %2").arg(ab ? back : fwd, formatRate(other));
      }
    } else {
      placed.text = rateLabel(e.ab, e.ba, fwd, back, QStringLiteral("\n"));
    }
    out.push_back(std::move(placed));
  }
  // Lit edges choose their labels' places first, then the rest, in drawing order.
  std::vector<size_t> order(out.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    auto lit = [&](size_t i) { return out[i].edge.lit_ab || out[i].edge.lit_ba; };
    return lit(x) && !lit(y);
  });
  const QFontMetricsF fm(font);
  const QRectF bounds = QRectF(rect());
  std::vector<QRectF> taken;
  for (const auto& [index, r] : g.nodes) taken.push_back(r.adjusted(-2, -2, 2, 2));
  const size_t node_count = taken.size();
  // Points along every edge: a label over fewer of other edges' lines reads as its own edge's.
  std::vector<std::vector<QPointF>> samples(out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    for (int k = 1; k < 32; ++k) samples[i].push_back(out[i].path.pointAtPercent(k / 32.0));
  }
  for (size_t i : order) {
    PlacedEdge& placed = out[i];
    const QRectF box = fm.boundingRect(QRectF(0, 0, 1000, 1000), Qt::AlignCenter, placed.text)
                           .adjusted(-3, -1, 3, 1);
    const double pen = widthFor(placed.edge.ab + placed.edge.ba);
    // Candidates along the edge, beside it on either side. Covering a node, a label placed
    // before or the view's edge is what a place must not do (hard); crossing other edges' lines
    // is allowed but avoided (soft). The first place free of both wins, else the best.
    QRectF best;
    double best_hard = -1, best_score = -1;
    for (double t : {0.5, 0.38, 0.62, 0.28, 0.72, 0.2, 0.8}) {
      const QPointF at = placed.path.pointAtPercent(t);
      const QPointF tangent = placed.path.pointAtPercent(std::min(1.0, t + 0.01)) -
                              placed.path.pointAtPercent(t - 0.01);
      const double tl = std::max(1e-9, std::hypot(tangent.x(), tangent.y()));
      QPointF normal(tangent.y() / tl, -tangent.x() / tl);
      if (normal.y() > 0 || (std::abs(normal.y()) < 1e-9 && normal.x() < 0)) normal = -normal;
      const double lift = std::abs(normal.x()) * box.width() / 2 +
                          std::abs(normal.y()) * box.height() / 2 + pen / 2 + 2;
      for (double side : {1.0, -1.0}) {
        QRectF where = box;
        where.moveCenter(at + normal * lift * side);
        double hard = 0;
        for (size_t k = 0; k < taken.size(); ++k) {
          const QRectF both = where.intersected(taken[k]);
          // Covering a node is worse than covering a label.
          if (!both.isEmpty()) hard += both.width() * both.height() * (k < node_count ? 4 : 1);
        }
        const QRectF inside = where.intersected(bounds);
        hard += where.width() * where.height() - inside.width() * inside.height();
        int crossed = 0;
        for (size_t k = 0; k < samples.size(); ++k) {
          if (k == i) continue;
          for (const QPointF& q : samples[k]) crossed += where.contains(q) ? 1 : 0;
        }
        const double score = hard * 1000 + crossed;
        if (best_score < 0 || score < best_score) {
          best_score = score;
          best_hard = hard;
          best = where;
        }
        if (score == 0) break;
      }
      if (best_score == 0) break;
    }
    const bool lit = placed.edge.lit_ab || placed.edge.lit_ba;
    // In a crowded union graph a faint edge's label that would cover another is left out.
    if (graphMode() && !lit && best_hard > 0) continue;
    placed.label = best;
    taken.push_back(best);
  }
  return out;
}

void TopologyView::drawEdge(QPainter& p, const PlacedEdge& placed, const Geometry& g) const {
  const Edge& e = placed.edge;
  const DeviceStatus* da = device(e.a);
  const DeviceStatus* db = device(e.b);
  const bool dead =
      (da && da->state == DeviceState::kLost) || (db && db->state == DeviceState::kLost);
  const double total = e.ab + e.ba;
  const bool graph = graphMode();
  const bool lit = e.lit_ab || e.lit_ba;
  QColor ink = dead ? QColor(160, 160, 160) : QColor(70, 70, 80);
  if (graph && !dead) ink = lit ? QColor(21, 101, 192) : QColor(70, 70, 80, 70);
  QPen pen(ink, widthFor(total), Qt::SolidLine, Qt::RoundCap);
  if (dead || (total <= 0 && !(graph && lit))) pen.setStyle(Qt::DashLine);
  p.setPen(pen);
  p.setBrush(Qt::NoBrush);
  p.drawPath(placed.path);

  // Arrowheads where the path enters the node it points to, lit or faint as that direction is.
  auto arrowAt = [&](bool at_b, bool lit_direction) {
    const QRectF target = g.nodes.at(at_b ? e.b : e.a).adjusted(-2, -2, 2, 2);
    double t = at_b ? 1.0 : 0.0;
    const double step = at_b ? -0.01 : 0.01;
    while (t > 0 && t < 1 && target.contains(placed.path.pointAtPercent(t))) t += step;
    if (target.contains(placed.path.pointAtPercent(t))) {
      for (int i = 0; i < 100 && target.contains(placed.path.pointAtPercent(t)); ++i) t += step;
    }
    const QPointF tip = placed.path.pointAtPercent(std::clamp(t, 0.0, 1.0));
    const QPointF from = placed.path.pointAtPercent(std::clamp(t + 3 * step, 0.0, 1.0));
    const QPointF d = tip - from;
    const double len = std::max(1e-9, std::hypot(d.x(), d.y()));
    const QPointF u = d / len, n(-u.y(), u.x());
    const double size = 7 + pen.widthF() * 1.2;
    QPolygonF head;
    head << tip << tip - u * size + n * size * 0.5 << tip - u * size - n * size * 0.5;
    QColor fill = lit_direction ? QColor(21, 101, 192) : QColor(70, 70, 80, 90);
    if (dead) fill = QColor(160, 160, 160);
    p.setPen(Qt::NoPen);
    p.setBrush(fill);
    p.drawPolygon(head);
  };
  if (graph) {
    if (e.arrow_ab) arrowAt(true, e.lit_ab);
    if (e.arrow_ba) arrowAt(false, e.lit_ba);
  }
}

void TopologyView::drawLabel(QPainter& p, const PlacedEdge& placed) const {
  if (placed.label.isEmpty()) return;
  const Edge& e = placed.edge;
  const DeviceStatus* da = device(e.a);
  const DeviceStatus* db = device(e.b);
  const bool dead =
      (da && da->state == DeviceState::kLost) || (db && db->state == DeviceState::kLost);
  const bool graph = graphMode();
  const bool lit = e.lit_ab || e.lit_ba;
  QColor back_fill = palette().color(QPalette::Window);
  back_fill.setAlpha(220);
  p.setPen(Qt::NoPen);
  p.setBrush(back_fill);
  p.drawRoundedRect(placed.label, 3, 3);
  QColor text = dead ? QColor(130, 130, 130) : palette().color(QPalette::WindowText);
  if (graph && !lit && !dead) text = palette().color(QPalette::PlaceholderText);
  p.setPen(text);
  p.drawText(placed.label, Qt::AlignCenter, placed.text);
}

QString TopologyView::nodeCaption(int index) const {
  const DeviceStatus* d = device(index);
  return d ? caption(*d) : QString();
}

QString TopologyView::caption(const DeviceStatus& d) const {
  if (d.state == DeviceState::kLost) return tr("lost");
  const auto b = local_batch_.find(d.name);
  QString out = d.stage >= 0              ? tr("stage %1").arg(d.stage)
                : b != local_batch_.end() ? tr("batch %1").arg(b->second, 0, 'f', 0)
                                          : tr("no stage");
  if (d.state != DeviceState::kTraining) out += QStringLiteral(" · ") + deviceStateName(d.state);
  return out;
}

void TopologyView::drawNode(QPainter& p, const DeviceStatus& d, const QRectF& r,
                            double scale) const {
  const bool lost = d.state == DeviceState::kLost;
  const double radius = 6 * scale;
  const QColor fill = lost ? QColor(226, 226, 226) : deviceColor(d.index);
  QPen border(fill.darker(150), 1.5);
  if (lost) {
    border = QPen(QColor(120, 120, 120), 1.5, Qt::DashLine);
  } else if (d.state == DeviceState::kSlow || d.state == DeviceState::kFrozen) {
    border = QPen(stateColor(d.state), std::max(2.0, 4 * scale));
  } else if (d.state != DeviceState::kTraining) {
    border = QPen(stateColor(d.state), 2);
  }
  p.setPen(border);
  p.setBrush(fill);
  p.drawRoundedRect(r, radius, radius);

  const QString second = caption(d);
  const QRectF text_area = r.adjusted(4, 2, -4, -2);
  QFont bold = p.font();
  bold.setBold(true);
  const QFontMetricsF fm(bold);
  const bool two_lines = text_area.height() >= 2 * fm.height();
  const QColor ink = lost ? QColor(90, 90, 90) : textColorOn(fill);
  p.setFont(bold);
  p.setPen(ink);
  const QString name = QString::fromStdString(d.name);
  if (two_lines) {
    const QRectF top(text_area.left(), text_area.center().y() - fm.height(), text_area.width(),
                     fm.height());
    p.drawText(top, Qt::AlignCenter, fm.elidedText(name, Qt::ElideRight, top.width()));
    QFont plain = bold;
    plain.setBold(false);
    p.setFont(plain);
    const QFontMetricsF pm(plain);
    const QRectF bottom = top.translated(0, fm.height());
    p.setPen(lost ? QColor(200, 30, 30) : ink);
    p.drawText(bottom, Qt::AlignCenter, pm.elidedText(second, Qt::ElideRight, bottom.width()));
  } else {
    p.drawText(text_area, Qt::AlignCenter, fm.elidedText(name, Qt::ElideRight, text_area.width()));
  }
  if (lost) {
    // The red ✕ in the corner, drawn as lines so it does not depend on a font's glyph.
    const double s = std::max(6.0, r.height() * 0.32);
    const QRectF x(r.right() - s - 3, r.top() + 3, s, s);
    p.setPen(QPen(QColor(211, 47, 47), std::max(1.5, s / 5), Qt::SolidLine, Qt::RoundCap));
    p.drawLine(x.topLeft(), x.bottomRight());
    p.drawLine(x.topRight(), x.bottomLeft());
  }
}

void TopologyView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.setRenderHint(QPainter::Antialiasing, true);
  const Geometry g = geometry();
  if (g.nodes.empty()) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, tr("No devices yet"));
    return;
  }
  const QFont f = edgeFont(g);
  p.setFont(f);
  const auto placed = placeEdges(g, f);
  // Faint edges first, so that the lit ones are drawn over them; the labels over every line.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& e : placed) {
      if ((e.edge.lit_ab || e.edge.lit_ba) == (pass == 1)) drawEdge(p, e, g);
    }
  }
  for (const auto& e : placed) drawLabel(p, e);
  for (const auto& [index, r] : g.nodes) {
    if (const DeviceStatus* d = device(index)) {
      p.setFont(f);
      drawNode(p, *d, r, g.scale);
    }
  }
}

bool TopologyView::event(QEvent* e) {
  if (e->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(e);
    const int i = nodeAt(help->pos());
    if (i >= 0) {
      QToolTip::showText(help->globalPos(), nodeToolTip(i), this, nodeRect(i));
    } else {
      QToolTip::showText(help->globalPos(), toolTip(), this);
    }
    return true;
  }
  return QWidget::event(e);
}

}  // namespace edgerig::ui
