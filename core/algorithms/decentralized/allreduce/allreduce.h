// allreduce's registry entry: its declaration and its two halves.
#pragma once

#include "core/algorithms/registry.h"

namespace edgerig {

AlgorithmEntry allreduceEntry();

}  // namespace edgerig
