#include "ui/topology_view.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <set>

#include "ui/format.h"
#include "ui/topology_view_style.h"

namespace edgerig::ui {

using namespace topology;  // NOLINT(google-build-using-namespace)

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

}  // namespace edgerig::ui
