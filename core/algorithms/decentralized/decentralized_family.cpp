#include "core/algorithms/decentralized/decentralized_family.h"

#include "core/algorithms/decentralized/allreduce/allreduce.h"
#include "core/algorithms/decentralized/dpsgd/dpsgd.h"
#include "core/algorithms/decentralized/dssync/dssync.h"
#include "core/algorithms/decentralized/edgegossip/edgegossip.h"
#include "core/algorithms/decentralized/sgp/sgp.h"
#include "core/algorithms/decentralized/sparse_push/sparse_push.h"

namespace edgerig {

void registerDecentralizedFamily(AlgorithmRegistry& registry) {
  registry.add(allreduceEntry());
  registry.add(dpsgdEntry());
  registry.add(sgpEntry());
  registry.add(sparsePushEntry());
  registry.add(edgegossipEntry());
  registry.add(dssyncEntry());
}

}  // namespace edgerig
