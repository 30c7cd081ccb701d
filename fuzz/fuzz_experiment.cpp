// The experiment file: parse (protobuf's JSON mapping), validate, and `--set` overrides. The
// input is JSON text, optionally followed by a line "--set" and one assignment per line.
// Whatever parses must print (toJson) to text that parses back to the same print.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/controller/experiment.h"
#include "core/model/layer_info.h"
#include "fuzz_quiet.h"

namespace edgerig {
// The model zoo is torch's; this build has no torch. Validation asks it only to check cut
// points against a model's layers, and skips that check when the model is not known.
Result<std::vector<LayerInfo>> describeModel(const std::string& model) {
  return notFound("model zoo not linked into the fuzz target: '" + model + "'");
}
}  // namespace edgerig

using namespace edgerig;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t split = text.find("\n--set\n");
  std::string json(text.substr(0, split));
  ExperimentNames names;
  names.models = {"mlp", "lenet5", "cnn", "vgg"};
  names.algorithms = {"gpipe"};
  if (split != std::string_view::npos) {
    std::string_view rest = text.substr(split + 7);
    while (!rest.empty()) {
      const size_t eol = rest.find('\n');
      (void)applyOverride(json, rest.substr(0, eol));
      if (eol == std::string_view::npos) break;
      rest.remove_prefix(eol + 1);
    }
  }
  auto parsed = parseExperiment(json, "fuzz", names);
  if (!parsed) return 0;
  (void)validateExperiment(*parsed, names);
  (void)describeAlgorithm(algorithmOf(*parsed));
  const std::string printed = toJson(*parsed);
  auto again = parseExperiment(printed, "fuzz-reprint", names);
  if (!again || toJson(*again) != printed) std::abort();  // toJson must read back equal
  return 0;
}
