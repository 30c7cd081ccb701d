// dpsgd's registry entry (Lian et al., NeurIPS 2017): each round a local SGD step, then the
// devices average with their neighbours on an undirected graph, with Metropolis–Hastings
// (doubly stochastic) weights. Both halves are the family's gossip coordinator and worker
// (core/algorithms/decentralized/common/gossip_*.h) with these rules.
#pragma once

#include "core/algorithms/decentralized/common/gossip_worker.h"
#include "core/algorithms/registry.h"

namespace edgerig {

GossipRules dpsgdRules();
AlgorithmEntry dpsgdEntry();

}  // namespace edgerig
