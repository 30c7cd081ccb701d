#include "core/algorithms/decentralized/dpsgd/dpsgd.h"

#include "core/algorithms/decentralized/common/gossip_coordinator.h"

namespace edgerig {

GossipRules dpsgdRules() {
  GossipRules rules;
  rules.algorithm = "dpsgd";
  rules.weights = &metropolisHastings;
  rules.push_sum = false;
  return rules;
}

AlgorithmEntry dpsgdEntry() {
  AlgorithmInfo info;
  info.name = "dpsgd";
  info.family = "decentralized";
  info.summary =
      "gossip SGD: a local step, then averaging with the neighbours on an undirected graph "
      "(Metropolis–Hastings weights); survives a lost device";
  info.fault_tolerant = true;
  info.params = {
      {"graph", "graph", ParamSpec::Kind::kChoice,
       "who averages with whom: ring, 2-D torus, complete, or random d-regular",
       std::string(kRingGraph), 0, 0, undirectedGraphKinds()},
      {"degree",
       "degree",
       ParamSpec::Kind::kInt,
       "neighbours per device of a random-regular graph (devices × degree even)",
       int64_t{3},
       1,
       256,
       {}},
      {"redrawEvery",
       "re-draw every",
       ParamSpec::Kind::kInt,
       "rounds between re-draws of the graph from the seed (a new labelling of the devices; "
       "random-regular: a new graph); 0: never",
       int64_t{0},
       0,
       1e9,
       {}},
  };
  info.check = [](const ExperimentConfig& c) {
    return checkGraph(GossipCoordinator::declaredGraph(c), c.numDevices());
  };
  return {std::move(info),
          [](RunContext& ctx) { return std::make_unique<GossipCoordinator>(ctx, dpsgdRules()); },
          [](WorkerContext& ctx, const wire::WorkerStart& start) {
            return GossipWorker::create(dpsgdRules(), ctx, start);
          }};
}

}  // namespace edgerig
