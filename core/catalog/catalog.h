// The algorithms this build of edgerig runs: every family's registration in one registry, and
// what validation and the GUI need of it. Torch-free, so the GUI can include it.
#pragma once

#include <string>
#include <vector>

#include "core/experiment/algorithm_params.h"
#include "core/experiment/experiment.h"

namespace edgerig {

class AlgorithmRegistry;  // core/algorithms/registry.h

// Built on first use: registerPipelineFamily, registerDecentralizedFamily, ...
const AlgorithmRegistry& algorithmRegistry();

// The declarations, in menu order.
const std::vector<AlgorithmInfo>& algorithmCatalog();
const AlgorithmInfo* findAlgorithm(std::string_view name);
std::vector<std::string> algorithmNames();

// What an experiment may name: the model zoo and the registered algorithms.
ExperimentNames knownNames();

}  // namespace edgerig
