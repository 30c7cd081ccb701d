// Copies of pipeline stages' layers kept somewhere else than on their owner: FTPipeHD's
// neighbour replica (stage k+1 holds stage k's) and global replica (the controller holds every
// stage's), ResPipe's replicas of successors. Per layer, the newest copy and the iteration it
// was taken at. Plain values, no messages: a worker or a coordinator keeps one and fills it from
// what arrives.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/model/model_state.h"
#include "device_bridge/status.h"

namespace edgerig {

class ReplicaStore {
 public:
  // Stores the copy of `layers` taken at `iteration`: `state` holds their tensors, named
  // <layer>.<param> (a layer without parameters has none and is still held). A copy older than
  // the one held is ignored, so a late arrival never replaces a newer replica.
  void put(int64_t iteration, const std::vector<std::string>& layers, const ModelState& state);
  bool holds(const std::string& layer) const { return layers_.count(layer) > 0; }
  // The iteration the copy of `layer` was taken at; -1 when none is held.
  int64_t iterationOf(const std::string& layer) const;
  // The tensors of `layers`, in their order, or an error naming the first layer not held.
  Result<ModelState> take(const std::vector<std::string>& layers) const;
  // The layers held, in name order.
  std::vector<std::string> layers() const;
  void clear() { layers_.clear(); }

 private:
  struct LayerCopy {
    int64_t iteration = -1;
    ModelState tensors;
  };
  std::map<std::string, LayerCopy> layers_;
};

// The layer a tensor belongs to: "conv1" for "conv1.0.weight" and "conv1.0.weight.momentum".
std::string layerOfTensor(const std::string& tensor_name);

}  // namespace edgerig
