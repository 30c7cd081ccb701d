// ftpipehd's registry entry: its declaration (parameters, checks) and its two halves.
#pragma once

#include "core/algorithms/registry.h"

namespace edgerig {

AlgorithmEntry ftpipehdEntry();

}  // namespace edgerig
