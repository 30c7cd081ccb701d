// IoThread: handlers run on its one thread; stop joins; a throwing handler does not kill it.
#include <gtest/gtest.h>

#include <asio/post.hpp>

#include <atomic>
#include <future>
#include <stdexcept>

#include "device_bridge/io_thread.h"

namespace edgerig::bridge {
namespace {

TEST(IoThread, RunsHandlersOnItsThread) {
  IoThread io;
  EXPECT_FALSE(io.onThisThread());
  std::promise<bool> on_thread;
  asio::post(io.context(), [&] { on_thread.set_value(io.onThisThread()); });
  EXPECT_TRUE(on_thread.get_future().get());
}

TEST(IoThread, SurvivesAThrowingHandler) {
  IoThread io;
  asio::post(io.context(), [] { throw std::runtime_error("boom"); });
  std::promise<void> after;
  asio::post(io.context(), [&] { after.set_value(); });
  EXPECT_EQ(after.get_future().wait_for(std::chrono::seconds(2)), std::future_status::ready);
}

TEST(IoThread, StopIsIdempotentAndDropsLaterWork) {
  IoThread io;
  io.stop();
  io.stop();
  std::atomic<bool> ran{false};
  asio::post(io.context(), [&] { ran = true; });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(ran.load());
}

}  // namespace
}  // namespace edgerig::bridge
