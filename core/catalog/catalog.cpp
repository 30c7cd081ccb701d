#include "core/catalog/catalog.h"

#include "core/algorithms/decentralized/decentralized_family.h"
#include "core/algorithms/pipeline/pipeline_family.h"
#include "core/algorithms/registry.h"
#include "core/model/layer_chain.h"

namespace edgerig {

const AlgorithmRegistry& algorithmRegistry() {
  static const AlgorithmRegistry kRegistry = [] {
    AlgorithmRegistry r;
    registerPipelineFamily(r);
    registerDecentralizedFamily(r);
    return r;
  }();
  return kRegistry;
}

const std::vector<AlgorithmInfo>& algorithmCatalog() {
  static const std::vector<AlgorithmInfo> kInfos = algorithmRegistry().infos();
  return kInfos;
}

const AlgorithmInfo* findAlgorithm(std::string_view name) {
  for (const auto& a : algorithmCatalog()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::vector<std::string> algorithmNames() { return algorithmRegistry().names(); }

ExperimentNames knownNames() {
  ExperimentNames n;
  n.models = LayerChain::modelNames();
  n.algorithms = algorithmCatalog();
  return n;
}

}  // namespace edgerig
