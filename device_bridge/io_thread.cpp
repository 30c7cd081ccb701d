#include "device_bridge/io_thread.h"

#include <exception>

#include "device_bridge/log.h"

namespace edgerig::bridge {

IoThread::IoThread() : work_(asio::make_work_guard(io_)) {
  thread_ = std::thread([this] {
    // A throwing handler is a bug, but it must not take every connection of the process down.
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        logger("edgerig.bridge")->error("io thread: handler threw '{}'; continuing", e.what());
      }
    }
  });
}

IoThread::~IoThread() {
  stop();
  if (thread_.joinable()) {
    // Only reachable when the last owner dies on the io thread itself; joining would deadlock.
    thread_.detach();
  }
}

void IoThread::stop() {
  work_.reset();
  io_.stop();
  if (thread_.joinable() && !onThisThread()) thread_.join();
}

bool IoThread::onThisThread() const { return std::this_thread::get_id() == thread_.get_id(); }

}  // namespace edgerig::bridge
