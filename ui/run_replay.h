// "Open run": a past run folder turned into what the live window shows (events, metrics, the
// devices as they ended, the last plan), so the plots, logs and strips replay it offline.
#pragma once

#include <QString>
#include <optional>
#include <string>
#include <vector>

#include "core/controller/run_types.h"
#include "core/experiment/experiment.h"
#include "core/runlog/run_log.h"
#include "device_bridge/status.h"

namespace edgerig::ui {

class PlotPanel;

class RunReplay {
 public:
  // Reads the folder (a run that crashed mid-write loses only its cut last row). Fails on a
  // folder that is not a run ("<dir>: not a run folder: no metrics.csv") or a bad row (named).
  static Result<RunReplay> load(const QString& dir);

  const QString& dir() const { return dir_; }
  // The experiment, if config.json parses with today's names; else configError() says why and
  // configJson() keeps the text as the run wrote it.
  const std::optional<ExperimentConfig>& config() const { return config_; }
  const std::string& configJson() const { return config_json_; }
  const std::string& configError() const { return config_error_; }

  const std::vector<RunEvent>& events() const { return events_; }
  const std::vector<MetricSample>& metrics() const { return metrics_; }
  const std::vector<PartitionRecord>& partitions() const { return partitions_; }
  // Every device the run named (joined, planned or measured), in joining order, with its last
  // stage and measurements; kLost if it was lost and did not join again, kReady otherwise.
  const std::vector<DeviceStatus>& devices() const { return devices_; }
  // The run's last layout: a plan (partition records sharing the latest time) or a
  // decentralized graph (graph.csv's latest round), whichever came last; the other is empty.
  const PlanInfo& plan() const { return plan_; }
  const GraphInfo& graph() const { return graph_; }
  // shards.csv: each device's training samples per class (decentralized runs).
  const std::vector<ShardRecord>& shards() const { return shards_; }
  // links.csv: every probe's measured links (empty for folders without one).
  const std::vector<LinkBandwidthRecord>& links() const { return links_; }
  // The end of the run: the latest time and iteration any row names.
  double durationS() const { return duration_s_; }
  int64_t lastIteration() const { return last_iteration_; }
  // Where the run ended, for the status line: its last iteration of the planned ones
  // (training_started's field; else the experiment's maxIterations; else the last), time,
  // epoch, test accuracy (-1: never evaluated) and the algorithm it ended with.
  RunProgress progress() const;

  // Replaces what the panel shows with this run: devices, every metric (the whole run, however
  // long) and every event, drawn in one coalesced replot that fits the whole run in view.
  void feed(PlotPanel& panel) const;

 private:
  RunReplay() = default;
  void rebuildDevices();
  void rebuildPlan();
  void rebuildGraph();

  QString dir_;
  std::optional<ExperimentConfig> config_;
  std::string config_json_, config_error_;
  std::vector<RunEvent> events_;
  std::vector<MetricSample> metrics_;
  std::vector<PartitionRecord> partitions_;
  std::vector<DeviceStatus> devices_;
  PlanInfo plan_;
  std::vector<GraphEdgeRecord> graph_records_;
  GraphInfo graph_;
  std::vector<ShardRecord> shards_;
  std::vector<LinkBandwidthRecord> links_;
  double duration_s_ = 0;
  int64_t last_iteration_ = 0;
};

}  // namespace edgerig::ui
