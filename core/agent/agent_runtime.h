// The agent: one per device. It listens on one port, authenticates whoever dials (the
// controller, or the previous pipeline stage), runs a stage on its trainer thread, emulates
// faults, and pushes metrics to the controller several times a second.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/agent/compute_meter.h"
#include "core/agent/task_queue.h"
#include "device_bridge/address.h"
#include "device_bridge/io_thread.h"
#include "device_bridge/link_shaper.h"
#include "device_bridge/session.h"
#include "device_bridge/status.h"

namespace edgerig {

class GpipeStageWorker;

struct AgentOptions {
  bridge::HostPort listen{"127.0.0.1", 0};
  std::string name = "agent";
  std::string token;
  std::string data_dir;  // overrides the experiment's dataset path on this device
  int threads = 1;       // torch intra-op threads
  std::chrono::milliseconds metrics_interval{250};
  bridge::SessionOptions session;
};

class AgentRuntime {
 public:
  static Result<std::unique_ptr<AgentRuntime>> start(AgentOptions options);
  ~AgentRuntime();

  uint16_t port() const;
  const std::string& host() const { return options_.listen.host; }

 private:
  explicit AgentRuntime(AgentOptions options);

  // io thread
  void onSession(std::shared_ptr<bridge::Session> s);
  void onControllerMessage(const std::shared_ptr<bridge::Session>& s, wire::Envelope&& env);
  void onPeerMessage(const std::shared_ptr<bridge::Session>& s, wire::Envelope&& env);
  void applyFault(const wire::FaultCommand& f);
  void scheduleMetrics();
  void sendMetrics();

  // trainer thread
  void assignStage(wire::StageAssignment a);
  void profile(const wire::ProfileRequest& p);
  void resetRun();
  void reportError(const Status& st);

  // any thread
  void sendToController(wire::Envelope env);
  void sendToNext(wire::Envelope env);
  void sendToPrevious(wire::Envelope env);
  std::vector<std::shared_ptr<bridge::Session>> allSessions();
  void applyShapeToPeers();
  void retire(const std::shared_ptr<bridge::Session>& s);  // caller holds sessions_mu_

  AgentOptions options_;
  bridge::IoThread io_;
  std::unique_ptr<bridge::Listener> listener_;
  std::unique_ptr<asio::steady_timer> metrics_timer_;
  std::unique_ptr<asio::steady_timer> thaw_timer_;
  ComputeMeter meter_;

  std::mutex sessions_mu_;  // guards the session pointers and shaping below
  std::shared_ptr<bridge::Session> controller_;
  std::shared_ptr<bridge::Session> downstream_;  // we dialed the next stage
  std::weak_ptr<bridge::Session> upstream_;      // the previous stage dialed us
  std::vector<std::shared_ptr<bridge::Session>> peers_;
  // Traffic of closed sessions, so that reported byte counts only ever grow.
  std::map<std::pair<std::string, int>, std::pair<uint64_t, uint64_t>> retired_traffic_;
  bridge::LinkShape link_shape_;
  std::string link_peer_;  // empty: every peer link

  // trainer thread only
  std::unique_ptr<GpipeStageWorker> worker_;

  // metrics (io thread)
  int64_t last_samples_ = 0;
  std::chrono::steady_clock::time_point last_report_ = std::chrono::steady_clock::now();
  double idle_in_run_s_ = 0;
  std::atomic<bool> run_active_{false};
  std::atomic<int64_t> iteration_{0};

  // Last: destroyed first, so no trainer task outlives the state it uses.
  TaskQueue tasks_;
};

}  // namespace edgerig
