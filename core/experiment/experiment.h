// The experiment file: one JSON document (the wire::Experiment schema, protobuf's JSON mapping)
// turned into plain structs with defaults applied and every value checked, so the UI and the CLI
// never see protobuf types and every mistake is reported with its field.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/experiment/algorithm_params.h"
#include "device_bridge/status.h"

namespace edgerig {

// Emulated device: compute slowdown and the shaping of its outgoing links.
struct DeviceProfileConfig {
  std::string name;
  double slowdown = 1;
  double delay_ms = 0, jitter_ms = 0, bandwidth_mbps = 0, drop_probability = 0;
  // The shaping applies to the links to these devices (indices) only; empty: to every link.
  std::vector<int> peers;
  bool operator==(const DeviceProfileConfig&) const = default;
};

// One scheduled fault. Applied at `at_iteration` if it is not 0, else at `at_s`.
struct FaultConfig {
  double at_s = 0;
  int64_t at_iteration = 0;
  int device = 0;
  std::string kind;  // slowdown | link | freeze | crash | restart | clear
  double slowdown = 1, delay_ms = 0, jitter_ms = 0, bandwidth_mbps = 0, drop_probability = 0,
         freeze_s = 0;
  std::vector<int> peers;  // a link fault: to these devices only; empty: every link
  bool operator==(const FaultConfig&) const = default;
};

// One step of the learning-rate schedule: from the step of iteration `at_iteration` (numbered from
// 0) on, the rate is multiplied by `factor`; the steps multiply together (SGP's --schedule).
struct LrStepConfig {
  int64_t at_iteration = 0;
  double factor = 1;
  bool operator==(const LrStepConfig&) const = default;
};

// restart: a local agent is killed and started again at the next iteration boundary (a reboot);
// training resumes from the model gathered just before.
inline const std::vector<std::string> kFaultKinds{"slowdown", "link",    "freeze",
                                                  "crash",    "restart", "clear"};

struct ExperimentConfig {
  std::string name = "experiment";
  std::string description;
  uint64_t seed = 1;

  int local_count = 3;
  std::vector<DeviceProfileConfig> profiles;  // one per local agent; missing ones are native
  std::vector<std::string> remote;            // host:port
  std::string token_file;
  bool tls = false;  // devices.tls: TLS 1.3 to every agent (PSK from the token), local ones too
  int threads_per_agent = 1;

  std::string model = "cnn";

  std::string dataset = "fashion-mnist";
  std::string data_dir;
  int64_t train_limit = 0, test_limit = 0, synthetic_size = 0;
  // How the training set is sharded over the devices of a decentralized run (pipelines ignore
  // it): iid, dirichlet (concentration alpha) or classes (classes_per_device each).
  std::string split = "iid";
  double alpha = 0.5;
  int classes_per_device = 2;

  AlgorithmConfig algorithm;

  int batch_size = 64;
  double learning_rate = 0.05;
  double momentum = 0.9;
  double weight_decay = 0;
  double epochs = 1;
  int64_t max_iterations = 0;
  int64_t eval_every = 200;
  int64_t eval_samples = 1000;
  double max_seconds = 0;
  std::vector<LrStepConfig> lr_schedule;  // by increasing at_iteration; empty: a constant rate

  std::vector<FaultConfig> faults;

  int numDevices() const { return local_count + static_cast<int>(remote.size()); }
  bool operator==(const ExperimentConfig&) const = default;
};

inline const std::vector<std::string> kSplitKinds{"iid", "dirichlet", "classes"};

// What validation accepts: the model zoo's names and the algorithm registry's declarations (the
// caller fills them; core/catalog's knownNames() does). An empty model list accepts any name; an
// algorithm must always be declared, since its parameters are checked against the declaration.
struct ExperimentNames {
  std::vector<std::string> models;
  std::vector<AlgorithmInfo> algorithms;
  std::vector<std::string> datasets{"fashion-mnist", "synthetic"};
  const AlgorithmInfo* algorithm(std::string_view name) const;
  std::vector<std::string> algorithmNames() const;
};

// Adds the declared default of every parameter the algorithm's part does not set (a config built
// in code rather than read from a file). Unknown algorithm: left as it is.
void fillAlgorithmDefaults(ExperimentConfig& c, const ExperimentNames& names);

// "gpipe (microBatches 2)": describeAlgorithm with the declaration from `names`.
std::string describeAlgorithm(const AlgorithmConfig& a, const ExperimentNames& names);

// Parses, applies defaults for absent fields and validates. `source` (a path or "<--set>") prefixes
// every message, and the message names the field: "quickstart.json: field training.batchSize:
// expected an integer, got \"x\"". Unknown and ill-typed fields are named as the file spells them
// (batch_size or batchSize), bad values in the canonical spelling (batchSize); array elements by
// index: "faults.1.kind".
Result<ExperimentConfig> parseExperiment(std::string_view json, std::string_view source,
                                         const ExperimentNames& names);

// parseExperiment on a file's contents; a missing or unreadable file is named.
Result<ExperimentConfig> loadExperiment(const std::string& path, const ExperimentNames& names);

// --set path=value on the JSON text, before parsing. path is dotted field names (either spelling:
// batchSize or batch_size), arrays index with .0 .1 (the next free index appends); value is parsed
// as JSON if it parses (numbers, true, arrays, objects) else taken as a string, and a string field
// always takes the text as written (name=123 is "123"). Missing objects on the way are created. The
// error names the path. Empty json is {}.
Status applyOverride(std::string& json, std::string_view assignment);

// Pretty JSON with every field (defaults included); parseExperiment reads it back equal.
std::string toJson(const ExperimentConfig& c);

// Semantic checks; messages name the field in the file's canonical spelling ("field
// training.microBatches: ...").
Status validateExperiment(const ExperimentConfig& c, const ExperimentNames& names);

}  // namespace edgerig
