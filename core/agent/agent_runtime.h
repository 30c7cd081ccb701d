// The agent: one per device. It listens on one port, authenticates whoever dials (the
// controller, or a peer device), runs the algorithm's Worker on its trainer thread (through a
// WorkerHost), emulates faults, and pushes metrics to the controller several times a second.
// It forwards algorithm messages without looking inside them.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/agent/inbound_links.h"
#include "core/agent/peer_links.h"
#include "core/agent/probe_receiver.h"
#include "core/agent/task_queue.h"
#include "core/agent/worker_host.h"
#include "core/algorithms/compute_meter.h"
#include "device_bridge/address.h"
#include "device_bridge/io_thread.h"
#include "device_bridge/link_shaper.h"
#include "device_bridge/session.h"
#include "device_bridge/status.h"

namespace edgerig {

struct AgentOptions {
  bridge::HostPort listen{"127.0.0.1", 0};
  std::string name = "agent";
  std::string token;
  std::string data_dir;  // overrides the experiment's dataset path on this device
  int threads = 1;       // torch intra-op threads until a run says otherwise
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
  void sendProbe(const wire::ProbeRequest& p);
  void onProbeData(const std::shared_ptr<bridge::Session>& s, const wire::ProbeData& d);
  void scheduleMetrics();
  void sendMetrics();

  // trainer thread
  void profile(const wire::ProfileRequest& p);
  void resetRun();

  // any thread
  void sendToController(wire::Envelope env);
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
  std::vector<std::shared_ptr<bridge::Session>> inbound_;  // peers that dialled us
  // Traffic of closed sessions, so that reported byte counts only ever grow.
  std::map<std::pair<std::string, int>, std::pair<uint64_t, uint64_t>> retired_traffic_;
  bridge::LinkShape link_shape_;
  std::string link_peer_;                // empty: every peer link
  std::unique_ptr<PeerLinks> links_;     // our outgoing data links
  std::unique_ptr<InboundLinks> inbox_;  // peers' data links to us
  ProbeReceiver probe_rx_;               // io thread only

  // metrics (io thread)
  int64_t last_samples_ = 0;
  std::chrono::steady_clock::time_point last_report_ = std::chrono::steady_clock::now();
  double idle_in_run_s_ = 0;
  std::atomic<bool> run_active_{false};
  std::atomic<int64_t> iteration_{0};

  // trainer thread only
  std::unique_ptr<WorkerHost> host_;

  // Last: destroyed first, so no trainer task outlives the state it uses.
  TaskQueue tasks_;
};

}  // namespace edgerig
