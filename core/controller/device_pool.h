// The controller's devices: one authenticated control session per agent, and one inbox into
// which every session's messages and closures fall, in arrival order, for the run loop.
// Liveness is decided here from heartbeats (the session's loss timeout), not socket state.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "device_bridge/io_thread.h"
#include "device_bridge/session.h"
#include "device_bridge/status.h"

namespace edgerig {

struct DeviceEndpoint {
  std::string name;  // what the run log calls it; the agent's own name if empty
  std::string address;
  bool local = false;
};

// A message from device `device`, or that device's session closing (`closed`).
struct Incoming {
  int device = -1;
  int generation = 0;  // of the device's session (internal: stale ones are dropped)
  bool closed = false;
  Status why;
  wire::Envelope env;
};

class DevicePool {
 public:
  DevicePool(bridge::IoThread& io, std::string token, bridge::SessionOptions options);
  ~DevicePool();

  // Dials every endpoint in parallel; fails naming the first device that could not be reached.
  Status connectAll(const std::vector<DeviceEndpoint>& endpoints);

  int size() const { return static_cast<int>(devices_.size()); }
  const std::string& name(int i) const { return devices_[i].name; }
  const std::string& address(int i) const { return devices_[i].address; }
  bool local(int i) const { return devices_[i].local; }
  int cores(int i) const { return devices_[i].cores; }
  bool lost(int i) const;
  std::optional<double> rttMs(int i) const;
  bridge::TrafficCounters counters(int i) const;

  // Replaces device i's session with one to `address` (a restarted local agent listens on a
  // new port). Whatever the old session still delivers, its closure included, is dropped.
  Status reconnect(int i, const std::string& address);

  void send(int i, wire::Envelope env);
  void broadcast(const wire::Envelope& env);
  // Next incoming message or closure, waiting up to `timeout`.
  std::optional<Incoming> next(std::chrono::milliseconds timeout);
  void closeAll();

 private:
  struct Device {
    std::string name;
    std::string address;
    bool local = false;
    int cores = 0;
    std::shared_ptr<bridge::Session> session;
    bool lost = false;
    int generation = 0;  // bumped by reconnect()
  };
  void startSession(int i, std::shared_ptr<bridge::Session> s);
  void push(Incoming in);

  bridge::IoThread& io_;
  std::string token_;
  bridge::SessionOptions options_;
  std::vector<Device> devices_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Incoming> inbox_;
};

}  // namespace edgerig
