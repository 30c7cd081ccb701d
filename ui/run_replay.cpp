#include "ui/run_replay.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "core/catalog/catalog.h"
#include "core/controller/controller.h"
#include "core/runlog/event_kinds.h"
#include "core/runlog/run_reader.h"
#include "ui/plot_panel.h"
#include "ui/run_export.h"

namespace edgerig::ui {

Result<RunReplay> RunReplay::load(const QString& dir) {
  if (Status st = checkRunFolder(dir); !st) return st;
  auto data = readRun(dir.toStdString());
  if (!data)
    return Status(data.status().code(), dir.toStdString() + ": " + data.status().message());
  RunReplay r;
  r.dir_ = dir;
  r.config_json_ = std::move(data->config_json);
  auto config = parseExperiment(r.config_json_, kConfigFile, knownNames());
  if (config) {
    r.config_ = std::move(config).value();
  } else {
    r.config_error_ = config.status().message();
  }
  r.events_ = std::move(data->events);
  r.metrics_ = std::move(data->metrics);
  r.partitions_ = std::move(data->partitions);
  r.graph_records_ = std::move(data->graph);
  r.shards_ = std::move(data->shards);
  r.links_ = std::move(data->links);
  auto note = [&r](double t, int64_t it) {
    r.duration_s_ = std::max(r.duration_s_, t);
    r.last_iteration_ = std::max(r.last_iteration_, it);
  };
  for (const auto& m : r.metrics_) note(m.time_s, m.iteration);
  for (const auto& e : r.events_) note(e.time_s, e.iteration);
  for (const auto& p : r.partitions_) note(p.time_s, p.iteration);
  r.rebuildDevices();
  r.rebuildPlan();
  r.rebuildGraph();
  return r;
}

RunProgress RunReplay::progress() const {
  RunProgress p;
  p.iteration = last_iteration_;
  p.elapsed_s = duration_s_;
  p.algorithm = plan_.algorithm;  // the one it ended with (rebuildPlan)
  if (config_) p.total_iterations = config_->max_iterations;
  for (const auto& e : events_) {
    if (e.kind != events::kTrainingStarted) continue;
    const std::string planned = e.field(events::fields::kIterations);
    int64_t n = 0;
    const auto [end, ec] = std::from_chars(planned.data(), planned.data() + planned.size(), n);
    if (ec == std::errc{} && end == planned.data() + planned.size()) p.total_iterations = n;
  }
  p.total_iterations = std::max(p.total_iterations, p.iteration);
  for (const auto& m : metrics_) {
    if (!m.device.empty()) continue;
    if (m.metric == "epoch") p.epoch = m.value;
    if (m.metric == "test_accuracy") p.test_accuracy = m.value;
    if (m.metric == "train_loss") p.train_loss = m.value;
    if (m.metric == "train_accuracy") p.train_accuracy = m.value;
  }
  return p;
}

void RunReplay::rebuildDevices() {
  std::map<std::string, size_t> at;
  auto device = [&](const std::string& name) -> DeviceStatus& {
    auto [it, fresh] = at.emplace(name, devices_.size());
    if (fresh) {
      DeviceStatus d;
      d.index = static_cast<int>(devices_.size());
      d.name = name;
      d.state = DeviceState::kReady;  // the run is over: nothing trains any more
      devices_.push_back(d);
    }
    return devices_[it->second];
  };
  // Joining order is the controller's device order, so colours match the live run.
  for (const auto& e : events_) {
    if (e.kind == "device_joined" && !e.device.empty()) device(e.device);
  }
  for (const auto& p : partitions_) device(p.device);
  for (const auto& m : metrics_) {
    if (!m.device.empty()) device(m.device);
  }
  for (const auto& e : events_) {
    if (!e.device.empty()) device(e.device);
  }

  std::map<std::string, std::vector<std::string>> faults;
  for (const auto& e : events_) {
    if (e.device.empty()) continue;
    DeviceStatus& d = device(e.device);
    if (e.kind == "device_joined") {
      d.state = DeviceState::kReady;  // a restarted device is back
      const size_t at_pos = e.detail.rfind(" at ");
      if (at_pos != std::string::npos) d.address = e.detail.substr(at_pos + 4);
      d.local = e.detail.rfind("local", 0) == 0;
    } else if (e.kind == "device_lost") {
      d.state = DeviceState::kLost;
    } else if (e.kind == "fault_applied") {
      faults[e.device].push_back(e.detail);
    } else if (e.kind == "fault_cleared") {
      faults[e.device].clear();
    }
  }
  for (auto& d : devices_) {
    const auto& list = faults[d.name];
    for (const auto& f : list) d.faults += (d.faults.empty() ? "" : "; ") + f;
  }

  for (const auto& m : metrics_) {
    if (m.device.empty()) continue;
    DeviceStatus& d = device(m.device);
    if (m.metric == "samples_per_s") d.samples_per_s = m.value;
    if (m.metric == "bytes_in_per_s") d.bytes_in_per_s = m.value;
    if (m.metric == "bytes_out_per_s") d.bytes_out_per_s = m.value;
    if (m.metric == "rtt_ms") d.rtt_ms = m.value;
    if (m.metric == "busy_s") d.busy_s = m.value;
    if (m.metric == "idle_s") d.idle_s = m.value;
    if (m.metric == "bytes_sent") d.bytes_sent = static_cast<uint64_t>(std::max(0.0, m.value));
    if (m.metric == "bytes_received") {
      d.bytes_received = static_cast<uint64_t>(std::max(0.0, m.value));
    }
    if (m.metric == "slowdown") d.slowdown = m.value;
    if (m.metric == "resident_mb") d.resident_mb = m.value;
  }
}

void RunReplay::rebuildPlan() {
  // The run's own record (run_started, then each switch) over the experiment's name.
  if (config_) plan_.algorithm = config_->algorithm.name;
  for (const auto& e : events_) {
    if (e.kind == events::kRunStarted) {
      if (auto started = e.field(events::fields::kAlgorithm); !started.empty()) {
        plan_.algorithm = started;
      }
    }
    if (e.kind == events::kAlgorithmSwitched) {
      if (auto to = e.field(events::fields::kTo); !to.empty()) plan_.algorithm = to;
    }
    if (e.kind == events::kPlanChanged) plan_.why = e.detail.substr(0, e.detail.find(": "));
  }
  if (partitions_.empty()) return;
  // A plan is written as one record per stage, all with the time and iteration it took effect.
  const PartitionRecord& last = partitions_.back();
  size_t first = partitions_.size();
  while (first > 0 && partitions_[first - 1].time_s == last.time_s &&
         partitions_[first - 1].iteration == last.iteration) {
    --first;
  }
  std::vector<PartitionRecord> stages(partitions_.begin() + static_cast<std::ptrdiff_t>(first),
                                      partitions_.end());
  std::sort(stages.begin(), stages.end(),
            [](const PartitionRecord& a, const PartitionRecord& b) { return a.stage < b.stage; });
  for (auto& d : devices_) d.stage = -1;
  for (const auto& p : stages) {
    auto d = std::find_if(devices_.begin(), devices_.end(),
                          [&p](const DeviceStatus& s) { return s.name == p.device; });
    plan_.stage_first_layer.push_back(p.first_layer);
    plan_.device_of_stage.push_back(d == devices_.end() ? -1 : d->index);
    if (d == devices_.end()) continue;
    d->stage = p.stage;
    d->first_layer = p.first_layer;
    d->last_layer = p.last_layer;
  }
}

void RunReplay::rebuildGraph() {
  if (graph_records_.empty()) return;
  const GraphEdgeRecord& last = graph_records_.back();
  if (!partitions_.empty() && partitions_.back().time_s > last.time_s) return;  // a plan is newer
  auto index = [this](const std::string& name) {
    for (const auto& d : devices_) {
      if (d.name == name) return d.index;
    }
    return -1;
  };
  graph_.algorithm = plan_.algorithm;
  graph_.kind = last.graph;
  graph_.round = last.round;
  for (auto it = graph_records_.rbegin(); it != graph_records_.rend(); ++it) {
    if (it->time_s != last.time_s || it->iteration != last.iteration) break;
    const int from = index(it->from), to = index(it->to);
    if (from >= 0 && to >= 0) graph_.edges.insert(graph_.edges.begin(), {from, to, it->weight});
  }
  // A decentralized layout came last: no stages.
  plan_.stage_first_layer.clear();
  plan_.device_of_stage.clear();
  for (auto& d : devices_) d.stage = -1;
}

void RunReplay::feed(PlotPanel& panel) const {
  panel.clear();
  // The whole run, not the live window's tail: no series holds more points than the folder.
  panel.setSeriesCapacity(std::max(PlotPanel::kMaxPointsPerSeries, metrics_.size()));
  panel.setDevices(devices_);
  panel.addMetrics(metrics_);
  panel.addEvents(events_);
  panel.showAll();
}

}  // namespace edgerig::ui
