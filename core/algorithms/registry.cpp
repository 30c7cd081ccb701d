#include "core/algorithms/registry.h"

namespace edgerig {

const std::vector<AlgorithmInfo>& algorithmCatalog() {
  static const std::vector<AlgorithmInfo> kCatalog = {
      {"gpipe",
       "pipeline",
       "synchronous micro-batched pipeline, even or balanced plan, stops on a lost stage",
       false,
       {{"microBatches",
         "micro-batches",
         AlgorithmParam::Kind::kInt,
         "micro-batches per mini-batch (the batch size must be at least this)",
         1,
         1024,
         {}},
        {"plan",
         "plan",
         AlgorithmParam::Kind::kChoice,
         "even: layers split by count; balanced: by measured capacity (FTPipeHD's DP)",
         0,
         0,
         {"even", "balanced"}},
        {"cuts",
         "cuts",
         AlgorithmParam::Kind::kIntList,
         "explicit cut points, one fewer than devices (empty: use the plan)",
         0,
         0,
         {}}}},
  };
  return kCatalog;
}

const AlgorithmInfo* findAlgorithm(std::string_view name) {
  for (const auto& a : algorithmCatalog()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::vector<std::string> algorithmNames() {
  std::vector<std::string> names;
  for (const auto& a : algorithmCatalog()) names.push_back(a.name);
  return names;
}

}  // namespace edgerig

#include "core/algorithms/coordinator.h"
#include "core/algorithms/pipeline/gpipe_coordinator.h"

namespace edgerig {

Result<std::unique_ptr<Coordinator>> makeCoordinator(const std::string& algorithm,
                                                     RunContext& ctx) {
  if (algorithm == "gpipe") return std::unique_ptr<Coordinator>(new GpipeCoordinator(ctx));
  std::string known;
  for (const auto& n : algorithmNames()) known += (known.empty() ? "" : ", ") + n;
  return notFound("unknown algorithm '" + algorithm + "'; known: " + known);
}

}  // namespace edgerig
