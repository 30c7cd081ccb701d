// edgegossip's registry entry: heterogeneity-aware gossip (our design from Han et al., IEEE TPDS
// 32(7), 2021, whose code is not public; docs/design.md "edgegossip"). dpsgd on an undirected
// graph with Metropolis–Hastings weights, plus: local batches in proportion to each device's
// measured speed (the global batch fixed), averaging in which each model counts in proportion to
// its batch, and an accuracy-aware exchange period. With equal batches and period 1 it is dpsgd.
#pragma once

#include "core/algorithms/decentralized/common/gossip_worker.h"
#include "core/algorithms/registry.h"

namespace edgerig {

GossipRules edgegossipRules();
AlgorithmEntry edgegossipEntry();

}  // namespace edgerig
