// A pipeline stage: a contiguous slice [first, last) of a LayerChain as one torch module.
#pragma once

#include <torch/torch.h>

#include "core/model/layer_chain.h"
#include "device_bridge/status.h"

namespace edgerig {

// Submodules are registered under the layer names, so parameter names ("conv1.0.weight") are
// the same in a stage and in the whole model (makeStage(chain, 0, chain.numLayers())).
// A stage shares its blocks, and so its weights, with the chain it was cut from.
class StageModuleImpl : public torch::nn::Module {
 public:
  // Precondition: 0 <= first < last <= chain.numLayers() (std::out_of_range otherwise);
  // makeStage checks it and returns an error instead.
  StageModuleImpl(const LayerChain& chain, int first, int last);

  torch::Tensor forward(torch::Tensor x);
  int first() const { return first_; }
  int last() const { return last_; }

 private:
  int first_;
  int last_;
  std::vector<torch::nn::Sequential> blocks_;
};
TORCH_MODULE(StageModule);

// The checked way to cut a stage: an empty or out-of-range slice is an error naming it.
Result<StageModule> makeStage(const LayerChain& chain, int first, int last);

}  // namespace edgerig
