// The experiment file: parse (protobuf's JSON mapping), validate, and `--set` overrides. The
// input is JSON text, optionally followed by a line "--set" and one assignment per line.
// Whatever parses must print (toJson) to text that parses back to the same print.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/experiment/algorithm_params.h"
#include "core/experiment/experiment.h"
#include "fuzz_quiet.h"

using namespace edgerig;

namespace {

// The registry's real declarations live with the algorithms, which need torch; this build has
// none. Validation treats every declaration alike, so the target declares one algorithm with a
// parameter of every kind the seam has, each with a range, plus one with none.
ExperimentNames fuzzNames() {
  using K = ParamSpec::Kind;
  AlgorithmInfo every{"every-kind", "pipeline", "one parameter of each kind", false, {}, {}};
  every.params = {
      {"count", "count", K::kInt, "", int64_t{2}, 1, 64, {}},
      {"rate", "rate", K::kDouble, "", 0.5, 0, 1, {}},
      {"flag", "flag", K::kBool, "", false, -1e300, 1e300, {}},
      {"plan",
       "plan",
       K::kChoice,
       "",
       std::string("even"),
       -1e300,
       1e300,
       {"even", "balanced", "profiled"}},
      {"cuts", "cuts", K::kIntList, "", IntList{}, 1, 1000, {}},
      {"weights", "weights", K::kDoubleList, "", DoubleList{1.0}, 0, 10, {}},
  };
  AlgorithmInfo none{"no-params", "decentralized", "no parameters", true, {}, {}};
  ExperimentNames names;
  names.models = {"mlp", "lenet5", "cnn", "vgg"};
  names.algorithms = {every, none};
  return names;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t split = text.find("\n--set\n");
  std::string json(text.substr(0, split));
  static const ExperimentNames names = fuzzNames();
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
  (void)describeAlgorithm(parsed->algorithm, names);
  const std::string printed = toJson(*parsed);
  auto again = parseExperiment(printed, "fuzz-reprint", names);
  if (!again || toJson(*again) != printed) std::abort();  // toJson must read back equal
  return 0;
}
