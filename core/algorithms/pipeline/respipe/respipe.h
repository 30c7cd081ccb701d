// respipe's registry entry: its declaration (r, T, τ, F and the pipeline's parameters) and its
// two halves.
#pragma once

#include <cstdint>

#include "core/algorithms/registry.h"

namespace edgerig {

AlgorithmEntry respipeEntry();

// A bypass that has lasted this many iterations counts a probe on time within τ, not τ/2 (our
// design, docs/design.md respipe 2): τ was learned before the bypass (nothing teaches it during
// one), perhaps on a quieter machine, and a healthy stage's probes on a machine loaded since
// then may never come back within τ/2.
inline constexpr int64_t kRespipeLongBypassIterations = 16;

}  // namespace edgerig
