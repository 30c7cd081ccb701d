// A bench's worker processes: this binary run again with worker arguments, one process per rank,
// each with its stdout on a pipe to the parent. The parent reads their lines until all have
// exited; whatever happens (a failed rank, a deadline, the parent dying), no worker is left
// running: the destructor kills and reaps every child, and each child dies with its parent.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "device_bridge/status.h"

namespace edgerig::bench {

class WorkerProcesses {
 public:
  WorkerProcesses() = default;
  ~WorkerProcesses();  // kills (SIGKILL) and reaps every child still running
  WorkerProcesses(const WorkerProcesses&) = delete;
  WorkerProcesses& operator=(const WorkerProcesses&) = delete;

  // Starts this binary (/proc/self/exe) with `args` (argv[1..]); stderr is shared with the parent.
  Status spawn(const std::vector<std::string>& args);
  // Reads every child's stdout until all have exited, and reaps them. An error if one exits
  // with a failure (the others are killed at once, as they would wait for it until their own
  // timeouts) or if `timeout` passes. lines()[i] holds child i's lines, also on error.
  Status collect(std::chrono::seconds timeout);
  const std::vector<std::vector<std::string>>& lines() const { return lines_; }

 private:
  struct Child {
    pid_t pid = -1;
    int out = -1;  // read end of its stdout
    std::string partial;
    bool reaped = false;
  };
  void killAll();
  Status reap(size_t i);

  std::vector<Child> children_;
  std::vector<std::vector<std::string>> lines_;
};

}  // namespace edgerig::bench
