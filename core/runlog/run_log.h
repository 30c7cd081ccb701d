// The run folder as a run writes it: config.json plus three long-format CSV files whose rows are on
// disk as soon as append() returns, so plots, CSV export and replay share one source.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "device_bridge/status.h"

namespace edgerig {

// One value at one moment. device "" is the whole run (train_loss, test_accuracy, ...); otherwise a
// device name.
struct MetricSample {
  double time_s = 0;
  int64_t iteration = 0;
  std::string device;
  std::string metric;
  double value = 0;
  bool operator==(const MetricSample&) const = default;
};

// kind: one of core/runlog/event_kinds.h. detail is for people; fields carry what programs read
// (the new algorithm of a switch, the kind of a fault), so that nothing parses the prose.
struct RunEvent {
  double time_s = 0;
  int64_t iteration = 0;
  std::string device;
  std::string kind;
  std::string detail;
  std::vector<std::pair<std::string, std::string>> fields;
  // The value of field `key`, empty when absent.
  std::string field(std::string_view key) const;
  bool operator==(const RunEvent&) const = default;
};

// One stage of the plan in force from `iteration` on; layers lists the layer names.
struct PartitionRecord {
  double time_s = 0;
  int64_t iteration = 0;
  int stage = 0;
  std::string device;
  int first_layer = 0;
  int last_layer = 0;
  std::string layers;
  bool operator==(const PartitionRecord&) const = default;
};

// One edge of a decentralized run's graph (device names), in force from `round` on; written
// whenever the graph changes.
struct GraphEdgeRecord {
  double time_s = 0;
  int64_t iteration = 0;
  int64_t round = 0;
  std::string graph;  // "ring", "exponential", ...
  std::string from;
  std::string to;
  double weight = 0;
  bool operator==(const GraphEdgeRecord&) const = default;
};

// One measured link (device names) of the bandwidth probe that finished at `time_s`: a probe
// writes one row per link it measured (0 bytes/s: the burst failed).
struct LinkBandwidthRecord {
  double time_s = 0;
  int64_t iteration = 0;
  std::string from;
  std::string to;
  double bytes_per_s = 0;
  bool operator==(const LinkBandwidthRecord&) const = default;
};

// How many training samples of one class a device's shard holds.
struct ShardRecord {
  std::string device;
  int label = 0;
  int64_t count = 0;
  bool operator==(const ShardRecord&) const = default;
};

inline constexpr const char* kConfigFile = "config.json";
inline constexpr const char* kMetricsFile = "metrics.csv";
inline constexpr const char* kEventsFile = "events.csv";
inline constexpr const char* kPartitionsFile = "partitions.csv";
inline constexpr const char* kGraphFile = "graph.csv";    // decentralized runs only
inline constexpr const char* kShardsFile = "shards.csv";  // decentralized runs only
inline constexpr const char* kLinksFile = "links.csv";    // when the links were probed
inline constexpr const char* kModelFile = "model.bin";    // the trained model, when asked for
inline constexpr const char* kMetricsHeader = "time_s,iteration,device,metric,value";
inline constexpr const char* kEventsHeader = "time_s,iteration,device,kind,detail,fields";
// Run folders written before events had fields; still read.
inline constexpr const char* kEventsHeaderWithoutFields = "time_s,iteration,device,kind,detail";
inline constexpr const char* kPartitionsHeader =
    "time_s,iteration,stage,device,first_layer,last_layer,layers";
inline constexpr const char* kGraphHeader = "time_s,iteration,round,graph,from,to,weight";
inline constexpr const char* kShardsHeader = "device,class,count";
inline constexpr const char* kLinksHeader = "time_s,iteration,from,to,bytes_per_s";

// Thread-safe; every append is written (one write call per append) before it returns, so a crash
// loses nothing already appended and never leaves half a row from another thread. A write error
// does not throw or stop the run: it is kept, and status() reports the first.
class RunLog {
 public:
  // Writes config.json and the CSV headers into `dir` (created if missing). Fails if `dir` already
  // holds a run: a run folder is written once (use makeRunDir for a fresh one).
  static Result<std::unique_ptr<RunLog>> create(const std::string& dir,
                                                const std::string& config_json);
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

  const std::string& dir() const { return dir_; }

  void append(const MetricSample& m);
  void append(const std::vector<MetricSample>& ms);
  void append(const RunEvent& e);
  void append(const PartitionRecord& p);
  // graph.csv and shards.csv are created on their first rows.
  void append(const std::vector<GraphEdgeRecord>& edges);
  void append(const std::vector<ShardRecord>& shards);
  // links.csv likewise.
  void append(const std::vector<LinkBandwidthRecord>& links);

  // The first write error (disk full, folder removed...), named with the file; ok otherwise.
  Status status() const;

 private:
  struct File {
    std::string path;
    int fd = -1;
    std::mutex mutex;
  };

  explicit RunLog(std::string dir);
  void write(File& file, const std::string& text);
  // Creates `file` with its header if it is not open yet (caller holds file.mutex).
  Status open(File& file, const char* name, const char* header);
  void noteError(const Status& s);

  std::string dir_;
  File metrics_;
  File events_;
  File partitions_;
  File graph_;
  File shards_;
  File links_;
  mutable std::mutex status_mutex_;
  Status status_;
};

// Creates runs_root/<YYYYmmdd-HHMMSS>-<name> (name sanitised to [A-Za-z0-9._-]; "run" if nothing is
// left) and returns its path. Adds -2, -3, ... if that folder exists; safe when several processes
// start runs in the same second.
Result<std::string> makeRunDir(const std::string& runs_root, const std::string& name);

// The fields of one record's row, numbers already printed the way the run folder prints them
// (shared by the writer and the readers' tests).
std::vector<std::string> csvFields(const MetricSample& m);
std::vector<std::string> csvFields(const RunEvent& e);
std::vector<std::string> csvFields(const PartitionRecord& p);
std::vector<std::string> csvFields(const GraphEdgeRecord& g);
std::vector<std::string> csvFields(const ShardRecord& s);
std::vector<std::string> csvFields(const LinkBandwidthRecord& l);
// An event's fields as the events.csv cell holds them (a JSON object; empty when none), and back.
std::string fieldsText(const std::vector<std::pair<std::string, std::string>>& fields);
Result<std::vector<std::pair<std::string, std::string>>> parseFieldsText(const std::string& text);

}  // namespace edgerig
