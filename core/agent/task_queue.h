// The trainer thread: compute never runs on the I/O thread, so a long forward pass cannot
// delay a heartbeat. The I/O thread hands work over as closures of plain values.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace edgerig {

class TaskQueue {
 public:
  using Task = std::function<void()>;

  TaskQueue();
  ~TaskQueue();  // drops pending tasks, finishes the running one, joins
  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;

  void post(Task task);
  void clear();  // drops pending tasks (a run was stopped)
  // Seconds the thread spent waiting for work since the last call (idle time).
  double takeIdleSeconds();

 private:
  void loop();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> tasks_;
  bool stopping_ = false;
  double idle_s_ = 0;
  std::thread thread_;
};

}  // namespace edgerig
