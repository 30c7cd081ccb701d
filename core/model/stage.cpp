#include "core/model/stage.h"

#include <stdexcept>
#include <string>

namespace edgerig {
namespace {

std::string sliceError(const LayerChain& chain, int first, int last) {
  return "stage [" + std::to_string(first) + ", " + std::to_string(last) + ") of model '" +
         chain.modelName() + "' is not a non-empty slice of its " +
         std::to_string(chain.numLayers()) +
         " layers: use 0 <= first < last <= " + std::to_string(chain.numLayers());
}

bool validSlice(const LayerChain& chain, int first, int last) {
  return first >= 0 && first < last && last <= chain.numLayers();
}

}  // namespace

StageModuleImpl::StageModuleImpl(const LayerChain& chain, int first, int last)
    : first_(first), last_(last) {
  if (!validSlice(chain, first, last)) throw std::out_of_range(sliceError(chain, first, last));
  for (int i = first; i < last; ++i) {
    blocks_.push_back(register_module(chain.info(i).name, chain.layer(i)));
  }
}

torch::Tensor StageModuleImpl::forward(torch::Tensor x) {
  for (auto& block : blocks_) x = block->forward(x);
  return x;
}

Result<StageModule> makeStage(const LayerChain& chain, int first, int last) {
  if (!validSlice(chain, first, last)) return invalidArgument(sliceError(chain, first, last));
  return StageModule(chain, first, last);
}

}  // namespace edgerig
