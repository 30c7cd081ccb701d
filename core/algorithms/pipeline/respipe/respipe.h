// respipe's registry entry: its declaration (r, T, τ, F and the pipeline's parameters) and its
// two halves.
#pragma once

#include "core/algorithms/registry.h"

namespace edgerig {

AlgorithmEntry respipeEntry();

}  // namespace edgerig
