#include "core/algorithms/pipeline/common/replica_store.h"

namespace edgerig {

std::string layerOfTensor(const std::string& tensor_name) {
  return tensor_name.substr(0, tensor_name.find('.'));
}

void ReplicaStore::put(int64_t iteration, const std::vector<std::string>& layers,
                       const ModelState& state) {
  for (const auto& layer : layers) {
    auto it = layers_.find(layer);
    if (it != layers_.end() && it->second.iteration > iteration) continue;
    LayerCopy copy;
    copy.iteration = iteration;
    for (const auto& [name, t] : state) {
      if (layerOfTensor(name) == layer) copy.tensors.emplace_back(name, t);
    }
    layers_[layer] = std::move(copy);
  }
}

int64_t ReplicaStore::iterationOf(const std::string& layer) const {
  auto it = layers_.find(layer);
  return it == layers_.end() ? -1 : it->second.iteration;
}

Result<ModelState> ReplicaStore::take(const std::vector<std::string>& layers) const {
  ModelState out;
  for (const auto& layer : layers) {
    auto it = layers_.find(layer);
    if (it == layers_.end()) {
      return notFound("no replica of layer '" + layer + "' is held here");
    }
    out.insert(out.end(), it->second.tensors.begin(), it->second.tensors.end());
  }
  return out;
}

std::vector<std::string> ReplicaStore::layers() const {
  std::vector<std::string> out;
  for (const auto& [name, copy] : layers_) out.push_back(name);
  return out;
}

}  // namespace edgerig
