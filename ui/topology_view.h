// The Topology dock: devices as nodes, the links that carry training traffic as edges whose
// width and label follow the live bytes/s; laid out as a chain (pipelines) or a ring (gossip).
#pragma once

#include <QElapsedTimer>
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
  void drawEdge(QPainter& p, const Edge& e, const Geometry& g) const;
  void drawNode(QPainter& p, const DeviceStatus& d, const QRectF& r, double scale) const;

  Layout layout_ = Layout::kChain;
  std::vector<DeviceStatus> devices_;  // sorted by index
  std::vector<LinkTraffic> links_;
  PlanInfo plan_;
  GraphInfo graph_;
  // Rates derived from byte counters when the report carries none (bytes_per_s == 0).
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> last_bytes_;
  std::map<std::tuple<std::string, std::string, std::string>, double> derived_rate_;
  QElapsedTimer since_links_;
};

}  // namespace edgerig::ui
