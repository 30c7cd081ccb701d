// WorkerContext::schedule(), the seam's timer, as the agent's WorkerHost provides it over a real
// asio timer and the real trainer-thread TaskQueue: a callback runs after its delay, on the
// trainer thread, between handlers; cancel() stops it; a timer never fires into a worker that
// replaced the one that set it.
#include <gtest/gtest.h>

#include <asio.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "core/agent/task_queue.h"
#include "core/agent/worker_host.h"
#include "core/algorithms/algo_message.h"
#include "pipeline.pb.h"

namespace edgerig {
namespace {

using Clock = std::chrono::steady_clock;

// A worker that sets a timer of `id` ms on Probe{id > 0}, cancels that timer on Probe{-id}, and
// answers ProbeReply{id, stage = 1 when the callback ran on the thread its handlers run on}.
class TimerProbe : public Worker {
 public:
  explicit TimerProbe(WorkerContext& ctx) : ctx_(ctx) {}
  void describe(wire::WorkerReady&) const override {}
  Result<wire::StateReply> state(bool) override { return wire::StateReply{}; }
  Status onMessage(const wire::AlgoMessage& m) override {
    auto probe = bodyAs<pipeline::Probe>(m);
    if (!probe) return probe.status();
    handler_thread_ = std::this_thread::get_id();
    const int64_t id = probe->id();
    if (id < 0) {
      timers_[-id].cancel();
      return Status::ok();
    }
    timers_[id] = ctx_.schedule(std::chrono::milliseconds(id), [this, id] {
      pipeline::ProbeReply reply;
      reply.set_id(id);
      reply.set_stage(std::this_thread::get_id() == handler_thread_ ? 1 : 0);
      ctx_.sendToController(algoMessage(bridge::TrafficKind::kControl, reply));
    });
    return Status::ok();
  }

 private:
  WorkerContext& ctx_;
  std::thread::id handler_thread_;
  std::map<int64_t, TimerHandle> timers_;
};

class TimerHarness {
 public:
  TimerHarness() : guard_(asio::make_work_guard(io_)), io_thread_([this] { io_.run(); }) {
    AlgorithmInfo info;
    info.name = "timer-probe";
    info.family = "pipeline";
    info.summary = "test";
    registry_.add(
        {info, nullptr,
         [](WorkerContext& ctx, const wire::WorkerStart&) -> Result<std::unique_ptr<Worker>> {
           return std::unique_ptr<Worker>(new TimerProbe(ctx));
         }});
    WorkerHostLinks links;
    links.to_controller = [this](wire::Envelope env) {
      if (!env.has_algo()) return;
      auto r = bodyAs<pipeline::ProbeReply>(env.algo());
      if (!r) return;
      std::lock_guard lock(mu_);
      replies_.push_back({r->id(), r->stage() == 1, Clock::now()});
      cv_.notify_all();
    };
    links.to_device = [](int, wire::Envelope) {};
    links.peers_changed = [](std::vector<std::string>) {};
    links.iteration = [](int64_t) {};
    links.post = [this](std::function<void()> task) { tasks_.post(std::move(task)); };
    // As the agent runtime wires it: an I/O-thread timer that posts onto the trainer thread.
    links.after = [this](std::chrono::milliseconds delay, std::function<void()> task) {
      asio::post(io_, [this, delay, task = std::move(task)]() mutable {
        auto timer = std::make_shared<asio::steady_timer>(io_, delay);
        timer->async_wait(
            [this, timer, task = std::move(task)](const asio::error_code& ec) mutable {
              if (!ec) tasks_.post(std::move(task));
            });
      });
    };
    host_ = std::make_unique<WorkerHost>(registry_, meter_, "", std::move(links));
  }
  ~TimerHarness() {
    guard_.reset();
    io_.stop();
    io_thread_.join();
  }

  void start(uint32_t generation) {
    wire::WorkerStart s;
    s.set_generation(generation);
    s.set_algorithm("timer-probe");
    s.set_device(0);
    s.add_peers("127.0.0.1:1");
    s.set_params_json("{}");
    tasks_.post([this, s] { host_->start(s); });
  }
  void probe(uint32_t generation, int64_t id) {
    pipeline::Probe p;
    p.set_id(id);
    wire::AlgoMessage m = algoMessage(bridge::TrafficKind::kControl, p);
    m.set_generation(generation);
    m.set_from(-1);
    tasks_.post([this, m] { host_->deliver(m); });
  }

  struct Reply {
    int64_t id;
    bool on_trainer_thread;
    Clock::time_point at;
  };
  // The replies so far, after waiting until `count` arrived or `wait` passed.
  std::vector<Reply> replies(size_t count, std::chrono::milliseconds wait) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, wait, [&] { return replies_.size() >= count; });
    return replies_;
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread io_thread_;
  AlgorithmRegistry registry_;
  ComputeMeter meter_;
  std::unique_ptr<WorkerHost> host_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Reply> replies_;
  TaskQueue tasks_;  // last: destroyed first, so no task outlives the host
};

TEST(WorkerTimers, FireAfterTheirDelayOnTheTrainerThreadWithoutBlockingHandlers) {
  TimerHarness h;
  h.start(1);
  const auto sent = Clock::now();
  h.probe(1, 240);
  h.probe(1, 80);
  const auto replies = h.replies(2, std::chrono::seconds(5));
  ASSERT_EQ(replies.size(), 2u);
  // The shorter timer fires first although it was set second: the first did not block.
  EXPECT_EQ(replies[0].id, 80);
  EXPECT_EQ(replies[1].id, 240);
  for (const auto& r : replies) {
    EXPECT_TRUE(r.on_trainer_thread) << "timer " << r.id;
    const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(r.at - sent);
    EXPECT_GE(after.count(), r.id) << "timer " << r.id << " fired early";
    EXPECT_LT(after.count(), r.id + 1000) << "timer " << r.id << " fired far too late";
  }
}

TEST(WorkerTimers, ACancelledTimerNeverFires) {
  TimerHarness h;
  h.start(1);
  h.probe(1, 150);
  h.probe(1, -150);  // cancelled before its delay is over
  h.probe(1, 300);   // the machinery still works
  const auto replies = h.replies(2, std::chrono::milliseconds(900));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].id, 300);
}

TEST(WorkerTimers, ATimerNeverFiresIntoTheWorkerThatReplacedItsOwn) {
  TimerHarness h;
  h.start(1);
  h.probe(1, 200);
  h.start(2);  // a new generation before the timer is due
  h.probe(2, 350);
  const auto replies = h.replies(2, std::chrono::milliseconds(900));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].id, 350);
}

}  // namespace
}  // namespace edgerig
