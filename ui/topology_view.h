// The Topology dock: devices as nodes, the links that carry training traffic as edges whose
// width and label follow the live bytes/s; laid out as a chain (pipelines) or a ring (gossip).
// A decentralized graph is drawn as the union of the rounds' graphs seen since its members last
// changed: arrowheads give each edge's direction, the current round's edges are lit and the
// others faint, labels are placed where they cover no other label or node, and a lost device
// leaves the picture (its edges with it). A device that reports a local batch (edgegossip's
// `local_batch` metric) shows it on its node.
#pragma once

#include <QElapsedTimer>
#include <QPainterPath>
#include <QWidget>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "ui/ui_types.h"

namespace edgerig::ui {

class TopologyView : public QWidget {
  Q_OBJECT

 public:
  enum class Layout { kChain, kRing };

  explicit TopologyView(QWidget* parent = nullptr);

  // Merges a picture of the devices by index (a lost device keeps its node, drawn lost).
  void setDevices(const std::vector<DeviceStatus>& devices);
  // Replaces the traffic picture: one entry per (from, to, kind), names are device names.
  void setLinks(const std::vector<LinkTraffic>& links);
  // Orders the chain by device_of_stage and draws the stage s → s+1 links even when idle.
  void setPlan(const PlanInfo& plan);
  // A decentralized run's graph: its edges are drawn even when idle, devices in ring order
  // (following the edges from the lowest index). Replaces a plan, and the other way round.
  void setGraph(const GraphInfo& graph);
  // Takes each device's newest `local_batch` from a burst of metrics (the others are ignored).
  void addMetrics(const std::vector<MetricSample>& metrics);
  void setLayout(Layout layout);
  using QWidget::setLayout;
  Layout layoutKind() const { return layout_; }
  // Forgets devices, links and plan (a new run).
  void clear();

  // For tests and the window. Device arguments are device indices.
  QRect nodeRect(int device) const;  // empty when the device is not drawn
  int edgeCount() const;
  // "→ 12 MB/s / ← 3 MB/s", → meaning from→to; empty when no edge joins them.
  QString edgeLabel(int from, int to) const;
  double edgeWidth(int from, int to) const;  // pen width in px, 0 when no edge
  bool isDrawnLost(int device) const;
  QString nodeToolTip(int device) const;
  // The node's second line: "stage 1", "batch 46" (a local batch reported), "lost", ...
  QString nodeCaption(int device) const;
  // Decentralized graphs. True when from→to is an edge of the current round's graph (lit).
  bool isEdgeLit(int from, int to) const;
  // True when from→to is drawn with an arrowhead at `to` (an edge of the union graph).
  bool hasArrow(int from, int to) const;
  // Where the edge labels go (widget coordinates), one per labelled edge. In a crowded graph a
  // faint edge whose label finds no free spot is drawn without one (hiddenLabelCount); the lit
  // edges' labels are always drawn.
  std::vector<QRectF> labelRects() const;
  int hiddenLabelCount() const;

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;

 private:
  struct Edge {
    int a = -1, b = -1;  // a comes first in the drawing order
    double ab = 0, ba = 0;
    bool planned = false;
    bool arrow_ab = false, arrow_ba = false;  // a→b / b→a is an edge of the union graph
    bool lit_ab = false, lit_ba = false;      // ... of the current round's graph
  };
  struct PlacedEdge {
    Edge edge;
    QPainterPath path;
    QString text;
    QRectF label;  // empty: hidden
  };
  struct Geometry {
    std::map<int, QRectF> nodes;  // by device index
    double scale = 1;             // < 1 when nodes had to shrink to fit
  };

  std::vector<int> drawOrder() const;
  std::vector<Edge> edges() const;
  const Edge* findEdge(const std::vector<Edge>& all, int from, int to) const;
  Geometry geometry() const;
  Geometry chainGeometry(const std::vector<int>& order) const;
  Geometry ringGeometry(const std::vector<int>& order) const;
  const DeviceStatus* device(int index) const;
  int indexOf(const std::string& name) const;
  int nodeAt(const QPoint& pos) const;
  // Every edge's path and its label's place, labels kept off each other and off the nodes.
  std::vector<PlacedEdge> placeEdges(const Geometry& g, const QFont& font) const;
  QFont edgeFont(const Geometry& g) const;
  bool graphMode() const { return !union_.empty() && plan_.device_of_stage.empty(); }
  bool shown(int device) const;
  void drawEdge(QPainter& p, const PlacedEdge& placed, const Geometry& g) const;
  void drawLabel(QPainter& p, const PlacedEdge& placed) const;
  void drawNode(QPainter& p, const DeviceStatus& d, const QRectF& r, double scale) const;
  QString caption(const DeviceStatus& d) const;

  Layout layout_ = Layout::kChain;
  std::vector<DeviceStatus> devices_;  // sorted by index
  std::vector<LinkTraffic> links_;
  std::map<std::string, double> local_batch_;  // by device name
  PlanInfo plan_;
  GraphInfo graph_;  // the current round's
  // The union of the rounds' graphs since the members or the kind last changed: (from, to).
  std::map<std::pair<int, int>, double> union_;
  // Rates derived from byte counters when the report carries none (bytes_per_s == 0).
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> last_bytes_;
  std::map<std::tuple<std::string, std::string, std::string>, double> derived_rate_;
  QElapsedTimer since_links_;
};

}  // namespace edgerig::ui
