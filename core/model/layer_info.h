// What a layer of a model is, as plain values: for plans, logs and the GUI, which must not
// include torch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "device_bridge/status.h"

namespace edgerig {

struct LayerInfo {
  std::string name;                   // unique in the model: "conv1", "pool1", "fc1", ...
  std::string description;            // "Conv2d 1→32 3×3 + ReLU"
  std::vector<int64_t> output_shape;  // per sample, e.g. {32, 28, 28}
  int64_t parameters = 0;
  int64_t activation_bytes = 0;  // per sample, float32 output of the layer
  bool operator==(const LayerInfo&) const = default;
};

// The layers of a model of the zoo, without exposing torch. Unknown name: an error listing
// the known ones.
Result<std::vector<LayerInfo>> describeModel(const std::string& model);

}  // namespace edgerig
