// `dssync`: divide and shuffle (DS-Sync, Wang et al., INFOCOM 2022; the grouping rule is our
// design, docs/design.md "dssync — our design").
#pragma once

#include "core/algorithms/registry.h"

namespace edgerig {

AlgorithmEntry dssyncEntry();

}  // namespace edgerig
