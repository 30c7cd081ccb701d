#include "core/agent/task_queue.h"

#include <chrono>

namespace edgerig {

TaskQueue::TaskQueue() : thread_([this] { loop(); }) {}

TaskQueue::~TaskQueue() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    tasks_.clear();
  }
  cv_.notify_all();
  thread_.join();
}

void TaskQueue::post(Task task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void TaskQueue::clear() {
  std::lock_guard lock(mu_);
  tasks_.clear();
}

double TaskQueue::takeIdleSeconds() {
  std::lock_guard lock(mu_);
  double s = idle_s_;
  idle_s_ = 0;
  return s;
}

void TaskQueue::loop() {
  using Clock = std::chrono::steady_clock;
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mu_);
      auto waited_from = Clock::now();
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      idle_s_ += std::chrono::duration<double>(Clock::now() - waited_from).count();
      if (stopping_) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace edgerig
