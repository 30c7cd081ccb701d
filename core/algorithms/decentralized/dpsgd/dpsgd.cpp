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
  addGossipGraph(info, std::string(kRingGraph), undirectedGraphKinds(),
                 "who averages with whom: ring, 2-D torus, complete, or random d-regular");
  return {std::move(info),
          [](RunContext& ctx) { return std::make_unique<GossipCoordinator>(ctx, dpsgdRules()); },
          [](WorkerContext& ctx, const wire::WorkerStart& start) {
            return GossipWorker::create(dpsgdRules(), ctx, start);
          }};
}

}  // namespace edgerig
