// ModelState: a model's (or a stage's) weights as ordered, named tensors, the unit that is
// replicated, migrated between stages and handed from one algorithm to the next.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "device_bridge/status.h"

namespace edgerig {

using ModelState = std::vector<std::pair<std::string, torch::Tensor>>;  // ordered, named

// Parameters then buffers, as detached clones (later training does not change them).
ModelState stateOf(const torch::nn::Module& m);

// Copies s into m by name. Every parameter and buffer of m must be in s with the same shape
// and dtype; extra entries in s are ignored, so a stage can load its slice from a whole-model
// state. Nothing is changed unless everything matches; errors name the tensor.
Status loadState(torch::nn::Module& m, const ModelState& s);

// Concatenates stage states, in order, into one (e.g. a whole model from its stages).
ModelState mergeStates(const std::vector<ModelState>& parts);

}  // namespace edgerig
