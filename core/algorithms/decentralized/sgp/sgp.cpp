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
  addGossipGraph(
      info, std::string(kOnePeerExponentialGraph), allGraphKinds(),
      "where each device pushes: onepeer-exponential (one peer per round, rotating: SGP's "
      "default), exponential (i → i+2^k), or an undirected graph");
  return {std::move(info),
          [](RunContext& ctx) { return std::make_unique<GossipCoordinator>(ctx, sgpRules()); },
          [](WorkerContext& ctx, const wire::WorkerStart& start) {
            return GossipWorker::create(sgpRules(), ctx, start);
          }};
}

}  // namespace edgerig
