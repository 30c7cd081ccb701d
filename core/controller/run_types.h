// Plain values the controller publishes to its users (the CLI, the GUI): device status,
// progress, the end-of-run summary. No torch, no protobuf, no Qt.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/runlog/run_log.h"

namespace edgerig {

enum class DeviceState { kConnecting, kReady, kTraining, kSlow, kFrozen, kLost };
const char* deviceStateName(DeviceState s);

struct DeviceStatus {
  int index = 0;
  std::string name;
  std::string address;
  bool local = false;
  DeviceState state = DeviceState::kConnecting;
  int cores = 0;
  double capacity = 1.0;     // measured, relative to the fastest device
  bool role_active = false;  // has a part in the running algorithm
  int stage = -1;            // pipelines: the stage it runs
  int first_layer = 0;
  int last_layer = 0;
  std::string faults;  // applied faults, human-readable
  double slowdown = 1.0;
  double samples_per_s = 0;  // rates: over the last ~2 s (RateWindow)
  double bytes_in_per_s = 0;
  double bytes_out_per_s = 0;
  double rtt_ms = 0;
  double busy_s = 0;
  double idle_s = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  double resident_mb = 0;
};

// Bytes one device has sent to a peer, by message kind ("activation", "gradient", ...).
struct LinkTraffic {
  std::string from;
  std::string to;
  std::string kind;
  uint64_t bytes = 0;
  double bytes_per_s = 0;  // over the last ~2 s (RateWindow)
};

// The current partition of a pipeline, as the GUI's strip and topology draw it.
struct PlanInfo {
  std::string algorithm;
  std::vector<int> stage_first_layer;  // stage s holds [first[s], first[s+1]) (last: to the end)
  std::vector<int> device_of_stage;    // device index per stage
  std::vector<double> layer_time_s;    // profiled reference time per layer and mini-batch
  std::string why;                     // "even plan", "balanced plan ...", "switch to ..."
};

// The graph of a decentralized run, as the topology view draws it.
struct GraphInfo {
  struct Edge {
    int from = 0;  // device index
    int to = 0;
    double weight = 0;
  };
  std::string algorithm;
  std::string kind;  // "ring", ...
  int64_t round = 0;
  std::vector<Edge> edges;
  std::string why;
};

// One device's training shard, samples per class (decentralized runs).
struct ShardInfo {
  int device = 0;
  std::vector<int64_t> class_counts;
};

// The links' bandwidth as the probe measured it: bytes_per_s[from][to] by device index (0: not
// measured). Sent when a probe finishes; a replayed run folder gives the same from links.csv.
struct LinkBandwidthInfo {
  std::vector<std::string> devices;  // names, by index
  std::vector<std::vector<double>> bytes_per_s;
  double time_s = 0;
  int64_t iteration = 0;
  std::string why;  // "run start", "fault on dev2", ...
};

struct RunProgress {
  int64_t iteration = 0;
  int64_t total_iterations = 0;
  double epoch = 0;
  double elapsed_s = 0;
  double train_loss = 0;
  double train_accuracy = 0;
  double test_accuracy = -1;  // -1: not evaluated yet
  double samples_per_s = 0;   // the current rate, over the last ~2 s of training
  bool paused = false;
  std::string algorithm;  // the one running now (a switch changes it)
};

struct RunSummary {
  std::string run_dir;
  std::string experiment;
  std::string algorithm;
  std::string model;
  std::string plan;
  bool ok = false;
  // Ended early on request (Stop, Ctrl-C): not ok, but not a failure either; the run folder is
  // complete up to the stop and its last event is run_stopped, not run_failed.
  bool stopped = false;
  std::string error;  // one line, when !ok
  double elapsed_s = 0;
  double training_s = 0;  // excluding set-up and evaluation
  int64_t iterations = 0;
  double epochs = 0;
  double test_accuracy = -1;
  double test_loss = 0;
  // A decentralized run whose devices' models differ (gossip, dssync): their averaged model at
  // the last evaluation (run metric averaged_model_accuracy); -1 for the others.
  double averaged_model_accuracy = -1;
  double train_loss = 0;
  double samples_per_s = 0;  // the whole run's average: samples over training time
  std::vector<DeviceStatus> devices;
  std::vector<LinkTraffic> links;
};

// Callbacks run on controller threads; a GUI forwards them to its own thread.
struct RunObserver {
  std::function<void(const RunEvent&)> on_event;
  std::function<void(const std::vector<MetricSample>&)> on_metrics;
  std::function<void(const std::vector<DeviceStatus>&)> on_devices;
  std::function<void(const RunProgress&)> on_progress;
  std::function<void(const std::vector<LinkTraffic>&)> on_links;  // with on_devices
  std::function<void(const PlanInfo&)> on_plan;                   // a pipeline's stages
  std::function<void(const GraphInfo&)> on_graph;                 // a decentralized family's graph
  std::function<void(const std::vector<ShardInfo>&)> on_shards;
  std::function<void(const LinkBandwidthInfo&)> on_bandwidth;  // a link probe finished
};

}  // namespace edgerig
