// Reading a run folder back: "Open run" replay in the GUI, the wide CSV export, and tests.
#pragma once

#include <string>
#include <vector>

#include "core/runlog/run_log.h"
#include "device_bridge/status.h"

namespace edgerig {

struct RunData {
  std::string config_json;
  std::vector<MetricSample> metrics;
  std::vector<RunEvent> events;
  std::vector<PartitionRecord> partitions;
  std::vector<GraphEdgeRecord> graph;      // empty for pipelines (no graph.csv)
  std::vector<ShardRecord> shards;         // empty for pipelines (no shards.csv)
  std::vector<LinkBandwidthRecord> links;  // empty for folders without links.csv (older ones)
};

// Every file of the folder, rows in file order. A last row cut mid-write (a run that crashed) is
// dropped; any other bad row is an error that names the file and line. graph.csv, shards.csv and
// links.csv may be absent; events.csv may lack the fields column (folders of older versions).
Result<RunData> readRun(const std::string& dir);

// Wide CSV for spreadsheets: header time_s,iteration,device,<metric columns in first-seen order>;
// one row per (time_s, iteration, device) in the order it first appears; empty cells where a metric
// has no value at that row (the last value wins if one repeats).
Status exportWide(const std::string& run_dir, const std::string& out_csv);

}  // namespace edgerig
