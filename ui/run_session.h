// One run of the controller, owned by the GUI: the controller runs on a thread of its own, and
// what it publishes reaches the GUI thread in coalesced batches, at most one queued call in
// flight, so a burst of agent reports costs the event loop one turn, not one turn per report.
#pragma once

#include <QObject>
#include <QString>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/controller/controller.h"
#include "ui/ui_types.h"

namespace edgerig::ui {

class RunSession : public QObject {
  Q_OBJECT

 public:
  explicit RunSession(QObject* parent = nullptr);
  // Stops a run in progress and waits for it (the local agents are reaped).
  ~RunSession() override;

  // Creates the run folder under runs_root and starts the run on the controller thread.
  // Fails (and starts nothing) when a run is in progress or the folder cannot be made.
  Status start(const ExperimentConfig& config, const QString& runs_root,
               const ControllerOptions& base_options = {});
  // Asks the run to stop at its next iteration boundary; finished() follows.
  void stop();
  Status injectFault(const FaultConfig& fault);
  Status killLocalDevice(int device);
  Status restartLocalDevice(int device);
  // Training holds at the next iteration boundary until resume(); devices stay connected.
  Status pause();
  Status resume();
  bool paused() const { return controller_ && controller_->paused(); }
  // Takes effect at the next iteration boundary; an "algorithm_switched" event confirms it.
  Status switchAlgorithm(const AlgorithmConfig& next);

  bool running() const { return controller_ != nullptr; }
  // The run folder of the current (or last) run; empty before the first start().
  QString runDir() const { return run_dir_; }
  const ExperimentConfig& config() const { return config_; }

  // The callbacks a Controller gets: they may be called from any thread and reach this
  // object's signals through the coalescing inbox. Public so that a benchmark can drive the
  // GUI through exactly the path a run uses.
  RunObserver makeObserver();

 signals:
  void started(const QString& run_dir);
  void eventsArrived(const std::vector<edgerig::RunEvent>& events);
  void metricsArrived(const std::vector<edgerig::MetricSample>& metrics);
  void devicesChanged(const std::vector<edgerig::DeviceStatus>& devices);
  void progressChanged(const edgerig::RunProgress& progress);
  void linksChanged(const std::vector<edgerig::LinkTraffic>& links);
  void planChanged(const edgerig::PlanInfo& plan);
  void graphChanged(const edgerig::GraphInfo& graph);
  void shardsChanged(const std::vector<edgerig::ShardInfo>& shards);
  void bandwidthMeasured(const edgerig::LinkBandwidthInfo& bandwidth);  // a link probe finished
  void finished(const edgerig::RunSummary& summary);

 private:
  // Filled on controller threads, drained on the GUI thread.
  struct Inbox {
    std::vector<RunEvent> events;
    std::vector<MetricSample> metrics;
    std::vector<DeviceStatus> devices;
    bool has_devices = false;
    RunProgress progress;
    bool has_progress = false;
    std::vector<LinkTraffic> links;
    bool has_links = false;
    std::vector<PlanInfo> plans;  // every change, in order: each is an event in the log
    std::vector<GraphInfo> graphs;
    std::vector<ShardInfo> shards;
    bool has_shards = false;
    std::vector<LinkBandwidthInfo> bandwidth;
    bool flush_posted = false;
  };

  // Controller thread: append under the lock and post one flush if none is pending.
  template <typename Fill>
  void deliver(Fill&& fill);
  void flush();  // GUI thread
  void onRunEnded(const RunSummary& summary);

  ExperimentConfig config_;
  QString run_dir_;
  std::unique_ptr<Controller> controller_;
  std::thread thread_;
  std::mutex inbox_mutex_;
  Inbox inbox_;
};

}  // namespace edgerig::ui
