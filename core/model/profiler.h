// Per-layer compute cost of a chain on this machine: the input of the partition planner.
#pragma once

#include <cstdint>
#include <vector>

#include "core/model/layer_chain.h"

namespace edgerig {

// Forward+backward seconds per mini-batch for each layer, on random input of the right shape
// (median of `repetitions` after one warm-up). The chain's own weights and gradients are left
// untouched (each layer is profiled on a copy). Non-positive arguments count as 1; empty if
// torch fails.
std::vector<double> profileLayers(const LayerChain& chain, int batch_size, int repetitions,
                                  uint64_t seed);

}  // namespace edgerig
