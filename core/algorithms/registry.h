// The one registry of training algorithms: every name a run, the CLI or the GUI may choose.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace edgerig {

// One parameter of an algorithm, as an experiment file's `algorithm` object spells it, for
// forms that are built from the registry rather than written per algorithm.
struct AlgorithmParam {
  enum class Kind { kInt, kChoice, kIntList };
  std::string field;  // JSON field in `algorithm`: "microBatches", "plan", "cuts"
  std::string label;  // "micro-batches"
  Kind kind = Kind::kInt;
  std::string help;                  // one line
  int min = 0, max = 0;              // kInt
  std::vector<std::string> choices;  // kChoice
};

struct AlgorithmInfo {
  std::string name;     // "gpipe"
  std::string family;   // "pipeline" | "decentralized"
  std::string summary;  // one line for menus and --help
  bool fault_tolerant = false;
  std::vector<AlgorithmParam> params;
};

// Algorithms that can run now, in menu order.
const std::vector<AlgorithmInfo>& algorithmCatalog();
const AlgorithmInfo* findAlgorithm(std::string_view name);
std::vector<std::string> algorithmNames();

}  // namespace edgerig
