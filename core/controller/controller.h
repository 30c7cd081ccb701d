// Run orchestration, the API that app/ and ui/ use: brings up the devices (a local testbed
// and/or remote agents), runs the experiment's algorithm through its coordinator, applies
// the fault schedule and injected faults, aggregates metrics, and writes the run folder.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/controller/run_types.h"
#include "core/experiment/experiment.h"

namespace edgerig {

struct ControllerOptions {
  std::string agent_binary;        // empty: findAgentBinary()
  std::string runs_root = "runs";  // run folders go to runs_root/<timestamp>-<name>
  std::string run_dir;             // exact run folder (overrides runs_root)
  std::chrono::milliseconds heartbeat_interval{1000};
  std::chrono::milliseconds loss_timeout{3500};
  // After the final evaluation, gather the trained model (for a decentralized run, the average
  // of the devices') into the run folder as model.bin (a serialized ModelStateBlob).
  bool save_model = false;
};

class Controller {
 public:
  Controller(ExperimentConfig config, ControllerOptions options, RunObserver observer = {});
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Runs the experiment to its end (or failure, or stop) on the calling thread. The summary
  // says whether it succeeded; the run folder is complete up to the end either way.
  RunSummary run();

  // Thread-safe controls while run() is in progress.
  void requestStop();
  void injectFault(const FaultConfig& fault);
  // The local agent of device i dies at once (SIGKILL): a crashed device, for tests and demos.
  void killLocalDevice(int device);
  // At the next iteration boundary, the local agent of device i is killed and started again
  // (a reboot) and the running algorithm resumes from the model gathered just before, with
  // the device re-profiled and the pipeline re-planned.
  void restartLocalDevice(int device);
  // Training halts at the next iteration boundary and waits (devices stay connected, faults
  // still apply, metrics still flow) until resume(); paused time is not training time.
  void pause();
  void resume();
  bool paused() const { return paused_.load(); }
  // At the next iteration boundary: gather the model from the running algorithm, then start
  // `next` from it (re-profiled, re-planned). Invalid choices end in an "error" event and the
  // run goes on with the current algorithm.
  void switchAlgorithm(const AlgorithmConfig& next);

 private:
  class Run;
  ExperimentConfig config_;
  ControllerOptions options_;
  RunObserver observer_;
  std::mutex mu_;
  std::vector<FaultConfig> injected_;
  std::vector<int> kill_requests_;
  std::vector<AlgorithmConfig> switch_requests_;
  std::vector<int> restart_requests_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> paused_{false};
};

}  // namespace edgerig
