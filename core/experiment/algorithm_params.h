// An algorithm's parameters as an experiment's `algorithm` object holds them, and the
// declarations they are checked against. Each algorithm declares its parameters once, in its
// registry entry; validation, `--set algorithm.<param>`, the GUI's algorithm panel and the
// run folder's config.json are all built from that list. Plain C++ (no torch, no protobuf).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "device_bridge/status.h"

namespace edgerig {

struct ExperimentConfig;

using IntList = std::vector<int64_t>;
using DoubleList = std::vector<double>;
using ParamValue = std::variant<int64_t, double, bool, std::string, IntList, DoubleList>;

// One parameter an algorithm takes.
struct ParamSpec {
  enum class Kind { kInt, kDouble, kBool, kChoice, kIntList, kDoubleList };
  std::string name;   // JSON field in `algorithm`, lowerCamelCase: "microBatches"
  std::string label;  // for forms: "micro-batches"
  Kind kind = Kind::kInt;
  std::string help;  // one line
  ParamValue default_value = int64_t{0};
  // Range of a number, or of every element of a list (inclusive).
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  std::vector<std::string> choices;  // kChoice
};

// What an experiment may say about one algorithm: its name, its parameters and the checks that
// need more than one field (e.g. cut points against the device count).
struct AlgorithmInfo {
  std::string name;             // "gpipe"
  std::string family;           // "pipeline" | "decentralized"
  std::string summary;          // one line for menus and --help
  bool fault_tolerant = false;  // survives a lost device
  std::vector<ParamSpec> params;
  // Optional: checks of the whole experiment for this algorithm; the message names the field
  // ("field algorithm.cuts: ...").
  std::function<Status(const ExperimentConfig&)> check;

  const ParamSpec* param(std::string_view name) const;
};

// The parameters of one algorithm: every declared one present after parsing (defaults filled).
class AlgorithmParams {
 public:
  void set(const std::string& name, ParamValue v) { values_[name] = std::move(v); }
  bool has(std::string_view name) const { return values_.find(name) != values_.end(); }
  const ParamValue* find(std::string_view name) const;
  const std::map<std::string, ParamValue, std::less<>>& all() const { return values_; }

  // Typed reads. A missing or differently-typed parameter (a bug: validation fills every declared
  // one) reads as the type's zero; an integer reads as a double where one is asked for.
  int64_t getInt(std::string_view name) const;
  double getDouble(std::string_view name) const;
  bool getBool(std::string_view name) const;
  std::string getString(std::string_view name) const;
  IntList getIntList(std::string_view name) const;
  DoubleList getDoubleList(std::string_view name) const;

  bool operator==(const AlgorithmParams&) const = default;

 private:
  std::map<std::string, ParamValue, std::less<>> values_;
};

// What an experiment runs when it names no algorithm: the one place outside the algorithms'
// own folders that names one.
inline constexpr const char* kDefaultAlgorithm = "gpipe";

// The algorithm part of an experiment: what a switch during a run changes.
struct AlgorithmConfig {
  std::string name = kDefaultAlgorithm;
  AlgorithmParams params;
  bool operator==(const AlgorithmConfig&) const = default;
};

// "microBatches" from "micro_batches" (either spelling is accepted in a file).
std::string camelCase(std::string_view name);

// The value as JSON text: 4, 0.5, true, "even", [3, 7].
std::string paramText(const ParamValue& v);

// "gpipe (microBatches 4, plan even)": the name and every parameter that differs from its
// default, in declaration order; the name alone when none does. `info` may be null.
std::string describeAlgorithm(const AlgorithmConfig& a, const AlgorithmInfo* info);

// The declared defaults of `info`.
AlgorithmParams defaultParams(const AlgorithmInfo& info);

// Parameters as one JSON object (how WorkerStart carries them), and back: every declared
// parameter of `info` is checked and filled, as in an experiment file; errors name
// "algorithm.<param>".
std::string paramsJson(const AlgorithmParams& p);
Result<AlgorithmParams> paramsFromJson(std::string_view json, const AlgorithmInfo& info);

}  // namespace edgerig
