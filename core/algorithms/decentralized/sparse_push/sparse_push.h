// sparse-push's registry entry: compressed push-sum (Aketi, Singh, Rabaey, arXiv 2102.05715) in
// the manner of CHOCO-SGD: each round a device sends its out-neighbours only the top-k (or
// random-k) entries of what changed since its last share over that edge, keeps the rest as error
// feedback, and moves towards its neighbours by a consensus step γ; an optional skew
// compensation (our design) for non-IID shards. The controller side is the family's
// GossipCoordinator; the agent side is the family's gossip round engine with the SparsePushGossip
// strategy (sparse_push_worker.h).
#pragma once

#include "core/algorithms/decentralized/common/gossip_worker.h"
#include "core/algorithms/registry.h"

namespace edgerig {

GossipRules sparsePushRules();
AlgorithmEntry sparsePushEntry();

}  // namespace edgerig
