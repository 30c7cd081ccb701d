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

// SGD's momentum buffers of m's parameters, named "<parameter>.momentum" (a parameter without a
// buffer yet, before the first step or with momentum 0, is left out).
ModelState momentumOf(torch::optim::SGD& optimizer, const torch::nn::Module& m);
// Sets the buffers from such a state; entries for other parameters are ignored. Errors name the
// tensor whose shape does not match.
Status loadMomentum(torch::optim::SGD& optimizer, const torch::nn::Module& m, const ModelState& s);

// The element-wise mean of states with the same names and shapes (a decentralized family's
// models); errors name the first tensor that differs.
Result<ModelState> averageStates(const std::vector<ModelState>& states);

}  // namespace edgerig
