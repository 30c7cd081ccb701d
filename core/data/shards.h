// How a decentralized run splits the training set over its devices: IID, Dirichlet(α) label
// skew, or k classes per device. From the labels and the seed alone, with our own portable
// random draws, so that every agent, the controller and a test's reference compute the same
// shards without sending any. Plain C++.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "device_bridge/status.h"

namespace edgerig {

struct ShardSpec {
  std::string kind = "iid";  // iid | dirichlet | classes
  double alpha = 0.5;        // dirichlet: smaller is more skewed
  int classes_per_device = 2;
};

// A shard below this many samples is re-drawn (Dirichlet) or refused: a device cannot train
// on nothing.
inline constexpr int64_t kMinShardSize = 10;

// The indices (ascending) of each device's shard. labels[i] in [0, num_classes).
// - iid: a seeded permutation cut into `devices` nearly equal parts.
// - dirichlet: for each class, proportions p ~ Dir(alpha, ..., alpha) over the devices cut that
//   class's shuffled samples; re-drawn (up to 100 times) until every shard has kMinShardSize.
// - classes: device d holds classes (π(d·k + j) mod C) for j < k, π a seeded permutation of the
//   classes; each class is cut evenly among the devices that hold it.
// Errors name the spec field that cannot be met (e.g. a shard left empty).
Result<std::vector<std::vector<int64_t>>> shardIndices(const std::vector<int64_t>& labels,
                                                       int num_classes, int devices,
                                                       const ShardSpec& spec, uint64_t seed);

// Samples per class in `shard`.
std::vector<int64_t> classCounts(const std::vector<int64_t>& labels,
                                 const std::vector<int64_t>& shard, int num_classes);

// A Gamma(shape, 1) draw from our portable stream (Marsaglia–Tsang), exposed for tests.
class RandomStream;
double gammaDraw(RandomStream& rng, double shape);

}  // namespace edgerig
