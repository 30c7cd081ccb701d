// The pipeline family: its algorithms register here, one line each.
#pragma once

#include "core/algorithms/registry.h"

namespace edgerig {

void registerPipelineFamily(AlgorithmRegistry& registry);

}  // namespace edgerig
