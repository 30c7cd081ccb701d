#include "core/algorithms/decentralized/sgp/sgp.h"

#include "core/algorithms/decentralized/common/gossip_coordinator.h"

namespace edgerig {

GossipRules sgpRules() {
  GossipRules rules;
  rules.algorithm = "sgp";
  rules.weights = &pushSumUniform;
  rules.push_sum = true;
  return rules;
}

AlgorithmEntry sgpEntry() {
  AlgorithmInfo info;
  info.name = "sgp";
  info.family = "decentralized";
  info.summary =
      "stochastic gradient push: push-sum gossip over directed, time-varying graphs; survives a "
      "lost device";
  info.fault_tolerant = true;
  info.params = {
      {"graph", "graph", ParamSpec::Kind::kChoice,
       "where each device pushes: onepeer-exponential (one peer per round, rotating: SGP's "
       "default), exponential (i → i+2^k), or an undirected graph",
       std::string(kOnePeerExponentialGraph), 0, 0, allGraphKinds()},
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
          [](RunContext& ctx) { return std::make_unique<GossipCoordinator>(ctx, sgpRules()); },
          [](WorkerContext& ctx, const wire::WorkerStart& start) {
            return GossipWorker::create(sgpRules(), ctx, start);
          }};
}

}  // namespace edgerig
