// The model zoo: every model is a chain of named blocks (conv + ReLU, pool, fc ...) that can be
// cut between any two blocks into pipeline stages.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/model/layer_info.h"
#include "device_bridge/status.h"

namespace edgerig {

inline constexpr int64_t kImageChannels = 1, kImageSize = 28, kNumClasses = 10;

// Copies of a LayerChain share its blocks (torch module holders), and so their weights.
class LayerChain {
 public:
  static std::vector<std::string> modelNames();  // {"mlp", "lenet5", "cnn", "vgg"}
  static std::string defaultModel();             // "cnn"

  // Seeded initialisation: the same (model, seed) gives bit-identical weights in every
  // process, so each agent builds the whole chain and keeps its slice. The weights come from a
  // private generator: the global torch RNG does not affect them (torch's module constructors
  // still advance it). Unknown name: error listing the known ones.
  static Result<LayerChain> build(const std::string& model, uint64_t seed);

  const std::string& modelName() const { return model_; }
  int numLayers() const { return static_cast<int>(infos_.size()); }
  const LayerInfo& info(int i) const { return infos_.at(static_cast<size_t>(i)); }
  const std::vector<LayerInfo>& infos() const { return infos_; }
  torch::nn::Sequential layer(int i) const { return layers_.at(static_cast<size_t>(i)); }

  // Sum of LayerInfo::parameters over the chain.
  int64_t parameterCount() const;

 private:
  LayerChain() = default;

  std::string model_;
  std::vector<LayerInfo> infos_;
  std::vector<torch::nn::Sequential> layers_;
};

}  // namespace edgerig
