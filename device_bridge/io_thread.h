// The process's network thread: one asio::io_context run by one thread, so every handler runs
// in order on it (an implicit strand) and socket state needs no locks.
#pragma once

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <optional>
#include <thread>

namespace edgerig::bridge {

class IoThread {
 public:
  IoThread();
  ~IoThread();  // stops and joins
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  asio::io_context& context() { return io_; }
  // Stops the loop; pending handlers are dropped. Joins unless called from the io thread.
  void stop();
  bool onThisThread() const;

 private:
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
};

}  // namespace edgerig::bridge
