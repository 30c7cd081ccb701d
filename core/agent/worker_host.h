// The agent side of the seam: holds the current Worker, gives it its WorkerContext (meter, data
// and shard, seed, logger, send), and routes algorithm messages to it by generation. Everything
// here runs on the trainer thread, except the constructor.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/algorithms/registry.h"

namespace edgerig {

// How the host reaches the world: wired by the agent runtime to its sessions.
struct WorkerHostLinks {
  std::function<void(wire::Envelope)> to_controller;
  std::function<void(int device, wire::Envelope)> to_device;
  std::function<void(std::vector<std::string>)> peers_changed;  // the run's addresses
  std::function<void(int64_t)> iteration;                       // for metrics reports
  std::function<void(std::function<void()>)> post;              // onto the trainer thread, last
  // Runs the task on the trainer thread once the delay has passed (an I/O-thread timer that
  // posts it): what WorkerContext::schedule() stands on.
  std::function<void(std::chrono::milliseconds, std::function<void()>)> after;
};

class WorkerHost : public WorkerContext {
 public:
  WorkerHost(const AlgorithmRegistry& registry, ComputeMeter& meter, std::string data_dir_override,
             WorkerHostLinks links);
  ~WorkerHost() override;

  // Replaces the worker with the one `start` names, answers WorkerReady (or RunError), then
  // delivers the messages of this generation that arrived before it.
  void start(wire::WorkerStart start);
  // An algorithm message: to the worker of its generation; held if it is for a newer one (its
  // WorkerStart is still on the way); dropped if for an older one.
  void deliver(wire::AlgoMessage message);
  void fetchState(bool optimizer);
  void updatePeers(const std::vector<std::string>& peers);
  // The run ended (StopRun, controller gone): the worker and the run's data are dropped.
  void reset();
  bool active() const { return worker_ != nullptr; }
  uint32_t generation() const { return generation_; }

  // WorkerContext
  int device() const override { return start_.device(); }
  int numDevices() const override { return start_.peers_size(); }
  uint64_t seed() const override { return start_.run().seed(); }
  const wire::RunSettings& run() const override { return start_.run(); }
  const AlgorithmParams& params() const override { return params_; }
  ComputeMeter& meter() override { return meter_; }
  std::shared_ptr<spdlog::logger> log() override;
  Result<const Dataset*> trainSet() override;
  Result<const Dataset*> testSet() override;
  Result<const std::vector<int64_t>*> shard() override;
  void send(int device, wire::AlgoMessage message) override;
  void sendToController(wire::AlgoMessage message) override;
  void setIteration(int64_t iteration) override { links_.iteration(iteration); }
  TimerHandle schedule(std::chrono::milliseconds delay, std::function<void()> callback) override;

 private:
  void reportError(const Status& st);
  // The dataset a split of the current run needs, kept across generations while it stays the
  // same (a switch or a restart does not reload Fashion-MNIST).
  struct CachedSet {
    std::string key;
    std::optional<Dataset> data;
  };
  Result<const Dataset*> dataset(Split split, CachedSet& cache);

  const AlgorithmRegistry& registry_;
  ComputeMeter& meter_;
  std::string data_dir_override_;
  WorkerHostLinks links_;
  wire::WorkerStart start_;
  AlgorithmParams params_;
  uint32_t generation_ = 0;
  std::unique_ptr<Worker> worker_;
  // Counts workers started and runs reset: a timer fires only into the worker that set it.
  uint64_t worker_epoch_ = 0;
  std::deque<wire::AlgoMessage> held_;  // for a generation whose start has not arrived
  size_t held_bytes_ = 0;
  CachedSet train_, test_;
  std::string shard_key_;
  std::vector<int64_t> shard_;
  std::vector<int64_t> shard_counts_;
  bool shard_used_ = false;  // by the current worker: its counts go into WorkerReady
};

}  // namespace edgerig
