#include "ui/topology_view.h"

#include <QHelpEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>
#include <algorithm>
#include <cmath>
#include <numbers>
#include <set>

#include "ui/format.h"
#include "ui/palette.h"

namespace edgerig::ui {
namespace {

// Nominal sizes at scale 1; a cell is a node plus room for the edge label beside it.
constexpr double kNodeW = 110;
constexpr double kNodeH = 50;
constexpr double kGapW = 84;  // fits "→ 43.6 MB/s"
constexpr double kGapH = 30;
constexpr double kMargin = 8;
// Edge pen width: 1 px at 1 kB/s or less, 10 px at 1 GB/s, log-linear between.
constexpr double kMinWidth = 1, kMaxWidth = 10;

double widthFor(double bytes_per_s) {
  const double decades = std::log10(std::max(bytes_per_s, 1.0) / 1e3);
  return std::clamp(kMinWidth + (kMaxWidth - kMinWidth) * decades / 6.0, kMinWidth, kMaxWidth);
}

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

QString rateLabel(double forward, double backward, const QString& fwd_arrow,
                  const QString& back_arrow, const QString& separator) {
  if (forward <= 0 && backward <= 0) return QObject::tr("idle");
  return QStringLiteral("%1 %2%3%4 %5")
      .arg(fwd_arrow, formatRate(forward), separator, back_arrow, formatRate(backward));
}

}  // namespace

TopologyView::TopologyView(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
  setToolTip(tr("Devices and the links that carry training traffic; hover a device for details"));
}

void TopologyView::setDevices(const std::vector<DeviceStatus>& devices) {
  for (const auto& d : devices) {
    auto it = std::lower_bound(devices_.begin(), devices_.end(), d.index,
                               [](const DeviceStatus& x, int i) { return x.index < i; });
    if (it != devices_.end() && it->index == d.index) {
      *it = d;
    } else {
      devices_.insert(it, d);
    }
  }
  update();
}

void TopologyView::setLinks(const std::vector<LinkTraffic>& links) {
  const double dt = since_links_.isValid() ? since_links_.restart() / 1000.0 : 0.0;
  if (!since_links_.isValid()) since_links_.start();
  for (const auto& l : links) {
    const auto key = std::make_tuple(l.from, l.to, l.kind);
    auto last = last_bytes_.find(key);
    if (l.bytes_per_s <= 0 && last != last_bytes_.end() && dt > 0.01) {
      derived_rate_[key] = static_cast<double>(l.bytes - std::min(l.bytes, last->second)) / dt;
    } else {
      derived_rate_[key] = 0;
    }
    last_bytes_[key] = l.bytes;
  }
  links_ = links;
  update();
}

void TopologyView::setPlan(const PlanInfo& plan) {
  plan_ = plan;
  graph_ = {};
  union_.clear();
  update();
}

void TopologyView::setGraph(const GraphInfo& graph) {
  // A time-varying graph arrives round by round: the picture is the union of the rounds since
  // the members (a lost device, a re-drawn graph) or the kind (a switch) last changed. A kind
  // starting with "groups" (dssync's) is a partition into groups: the current round's alone.
  std::set<int> members, known;
  for (const auto& e : graph.edges) members.insert({e.from, e.to});
  for (const auto& [edge, w] : union_) known.insert({edge.first, edge.second});
  const bool groups = graph.kind.rfind("groups", 0) == 0;
  if (groups || graph.kind != graph_.kind || graph.algorithm != graph_.algorithm ||
      members != known) {
    union_.clear();
  }
  for (const auto& e : graph.edges) {
    if (e.from != e.to) union_[{e.from, e.to}] = e.weight;
  }
  graph_ = graph;
  plan_ = {};
  update();
}

void TopologyView::setLayout(Layout layout) {
  layout_ = layout;
  update();
}

void TopologyView::addMetrics(const std::vector<MetricSample>& metrics) {
  bool changed = false;
  for (const auto& m : metrics) {
    if (m.metric != "local_batch" || m.device.empty()) continue;
    double& b = local_batch_[m.device];
    changed = changed || b != m.value;
    b = m.value;
  }
  if (changed) update();
}

void TopologyView::clear() {
  devices_.clear();
  links_.clear();
  local_batch_.clear();
  plan_ = {};
  graph_ = {};
  union_.clear();
  last_bytes_.clear();
  derived_rate_.clear();
  since_links_.invalidate();
  update();
}

const DeviceStatus* TopologyView::device(int index) const {
  for (const auto& d : devices_) {
    if (d.index == index) return &d;
  }
  return nullptr;
}

bool TopologyView::shown(int index) const {
  const DeviceStatus* d = device(index);
  // A lost device leaves a decentralized graph: the survivors' graph is what is drawn.
  return d && !(graphMode() && d->state == DeviceState::kLost);
}

int TopologyView::indexOf(const std::string& name) const {
  for (const auto& d : devices_) {
    if (d.name == name) return d.index;
  }
  return -1;
}

std::vector<int> TopologyView::drawOrder() const {
  std::vector<int> order;
  auto add = [&](int i) {
    if (shown(i) && std::find(order.begin(), order.end(), i) == order.end()) order.push_back(i);
  };
  if (!plan_.device_of_stage.empty()) {
    for (int i : plan_.device_of_stage) add(i);
  } else if (!union_.empty()) {
    // Walk the union graph (stable while a time-varying graph turns) from its lowest device,
    // taking the lowest unvisited neighbour each time: a ring comes out in ring order.
    int at = union_.begin()->first.first;
    for (const auto& [e, w] : union_) at = std::min({at, e.first, e.second});
    while (at >= 0) {
      add(at);
      int next = -1;
      for (const auto& [e, w] : union_) {
        if (e.first != at || std::find(order.begin(), order.end(), e.second) != order.end())
          continue;
        if (next < 0 || e.second < next) next = e.second;
      }
      at = next;
    }
  } else {
    std::vector<const DeviceStatus*> staged;
    for (const auto& d : devices_) {
      if (d.stage >= 0) staged.push_back(&d);
    }
    std::stable_sort(staged.begin(), staged.end(),
                     [](const auto* x, const auto* y) { return x->stage < y->stage; });
    for (const auto* d : staged) add(d->index);
  }
  for (const auto& d : devices_) add(d.index);  // devices without a stage, after the chain
  return order;
}

std::vector<TopologyView::Edge> TopologyView::edges() const {
  const std::vector<int> order = drawOrder();
  auto rank = [&](int i) { return std::find(order.begin(), order.end(), i) - order.begin(); };
  std::vector<Edge> out;
  auto edgeFor = [&](int x, int y) -> Edge& {
    for (auto& e : out) {
      if ((e.a == x && e.b == y) || (e.a == y && e.b == x)) return e;
    }
    Edge e;
    e.a = rank(x) <= rank(y) ? x : y;
    e.b = e.a == x ? y : x;
    out.push_back(e);
    return out.back();
  };
  for (size_t s = 0; s + 1 < plan_.device_of_stage.size(); ++s) {
    const int x = plan_.device_of_stage[s], y = plan_.device_of_stage[s + 1];
    if (x == y || !device(x) || !device(y)) continue;
    Edge& e = edgeFor(x, y);
    e.planned = true;
  }
  for (const auto& [ft, w] : union_) {
    const auto [from, to] = ft;
    if (from == to || !shown(from) || !shown(to)) continue;
    Edge& e = edgeFor(from, to);
    e.planned = true;
    (e.a == from ? e.arrow_ab : e.arrow_ba) = true;
  }
  for (const auto& g : graph_.edges) {
    if (g.from == g.to || !shown(g.from) || !shown(g.to)) continue;
    Edge& e = edgeFor(g.from, g.to);
    (e.a == g.from ? e.lit_ab : e.lit_ba) = true;
  }
  for (const auto& l : links_) {
    const int x = indexOf(l.from), y = indexOf(l.to);
    if (x < 0 || y < 0 || x == y || !shown(x) || !shown(y)) continue;
    double rate = l.bytes_per_s;
    if (rate <= 0) {
      auto it = derived_rate_.find(std::make_tuple(l.from, l.to, l.kind));
      rate = it == derived_rate_.end() ? 0 : it->second;
    }
    if (rate <= 0) {
      // Not worth an edge of its own; add to one the plan already draws.
      bool known = false;
      for (const auto& e : out) known = known || (e.a == x && e.b == y) || (e.a == y && e.b == x);
      if (!known) continue;
    }
    Edge& e = edgeFor(x, y);
    (e.a == x ? e.ab : e.ba) += rate;
  }
  return out;
}

const TopologyView::Edge* TopologyView::findEdge(const std::vector<Edge>& all, int from,
                                                 int to) const {
  for (const auto& e : all) {
    if ((e.a == from && e.b == to) || (e.a == to && e.b == from)) return &e;
  }
  return nullptr;
}

int TopologyView::edgeCount() const { return static_cast<int>(edges().size()); }

QString TopologyView::edgeLabel(int from, int to) const {
  const auto all = edges();
  const Edge* e = findEdge(all, from, to);
  if (!e) return {};
  const double fwd = e->a == from ? e->ab : e->ba;
  const double back = e->a == from ? e->ba : e->ab;
  return rateLabel(fwd, back, QStringLiteral("→"), QStringLiteral("←"), QStringLiteral(" / "));
}

double TopologyView::edgeWidth(int from, int to) const {
  const auto all = edges();
  const Edge* e = findEdge(all, from, to);
  return e ? widthFor(e->ab + e->ba) : 0.0;
}

bool TopologyView::isDrawnLost(int index) const {
  const DeviceStatus* d = device(index);
  return shown(index) && d->state == DeviceState::kLost;
}

bool TopologyView::isEdgeLit(int from, int to) const {
  const auto all = edges();
  const Edge* e = findEdge(all, from, to);
  return e && (e->a == from ? e->lit_ab : e->lit_ba);
}

bool TopologyView::hasArrow(int from, int to) const {
  const auto all = edges();
  const Edge* e = findEdge(all, from, to);
  return e && (e->a == from ? e->arrow_ab : e->arrow_ba);
}

std::vector<QRectF> TopologyView::labelRects() const {
  const Geometry g = geometry();
  std::vector<QRectF> out;
  for (const auto& placed : placeEdges(g, edgeFont(g))) {
    if (!placed.label.isEmpty()) out.push_back(placed.label);
  }
  return out;
}

int TopologyView::hiddenLabelCount() const {
  const Geometry g = geometry();
  int hidden = 0;
  for (const auto& placed : placeEdges(g, edgeFont(g))) hidden += placed.label.isEmpty() ? 1 : 0;
  return hidden;
}

TopologyView::Geometry TopologyView::geometry() const {
  const auto order = drawOrder();
  return layout_ == Layout::kRing ? ringGeometry(order) : chainGeometry(order);
}

TopologyView::Geometry TopologyView::chainGeometry(const std::vector<int>& order) const {
  Geometry g;
  const int n = static_cast<int>(order.size());
  if (n == 0) return g;
  const QRectF area = QRectF(rect()).adjusted(kMargin, kMargin, -kMargin, -kMargin);
  // Fewest rows that keep nodes at full size; else the grid that shrinks them least. Rows snake
  // (left to right, then right to left) so that every chain link joins neighbours.
  int best_cols = n;
  double best_scale = -1;
  for (int cols = n; cols >= 1; --cols) {
    const int rows = (n + cols - 1) / cols;
    const double scale = std::min(
        {area.width() / cols / (kNodeW + kGapW), area.height() / rows / (kNodeH + kGapH), 1.0});
    if (scale > best_scale * 1.25) {
      best_scale = scale;
      best_cols = cols;
    }
  }
  const int cols = best_cols;
  const int rows = (n + cols - 1) / cols;
  g.scale = std::max(best_scale, 0.05);
  const double cell_w = area.width() / cols, cell_h = area.height() / rows;
  const double w = kNodeW * g.scale, h = kNodeH * g.scale;
  for (int k = 0; k < n; ++k) {
    const int row = k / cols;
    const int in_row = k % cols;
    const int col = row % 2 == 0 ? in_row : cols - 1 - in_row;
    const QPointF c(area.left() + (col + 0.5) * cell_w, area.top() + (row + 0.5) * cell_h);
    g.nodes[order[static_cast<size_t>(k)]] = QRectF(c.x() - w / 2, c.y() - h / 2, w, h);
  }
  return g;
}

TopologyView::Geometry TopologyView::ringGeometry(const std::vector<int>& order) const {
  Geometry g;
  const int n = static_cast<int>(order.size());
  if (n == 0) return g;
  const QRectF area = QRectF(rect()).adjusted(kMargin, kMargin, -kMargin, -kMargin);
  const QPointF c = area.center();
  // Shrink until neighbours on the circle keep a label's gap between them.
  double scale = 1;
  double rx = 0, ry = 0;
  for (int pass = 0; pass < 2; ++pass) {
    rx = std::max(0.0, area.width() / 2 - kNodeW * scale / 2);
    ry = std::max(0.0, area.height() / 2 - kNodeH * scale / 2);
    if (n == 1) break;
    const double chord = 2 * std::min(rx, ry * 2) * std::sin(std::numbers::pi / n);
    scale = std::clamp(chord / (kNodeW + kGapW * 0.5), 0.05, 1.0);
  }
  g.scale = scale;
  const double w = kNodeW * scale, h = kNodeH * scale;
  for (int k = 0; k < n; ++k) {
    const double angle = -std::numbers::pi / 2 + 2 * std::numbers::pi * k / n;
    const QPointF p = n == 1 ? c : c + QPointF(rx * std::cos(angle), ry * std::sin(angle));
    g.nodes[order[static_cast<size_t>(k)]] = QRectF(p.x() - w / 2, p.y() - h / 2, w, h);
  }
  return g;
}

QRect TopologyView::nodeRect(int index) const {
  const Geometry g = geometry();
  auto it = g.nodes.find(index);
  return it == g.nodes.end() ? QRect() : it->second.toAlignedRect();
}

int TopologyView::nodeAt(const QPoint& pos) const {
  const Geometry g = geometry();
  for (const auto& [index, r] : g.nodes) {
    if (r.contains(pos)) return index;
  }
  return -1;
}

QString TopologyView::nodeToolTip(int index) const {
  const DeviceStatus* d = device(index);
  if (!d) return {};
  QString stage = tr("no stage");
  if (d->stage >= 0) {
    stage = tr("stage %1: layers %2–%3").arg(d->stage).arg(d->first_layer).arg(d->last_layer - 1);
  }
  QString tip =
      tr("<b>%1</b> — %2<br>address %3%4<br>%5 cores · capacity %6<br>%7<br>%8 samples/s"
         "<br>RTT %9 ms")
          .arg(QString::fromStdString(d->name).toHtmlEscaped(), deviceStateName(d->state),
               QString::fromStdString(d->address.empty() ? "—" : d->address).toHtmlEscaped(),
               d->local ? tr(" (local)") : QString(),
               d->cores > 0 ? QString::number(d->cores) : QStringLiteral("—"),
               QString::number(d->capacity, 'f', 2), stage, formatCount(d->samples_per_s),
               QString::number(d->rtt_ms, 'f', 1));
  if (const auto b = local_batch_.find(d->name); b != local_batch_.end()) {
    tip += tr("<br>local batch %1").arg(b->second, 0, 'f', 0);
  }
  if (!d->faults.empty()) {
    tip += tr("<br>faults: %1").arg(QString::fromStdString(d->faults).toHtmlEscaped());
  }
  return tip;
}

QSize TopologyView::sizeHint() const { return QSize(480, 240); }
QSize TopologyView::minimumSizeHint() const { return QSize(160, 110); }

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
