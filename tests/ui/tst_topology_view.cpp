// The topology view fed a scripted stream: a 3-device chain plan, link rates becoming labelled
// edges whose widths follow the rate, a lost device, a reordered plan, 32 devices that must fit,
// and the local batch a device reports (edgegossip's local_batch metric) on its node.
#include <QtTest>
#include <cmath>

#include "ui/topology_view.h"

using edgerig::DeviceState;
using edgerig::DeviceStatus;
using edgerig::GraphInfo;
using edgerig::LinkTraffic;
using edgerig::PlanInfo;
using edgerig::ui::TopologyView;

namespace {

DeviceStatus dev(int index, int stage, DeviceState state = DeviceState::kTraining) {
  DeviceStatus d;
  d.index = index;
  d.name = "dev";
  d.name += std::to_string(index);  // not "dev" + ...: GCC 12 -Wrestrict false positive
  d.address = "127.0.0.1:4000";
  d.state = state;
  d.stage = stage;
  d.cores = 2;
  d.capacity = 0.5;
  d.samples_per_s = 1234;
  d.rtt_ms = 1.5;
  return d;
}

LinkTraffic link(int from, int to, const char* kind, double rate) {
  LinkTraffic l;
  l.from = "dev" + std::to_string(from);
  l.to = "dev" + std::to_string(to);
  l.kind = kind;
  l.bytes = 1000;
  l.bytes_per_s = rate;
  return l;
}

PlanInfo chainPlan(std::vector<int> device_of_stage) {
  PlanInfo p;
  p.algorithm = "gpipe";
  p.device_of_stage = std::move(device_of_stage);
  for (size_t s = 0; s < p.device_of_stage.size(); ++s) {
    p.stage_first_layer.push_back(static_cast<int>(s) * 2);
  }
  return p;
}

// A one-peer graph turning through the offsets +2^k (SGP's also takes the −2^k): on n devices at
// `round`, i -> i + 2^(round mod log2 n).
GraphInfo onePeer(int n, int round, std::vector<int> members = {}) {
  if (members.empty()) {
    for (int i = 0; i < n; ++i) members.push_back(i);
  }
  const int m = static_cast<int>(members.size());
  int hops = 0;
  while ((1 << (hops + 1)) < m) ++hops;
  GraphInfo g;
  g.algorithm = "sgp";
  g.kind = "onepeer-exponential";
  g.round = round;
  const int hop = 1 << (round % (hops + 1));
  for (int i = 0; i < m; ++i) {
    g.edges.push_back(
        {members[static_cast<size_t>(i)], members[static_cast<size_t>((i + hop) % m)], 0.5});
  }
  return g;
}

bool overlapping(const TopologyView& v, int n) {
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n; ++j) {
      if (v.nodeRect(i).intersects(v.nodeRect(j))) return true;
    }
  }
  return false;
}

}  // namespace

class TstTopologyView : public QObject {
  Q_OBJECT

 private slots:
  void chainEdgesFollowRates() {
    TopologyView v;
    v.resize(900, 260);
    v.setDevices({dev(0, 0), dev(1, 1), dev(2, 2)});
    v.setPlan(chainPlan({0, 1, 2}));
    // The plan's links are drawn before any traffic, thin and idle.
    QCOMPARE(v.edgeCount(), 2);
    QCOMPARE(v.edgeWidth(0, 1), 1.0);
    QCOMPARE(v.edgeLabel(0, 1), QStringLiteral("idle"));
    QCOMPARE(v.edgeWidth(0, 2), 0.0);

    // Kinds sum per (from, to); both directions are one edge.
    v.setLinks({link(0, 1, "activation", 10e6), link(0, 1, "control", 2e6),
                link(1, 0, "gradient", 3e6), link(1, 2, "activation", 100e3),
                link(2, 1, "gradient", 50e3)});
    QCOMPARE(v.edgeCount(), 2);
    QCOMPARE(v.edgeLabel(0, 1), QStringLiteral("→ 12.0 MB/s / ← 3.00 MB/s"));
    QCOMPARE(v.edgeLabel(1, 0), QStringLiteral("→ 3.00 MB/s / ← 12.0 MB/s"));
    QVERIFY(v.edgeWidth(0, 1) > v.edgeWidth(1, 2));
    QVERIFY(v.edgeWidth(1, 2) > 1.0);
    QVERIFY(v.edgeWidth(0, 1) <= 10.0);
    QCOMPARE(v.edgeWidth(0, 1), v.edgeWidth(1, 0));

    // Stage order is left to right on one row at this size.
    QVERIFY(v.nodeRect(0).right() < v.nodeRect(1).left());
    QVERIFY(v.nodeRect(1).right() < v.nodeRect(2).left());
    QCOMPARE(v.nodeRect(0).center().y(), v.nodeRect(2).center().y());

    // Traffic off the plan still gets an edge; idle traffic off the plan does not.
    v.setLinks({link(0, 2, "weights", 1e6), link(2, 0, "control", 0)});
    QCOMPARE(v.edgeCount(), 3);
    QCOMPARE(v.edgeLabel(0, 2), QStringLiteral("→ 1.00 MB/s / ← 0 B/s"));
    QCOMPARE(v.edgeLabel(0, 1), QStringLiteral("idle"));
    // Links naming no known device are ignored.
    v.setLinks({link(0, 9, "activation", 1e6)});
    QCOMPARE(v.edgeCount(), 2);

    const QString tip = v.nodeToolTip(1);
    for (const char* part : {"dev1", "127.0.0.1:4000", "2 cores", "0.50", "1234", "1.5 ms"}) {
      QVERIFY2(tip.contains(part), qPrintable(tip));
    }
    QVERIFY(!v.grab().isNull());
    v.setLinks({link(0, 1, "activation", 10e6), link(0, 1, "control", 2e6),
                link(1, 0, "gradient", 3e6), link(1, 2, "activation", 100e3),
                link(2, 1, "gradient", 50e3), link(0, 2, "weights", 1e6)});
    QCOMPARE(v.edgeCount(), 3);
    QVERIFY(!v.grab().isNull());
  }

  void ratesFromByteCountersWhenTheReportHasNone() {
    TopologyView v;
    v.resize(700, 240);
    v.setDevices({dev(0, 0), dev(1, 1)});
    auto counter = link(0, 1, "activation", 0);
    v.setLinks({counter});
    QCOMPARE(v.edgeCount(), 0);  // no plan, no rate yet
    QTest::qWait(60);
    counter.bytes += 5'000'000;
    v.setLinks({counter});
    QCOMPARE(v.edgeCount(), 1);
    QVERIFY(v.edgeLabel(0, 1).startsWith("→ "));
    QVERIFY(v.edgeWidth(0, 1) > 1.0);
    QTest::qWait(20);
    v.setLinks({counter});  // no new bytes: idle again
    QCOMPARE(v.edgeCount(), 0);
  }

  void lostDeviceIsDrawnLost() {
    TopologyView v;
    v.resize(700, 240);
    v.setDevices({dev(0, 0), dev(1, 1), dev(2, 2)});
    v.setPlan(chainPlan({0, 1, 2}));
    QVERIFY(!v.isDrawnLost(2));
    v.setDevices({dev(1, 1, DeviceState::kFrozen)});
    QVERIFY(!v.isDrawnLost(1));
    // Lost, then re-planned over the two survivors: it stays drawn, after the chain.
    v.setDevices({dev(2, -1, DeviceState::kLost)});
    QVERIFY(v.isDrawnLost(2));
    v.setPlan(chainPlan({0, 1}));
    QVERIFY(v.isDrawnLost(2));
    QVERIFY(!v.nodeRect(2).isEmpty());
    QVERIFY(v.nodeRect(1).center().x() < v.nodeRect(2).center().x());
    QCOMPARE(v.edgeCount(), 1);
    QVERIFY(!v.grab().isNull());
  }

  void reorderedPlanReordersNodes() {
    TopologyView v;
    v.resize(900, 240);
    v.setDevices({dev(0, 0), dev(1, 1), dev(2, 2)});
    v.setPlan(chainPlan({0, 1, 2}));
    QVERIFY(v.nodeRect(0).center().x() < v.nodeRect(2).center().x());
    v.setPlan(chainPlan({2, 0, 1}));
    QVERIFY(v.nodeRect(2).center().x() < v.nodeRect(0).center().x());
    QVERIFY(v.nodeRect(0).center().x() < v.nodeRect(1).center().x());
    QVERIFY(!v.edgeLabel(2, 0).isEmpty());
    QVERIFY(v.edgeLabel(1, 2).isEmpty());
    // Without a plan the devices' own stages order the chain.
    TopologyView w;
    w.resize(900, 240);
    w.setDevices({dev(0, 2), dev(1, 0), dev(2, 1)});
    QVERIFY(w.nodeRect(1).center().x() < w.nodeRect(2).center().x());
    QVERIFY(w.nodeRect(2).center().x() < w.nodeRect(0).center().x());
  }

  void manyDevicesFit_data() {
    QTest::addColumn<int>("count");
    QTest::addColumn<int>("layout");
    QTest::addColumn<QSize>("size");
    for (int layout : {0, 1}) {
      const char* name = layout == 0 ? "chain" : "ring";
      QTest::addRow("%s 8 dock", name) << 8 << layout << QSize(480, 240);
      QTest::addRow("%s 8 wide", name) << 8 << layout << QSize(1400, 260);
      QTest::addRow("%s 32 dock", name) << 32 << layout << QSize(480, 240);
      QTest::addRow("%s 32 big", name) << 32 << layout << QSize(1200, 700);
    }
  }

  void manyDevicesFit() {
    QFETCH(int, count);
    QFETCH(int, layout);
    QFETCH(QSize, size);
    TopologyView v;
    v.setLayout(layout == 0 ? TopologyView::Layout::kChain : TopologyView::Layout::kRing);
    v.resize(size);
    std::vector<DeviceStatus> devices;
    std::vector<int> order;
    for (int i = 0; i < count; ++i) {
      devices.push_back(dev(i, i));
      order.push_back(i);
    }
    v.setDevices(devices);
    v.setPlan(chainPlan(order));
    QCOMPARE(v.edgeCount(), count - 1);
    for (int i = 0; i < count; ++i) {
      QVERIFY(v.rect().contains(v.nodeRect(i)));
      QVERIFY(v.nodeRect(i).width() >= 20);
    }
    QVERIFY(!overlapping(v, count));
    if (count == 8 && size.width() >= 1400 && layout == 0) {
      QCOMPARE(v.nodeRect(0).center().y(), v.nodeRect(7).center().y());  // one row
      QVERIFY(v.nodeRect(0).width() >= 90);
    }
    if (count == 8 && layout == 0) {
      // Readable: full-size nodes even in a dock (the chain wraps instead of shrinking).
      QVERIFY(v.nodeRect(3).height() >= 40);
    }
    QVERIFY(!v.grab().isNull());
  }

  void aDecentralizedGraphIsDrawnInRingOrder() {
    TopologyView v;
    v.resize(700, 500);
    v.setLayout(TopologyView::Layout::kRing);
    v.setDevices({dev(0, -1), dev(1, -1), dev(2, -1), dev(3, -1)});
    // The ring 0 -> 2 -> 1 -> 3 -> 0 (ring order is not index order).
    GraphInfo g;
    g.algorithm = "a decentralized one";
    g.kind = "ring";
    for (auto [a, b] : std::vector<std::pair<int, int>>{{0, 2}, {2, 1}, {1, 3}, {3, 0}}) {
      g.edges.push_back({a, b, 0.25});
    }
    v.setGraph(g);
    // Its four edges are drawn before any traffic, idle; no chord that is not in the graph.
    QCOMPARE(v.edgeCount(), 4);
    QCOMPARE(v.edgeLabel(0, 2), QStringLiteral("idle"));
    QCOMPARE(v.edgeWidth(0, 1), 0.0);
    QCOMPARE(v.edgeWidth(2, 3), 0.0);
    QVERIFY(!overlapping(v, 4));
    // Ring order around the circle: neighbours in the graph are neighbours on screen, so the
    // distance from 0 to 2 is shorter than from 0 to 1 (across the ring).
    auto dist = [&](int a, int b) {
      const QPointF d = QRectF(v.nodeRect(a)).center() - QRectF(v.nodeRect(b)).center();
      return std::hypot(d.x(), d.y());
    };
    QVERIFY2(dist(0, 2) < dist(0, 1), "2 follows 0 on the ring");
    QVERIFY2(dist(2, 1) < dist(2, 3), "1 follows 2 on the ring");
    // Traffic on a ring edge labels it; a plan replaces the graph.
    v.setLinks({link(0, 2, "gradient", 5e6)});
    QVERIFY2(v.edgeLabel(0, 2).contains("MB/s"), qPrintable(v.edgeLabel(0, 2)));
    v.setPlan(chainPlan({0, 1}));
    QCOMPARE(v.edgeWidth(1, 3), 0.0);
  }

  // A time-varying graph: each round's edges are lit, the earlier rounds' stay drawn faint, every
  // edge has its arrowhead, and the nodes do not move as the graph turns.
  void eachRoundsEdgesAreLit() {
    TopologyView v;
    v.resize(900, 600);
    v.setLayout(TopologyView::Layout::kRing);
    std::vector<DeviceStatus> devices;
    for (int i = 0; i < 8; ++i) devices.push_back(dev(i, -1));
    v.setDevices(devices);
    v.setGraph(onePeer(8, 0));
    const QRect three = v.nodeRect(3);
    QCOMPARE(v.edgeCount(), 8);
    QVERIFY(v.isEdgeLit(0, 1));
    QVERIFY(v.hasArrow(0, 1));
    QVERIFY(!v.hasArrow(1, 0));  // directed: no arrow back
    QVERIFY(!v.isEdgeLit(1, 0));
    v.setGraph(onePeer(8, 1));
    QCOMPARE(v.edgeCount(), 16);
    QVERIFY(!v.isEdgeLit(0, 1));  // last round's: faint, still drawn
    QVERIFY(v.hasArrow(0, 1));
    QVERIFY(v.isEdgeLit(0, 2));
    QVERIFY(v.isEdgeLit(6, 0));
    v.setGraph(onePeer(8, 2));
    QCOMPARE(v.edgeCount(), 20);  // the union: 8 + 8 one-way, 4 pairs both ways
    QVERIFY(v.isEdgeLit(0, 4) && v.isEdgeLit(4, 0));
    QVERIFY(v.hasArrow(0, 4) && v.hasArrow(4, 0));
    QVERIFY(!v.isEdgeLit(0, 2) && !v.isEdgeLit(0, 1));
    QCOMPARE(v.nodeRect(3), three);
    v.setGraph(onePeer(8, 3));  // round 3 is round 0's graph again
    QVERIFY(v.isEdgeLit(0, 1) && !v.isEdgeLit(0, 4));
    QCOMPARE(v.edgeCount(), 20);
    QVERIFY(!v.grab().isNull());
  }

  // The union graph with traffic on every edge: every label drawn, none over another or a node.
  void unionGraphLabelsDoNotOverlap() {
    TopologyView v;
    v.resize(900, 600);
    v.setLayout(TopologyView::Layout::kRing);
    std::vector<DeviceStatus> devices;
    for (int i = 0; i < 8; ++i) devices.push_back(dev(i, -1));
    v.setDevices(devices);
    std::vector<LinkTraffic> links;
    for (int round = 0; round < 3; ++round) {
      const GraphInfo g = onePeer(8, round);
      v.setGraph(g);
      for (const auto& e : g.edges)
        links.push_back(link(e.from, e.to, "gossip", 1.5e5 + e.to * 1e4));
    }
    v.setLinks(links);
    const auto labels = v.labelRects();
    QCOMPARE(v.hiddenLabelCount(), 0);
    QCOMPARE(static_cast<int>(labels.size()), 20);
    for (size_t i = 0; i < labels.size(); ++i) {
      QVERIFY2(QRectF(v.rect()).contains(labels[i]), "a label leaves the view");
      for (size_t j = i + 1; j < labels.size(); ++j) {
        QVERIFY2(!labels[i].intersects(labels[j]),
                 qPrintable(QStringLiteral("labels %1 and %2 overlap").arg(i).arg(j)));
      }
      for (int d = 0; d < 8; ++d) {
        QVERIFY2(!labels[i].intersects(QRectF(v.nodeRect(d))),
                 qPrintable(QStringLiteral("label %1 covers device %2").arg(i).arg(d)));
      }
    }
    QVERIFY(v.edgeLabel(0, 4).contains("kB/s"));
    QVERIFY(!v.grab().isNull());
  }

  // dssync's groups (a kind starting with "groups"): the current round's groups alone, no union
  // of rounds, whatever the members.
  void groupsAreDrawnRoundByRound() {
    TopologyView v;
    v.resize(900, 600);
    v.setLayout(TopologyView::Layout::kRing);
    std::vector<DeviceStatus> devices;
    for (int i = 0; i < 6; ++i) devices.push_back(dev(i, -1));
    v.setDevices(devices);
    const auto groups = [](const std::string& kind, std::vector<std::vector<int>> gs) {
      GraphInfo g;
      g.algorithm = "dssync";
      g.kind = kind;
      for (const auto& group : gs) {
        const int n = static_cast<int>(group.size());
        for (int i = 0; i < n && n > 1; ++i) {
          g.edges.push_back(
              {group[static_cast<size_t>(i)], group[static_cast<size_t>((i + 1) % n)], 1.0 / n});
        }
      }
      return g;
    };
    v.setGraph(groups("groups", {{0, 1, 2}, {3, 4, 5}}));
    QCOMPARE(v.edgeCount(), 6);
    QVERIFY(v.hasArrow(0, 1) && v.hasArrow(2, 0));
    v.setGraph(groups("groups", {{0, 2, 1}, {3, 5, 4}}));  // the rings turned round
    QCOMPARE(v.edgeCount(), 6);  // a union would keep last round's 0 -> 1, faint
    QVERIFY(v.hasArrow(0, 2) && v.hasArrow(1, 0) && !v.hasArrow(0, 1));
    v.setGraph(groups("groups-bridge", {{0, 3}, {1, 4}, {2, 5}}));
    QCOMPARE(v.edgeCount(), 3);  // three pairs, both ways
    QVERIFY(v.hasArrow(0, 3) && v.hasArrow(3, 0) && !v.hasArrow(1, 2));
    QVERIFY(!v.grab().isNull());
  }

  // A lost device leaves the graph view at once, with its edges; the graph re-drawn over the
  // survivors replaces the union.
  void aLostDeviceLeavesTheGraph() {
    TopologyView v;
    v.resize(900, 600);
    v.setLayout(TopologyView::Layout::kRing);
    std::vector<DeviceStatus> devices;
    for (int i = 0; i < 8; ++i) devices.push_back(dev(i, -1));
    v.setDevices(devices);
    for (int round = 0; round < 3; ++round) v.setGraph(onePeer(8, round));
    QVERIFY(!v.nodeRect(5).isEmpty());
    QVERIFY(v.hasArrow(4, 5));
    v.setDevices({dev(5, -1, DeviceState::kLost)});
    QVERIFY(v.nodeRect(5).isEmpty());
    QVERIFY(!v.isDrawnLost(5));
    QVERIFY(v.edgeLabel(4, 5).isEmpty());
    QVERIFY(!v.hasArrow(4, 5) && !v.isEdgeLit(5, 6));
    QCOMPARE(v.edgeCount(), 20 - 5);  // 5's pairs: with 4, 6, 3, 7 and 1 (1 <-> 5 both ways)
    v.setGraph(onePeer(8, 3, {0, 1, 2, 3, 4, 6, 7}));
    QCOMPARE(v.edgeCount(), 7);  // the survivors' first round
    QVERIFY(v.isEdgeLit(4, 6));
    QVERIFY(v.nodeRect(5).isEmpty());
    QVERIFY(!v.grab().isNull());
  }

  void nodesShowTheirLocalBatch() {
    TopologyView v;
    v.resize(480, 240);
    v.setDevices({dev(0, -1), dev(1, -1), dev(2, -1, DeviceState::kSlow)});
    QCOMPARE(v.nodeCaption(0), QString("no stage"));  // dpsgd: no local batch reported
    v.addMetrics({{1.0, 7, "dev0", "local_batch", 47},
                  {1.0, 7, "dev2", "local_batch", 12},
                  {1.0, 7, "dev1", "iteration_time", 0.02},
                  {1.1, 8, "dev0", "local_batch", 46}});
    QCOMPARE(v.nodeCaption(0), QString("batch 46"));
    QCOMPARE(v.nodeCaption(1), QString("no stage"));
    QCOMPARE(v.nodeCaption(2), QString("batch 12 · slow"));
    QVERIFY(v.nodeToolTip(0).contains("local batch 46"));
    QVERIFY(!v.nodeToolTip(1).contains("local batch"));
    v.setDevices({dev(0, -1, DeviceState::kLost)});
    QCOMPARE(v.nodeCaption(0), QString("lost"));
    v.clear();
    v.setDevices({dev(2, -1)});
    QCOMPARE(v.nodeCaption(2), QString("no stage"));  // a new run forgets the batches
  }
};

QTEST_MAIN(TstTopologyView)
#include "tst_topology_view.moc"
