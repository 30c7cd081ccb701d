#include "core/algorithms/decentralized/edgegossip/edgegossip.h"

#include "core/algorithms/decentralized/edgegossip/edgegossip_coordinator.h"
#include "core/algorithms/decentralized/edgegossip/edgegossip_worker.h"

namespace edgerig {

GossipRules edgegossipRules() {
  GossipRules rules;
  rules.algorithm = "edgegossip";
  rules.weights = &metropolisHastings;
  rules.push_sum = false;
  return rules;
}

AlgorithmEntry edgegossipEntry() {
  AlgorithmInfo info;
  info.name = "edgegossip";
  info.family = "decentralized";
  info.summary =
      "heterogeneity-aware gossip (our design): local batches in proportion to measured device "
      "speed, updates weighted by batch, accuracy-aware exchange period; survives a lost device";
  info.fault_tolerant = true;
  info.params = {
      {"measureEvery",
       "re-measure every",
       ParamSpec::Kind::kInt,
       "rounds between measurements of the devices' speeds (P); the first is after 2 rounds",
       int64_t{20},
       1,
       1e9,
       {}},
      {"rebalanceTolerance",
       "rebalance tolerance",
       ParamSpec::Kind::kDouble,
       "the local batches change only when some device's would move by more than this fraction",
       0.1,
       0.0,
       10.0,
       {}},
      {"speedChange",
       "speed change",
       ParamSpec::Kind::kDouble,
       "a device whose round time moves by more than this fraction three rounds running is "
       "re-measured at once",
       0.5,
       0.01,
       100.0,
       {}},
      {"minPeriod",
       "min exchange period",
       ParamSpec::Kind::kInt,
       "the shortest exchange period, in rounds",
       int64_t{1},
       1,
       1024,
       {}},
      {"maxPeriod",
       "max exchange period",
       ParamSpec::Kind::kInt,
       "the longest exchange period, in rounds (periods double from minPeriod); = minPeriod: "
       "fixed",
       int64_t{4},
       1,
       1024,
       {}},
      {"stallThreshold",
       "stall threshold",
       ParamSpec::Kind::kDouble,
       "a validation accuracy that rises less than this above the best so far is a stall: the "
       "period halves; more: it doubles",
       0.005,
       0.0,
       1.0,
       {}},
  };
  addGossipGraph(info, std::string(kRingGraph), undirectedGraphKinds(),
                 "who averages with whom: ring, 2-D torus, complete, or random d-regular");
  auto graph_check = info.check;
  info.check = [graph_check](const ExperimentConfig& c) -> Status {
    const auto& p = c.algorithm.params;
    if (p.getInt("maxPeriod") < p.getInt("minPeriod")) {
      return invalidArgument("field algorithm.maxPeriod: " + std::to_string(p.getInt("maxPeriod")) +
                             " is below algorithm.minPeriod " +
                             std::to_string(p.getInt("minPeriod")));
    }
    return graph_check(c);
  };
  return {std::move(info),
          [](RunContext& ctx) {
            return std::make_unique<EdgeGossipCoordinator>(ctx, edgegossipRules());
          },
          [](WorkerContext& ctx, const wire::WorkerStart& start) {
            return GossipWorker::create(edgegossipRules(), std::make_unique<EdgeGossip>(), ctx,
                                        start);
          }};
}

}  // namespace edgerig
