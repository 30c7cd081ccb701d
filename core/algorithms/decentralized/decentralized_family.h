// The decentralized family: every device holds the whole model and its own data shard. Its
// algorithms register here, one line each.
#pragma once

#include "core/algorithms/registry.h"

namespace edgerig {

void registerDecentralizedFamily(AlgorithmRegistry& registry);

}  // namespace edgerig
