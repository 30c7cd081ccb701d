// The registry of training algorithms: one entry each (its declaration, and the factories of
// its two halves). Each family registers its entries in one call (registerPipelineFamily, ...),
// and core/catalog builds the one registry the controller, the agent, the CLI and the GUI use.
// Nothing outside a registry entry tests an algorithm's name.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/algorithms/coordinator.h"
#include "core/algorithms/worker.h"
#include "core/experiment/algorithm_params.h"

namespace edgerig {

struct AlgorithmEntry {
  AlgorithmInfo info;
  CoordinatorFactory coordinator;
  WorkerFactory worker;
};

class AlgorithmRegistry {
 public:
  // A second entry of the same name replaces the first.
  void add(AlgorithmEntry entry);
  const AlgorithmEntry* find(std::string_view name) const;
  // Declarations in registration order (menus list them so).
  std::vector<AlgorithmInfo> infos() const;
  std::vector<std::string> names() const;

  // Unknown name: an error listing the registered ones.
  Result<std::unique_ptr<Coordinator>> makeCoordinator(const std::string& name,
                                                       RunContext& ctx) const;
  Result<std::unique_ptr<Worker>> makeWorker(const std::string& name, WorkerContext& ctx,
                                             const wire::WorkerStart& start) const;

 private:
  Status unknown(const std::string& name) const;
  std::vector<AlgorithmEntry> entries_;
};

}  // namespace edgerig
