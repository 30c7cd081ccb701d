// A local testbed: N edgerig-agent processes on loopback, spawned and reaped by the
// controller. Each gets the run's fresh token through an inherited pipe (--token-fd): never on
// a command line, in the environment, or on disk, so even a SIGKILLed controller leaves no
// token behind. Each dies with its controller (PR_SET_PDEATHSIG), so nothing is left running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "device_bridge/status.h"

namespace edgerig {

struct LocalAgentSpec {
  std::string name;
  int threads = 1;
  std::string data_dir;
  int metrics_interval_ms = 0;  // 0: the agent's default
  bool tls = false;             // --tls: the agent asks for TLS on every connection
};

// Token files of earlier releases' local testbeds (/tmp/edgerig-token-XXXXXX) that a killed
// controller left behind: spawn() removes this user's that are older than a day (a younger one
// may belong to an older release's controller still running). Returns how many were removed.
int removeStaleTokenFiles(const std::string& dir = "/tmp");

class LocalTestbed {
 public:
  // Starts every agent and waits for each one's "listening on HOST:PORT" line. Agent logs go
  // to log_dir/<name>.log (log_dir empty: inherited stderr).
  static Result<std::unique_ptr<LocalTestbed>> spawn(
      const std::string& agent_binary, const std::vector<LocalAgentSpec>& agents,
      const std::string& token, const std::string& log_dir,
      std::chrono::milliseconds start_timeout = std::chrono::seconds(30));
  ~LocalTestbed();  // SIGTERM, a short grace period, SIGKILL; reaps all
  LocalTestbed(const LocalTestbed&) = delete;
  LocalTestbed& operator=(const LocalTestbed&) = delete;

  size_t size() const { return agents_.size(); }
  const std::string& address(size_t i) const { return agents_[i].address; }
  const std::string& name(size_t i) const { return agents_[i].spec.name; }
  pid_t pid(size_t i) const { return agents_[i].pid; }
  bool alive(size_t i);
  void kill(size_t i);  // SIGKILL now (a crashed device)
  // Asks agent i to exit (SIGTERM) and reaps it: its wait status (WIFEXITED, WEXITSTATUS...)
  // if it exited within `grace`, else kUnavailable, once it has been SIGKILLed and reaped.
  Result<int> terminate(size_t i, std::chrono::milliseconds grace = std::chrono::seconds(2));
  // Kills agent i if it still runs and starts it again (same name, a new port): a device
  // that rebooted. Its address changes; the controller reconnects to address(i).
  Status restart(size_t i, std::chrono::milliseconds start_timeout = std::chrono::seconds(30));

 private:
  struct Agent {
    LocalAgentSpec spec;
    pid_t pid = -1;
    int stdout_fd = -1;
    std::string address;
  };
  LocalTestbed() = default;
  Status start(Agent& a);
  Status awaitListening(Agent& a, std::chrono::steady_clock::time_point deadline,
                        std::chrono::milliseconds start_timeout);
  // SIGTERM and up to `grace` for a clean exit (force: none), then SIGKILL; the wait status.
  int reap(Agent& a, bool force, std::chrono::milliseconds grace = std::chrono::seconds(2),
           bool* clean = nullptr);

  std::string agent_binary_;
  std::string token_;
  std::string log_dir_;
  std::vector<Agent> agents_;
};

// $EDGERIG_AGENT, else an edgerig-agent beside the running executable or in its build tree,
// else the PATH's.
std::string findAgentBinary();

}  // namespace edgerig
