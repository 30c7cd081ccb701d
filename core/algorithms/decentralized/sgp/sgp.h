// sgp's registry entry: Stochastic Gradient Push (Assran et al., ICML 2019). Each device keeps
// numerators x and a push-sum weight u (1 at the start), takes its local step on z = x / u,
// keeps 1/(k+1) of (x, u) and pushes 1/(k+1) to each of this round's k out-neighbours, and sums
// what arrives: correct on directed, time-varying, non-regular graphs. Both halves are the
// family's gossip coordinator and worker (common/gossip_*.h) with these rules.
#pragma once

#include "core/algorithms/decentralized/common/gossip_worker.h"
#include "core/algorithms/registry.h"

namespace edgerig {

GossipRules sgpRules();
AlgorithmEntry sgpEntry();

}  // namespace edgerig
