// The agent side of an algorithm: one Worker per device and run generation, built by the
// registry's worker factory when a WorkerStart arrives. The agent runtime owns sessions,
// heartbeats, fault emulation and metrics; it hands every algorithm message to the worker on
// the trainer thread, one at a time, and never looks inside. Workers are event-driven: a
// handler computes, sends and returns; it never waits for a peer.
#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/algorithms/compute_meter.h"
#include "core/data/dataset.h"
#include "core/experiment/algorithm_params.h"
#include "device_bridge/status.h"
#include "edgerig.pb.h"

namespace edgerig {

// A timer scheduled with WorkerContext::schedule(). Copies share the timer; cancel() from the
// trainer thread (any handler) guarantees the callback will not run, even if its delay is over
// and it is already queued. An empty handle (default) cancels nothing.
class TimerHandle {
 public:
  TimerHandle() = default;
  explicit TimerHandle(std::shared_ptr<std::atomic<bool>> cancelled)
      : cancelled_(std::move(cancelled)) {}
  void cancel() {
    if (cancelled_) cancelled_->store(true);
  }
  bool cancelled() const { return cancelled_ && cancelled_->load(); }

 private:
  std::shared_ptr<std::atomic<bool>> cancelled_;
};

// What a worker may use. Implemented by the agent runtime; every call is made on the trainer
// thread (send() only queues, so it never blocks on the network).
class WorkerContext {
 public:
  virtual ~WorkerContext() = default;

  // This device's index in the run, and the run's size.
  virtual int device() const = 0;
  virtual int numDevices() const = 0;
  virtual uint64_t seed() const = 0;
  virtual const wire::RunSettings& run() const = 0;
  virtual const AlgorithmParams& params() const = 0;
  // Compute accounting: wrap every compute step so the emulated slowdown and busy time apply.
  virtual ComputeMeter& meter() = 0;
  virtual std::shared_ptr<spdlog::logger> log() = 0;

  // The run's datasets, loaded on first use (a device that never asks never holds the images).
  virtual Result<const Dataset*> trainSet() = 0;
  virtual Result<const Dataset*> testSet() = 0;
  // This device's shard of the training set (indices into trainSet(), ascending), from the
  // run's split and seed alone: every process computes the same shards.
  virtual Result<const std::vector<int64_t>*> shard() = 0;

  // To device `device` of the run, over a direct link dialled on first use; to the controller.
  // Build the message with algoMessage() (core/algorithms/algo_message.h); the runtime stamps
  // the sender and the generation.
  virtual void send(int device, wire::AlgoMessage message) = 0;
  virtual void sendToController(wire::AlgoMessage message) = 0;

  // The iteration this device is working on, for its metrics reports.
  virtual void setIteration(int64_t iteration) = 0;

  // Runs `callback` on the trainer thread once `delay` has passed, between two handlers (never
  // inside one), unless the handle is cancelled first. The way to wait without blocking (a
  // deadline on a peer's answer). A timer never fires into another worker: one still pending when
  // this worker is replaced or the run ends is dropped. On a frozen device a timer fires on time,
  // but compute waits for the thaw as always.
  virtual TimerHandle schedule(std::chrono::milliseconds delay, std::function<void()> callback) = 0;
};

class Worker {
 public:
  virtual ~Worker() = default;
  // What the controller learns when the worker is ready (parameters held, split sizes). The
  // runtime adds the shard's class counts when shard() was used.
  virtual void describe(wire::WorkerReady& ready) const = 0;
  // An algorithm message from the controller (from == -1) or a peer. An error is reported to the
  // controller as a RunError; the worker stays usable.
  virtual Status onMessage(const wire::AlgoMessage& message) = 0;
  // The weights this device holds (named <layer>.<param>), and with `optimizer` the optimizer
  // state too (<layer>.<param>.momentum).
  virtual Result<wire::StateReply> state(bool optimizer) = 0;
};

// Builds a worker from its WorkerStart (model, data, the algorithm's setup), or says why not.
using WorkerFactory = std::function<Result<std::unique_ptr<Worker>>(
    WorkerContext& ctx, const wire::WorkerStart& start)>;

}  // namespace edgerig
