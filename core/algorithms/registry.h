// The one registry of training algorithms: every name a run, the CLI or the GUI may choose.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace edgerig {

struct AlgorithmInfo {
  std::string name;     // "gpipe"
  std::string family;   // "pipeline" | "decentralized"
  std::string summary;  // one line for menus and --help
  bool fault_tolerant = false;
};

// Algorithms that can run now, in menu order.
const std::vector<AlgorithmInfo>& algorithmCatalog();
const AlgorithmInfo* findAlgorithm(std::string_view name);
std::vector<std::string> algorithmNames();

}  // namespace edgerig
