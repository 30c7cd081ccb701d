#include "core/algorithms/decentralized/decentralized_family.h"

#include "core/algorithms/decentralized/allreduce/allreduce.h"

namespace edgerig {

void registerDecentralizedFamily(AlgorithmRegistry& registry) { registry.add(allreduceEntry()); }

}  // namespace edgerig
