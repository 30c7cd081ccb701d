// A heartbeat-detected loss, with real agent processes on loopback: an agent that stays connected
// but stops answering (SIGSTOP: its sockets stay open, the kernel still accepts its bytes) is
// declared lost within the loss timeout, by the test's own clock from the stop to the
// device_lost event, and the run then does what its algorithm promises (gpipe: a clear error;
// allreduce: it goes on without the device). A stop shorter than the timeout loses nothing.
// Every stopped agent gets SIGCONT before the run ends, and the controller reaps it.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/controller/controller.h"
#include "core/runlog/event_kinds.h"
#include "core/runlog/run_reader.h"
#include "tests/support/agent_procs.h"
#include "tests/support/scratch_dir.h"

namespace edgerig {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kHeartbeat{250};
constexpr milliseconds kLossTimeout{2000};

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

ExperimentConfig run(const std::string& algorithm, int devices, int64_t iterations) {
  ExperimentConfig c;
  c.name = "heartbeat";
  c.seed = 5;
  c.local_count = devices;
  c.model = "mlp";
  c.dataset = "synthetic";
  c.synthetic_size = 3072;
  c.batch_size = 32;
  c.algorithm.name = algorithm;
  c.epochs = 1000;
  c.max_iterations = iterations;
  c.eval_every = 0;
  return c;
}

// Stops one agent (SIGSTOP) when the run reaches an iteration, and lets it go on (SIGCONT) when
// its loss is reported, after `resume_after`, or at the latest when the run ends: a stopped
// agent is never left behind, and the controller reaps it as any other.
class AgentStopper {
 public:
  AgentStopper(std::string device, int64_t at_iteration, Clock::duration resume_after)
      : device_(std::move(device)), at_(at_iteration), resume_after_(resume_after) {}
  ~AgentStopper() {
    resume();
    if (waker_.joinable()) waker_.join();
  }

  RunObserver observer() {
    RunObserver o;
    o.on_progress = [this](const RunProgress& p) {
      if (p.iteration != at_) return;
      std::lock_guard lock(mu_);
      if (pid_ > 0) return;
      const auto agents = testsupport::agentChildren();
      const auto it = agents.find(device_);
      if (it == agents.end()) return;
      pid_ = it->second;
      stopped_at_ = Clock::now();
      ::kill(pid_, SIGSTOP);
      waker_ = std::thread([this] {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, resume_after_, [this] { return resumed_; });
        resumeLocked();
      });
    };
    o.on_event = [this](const RunEvent& e) {
      if (e.kind != events::kDeviceLost) return;
      std::lock_guard lock(mu_);
      if (e.device == device_ && lost_at_ == Clock::time_point{}) lost_at_ = Clock::now();
      resumeLocked();
    };
    return o;
  }

  void resume() {
    std::lock_guard lock(mu_);
    resumeLocked();
  }
  bool stopped() {
    std::lock_guard lock(mu_);
    return pid_ > 0;
  }
  // From the SIGSTOP to the device_lost event; negative if either did not happen.
  double lossAfter() {
    std::lock_guard lock(mu_);
    if (pid_ <= 0 || lost_at_ == Clock::time_point{}) return -1;
    return seconds(lost_at_ - stopped_at_);
  }
  // How long the agent was stopped.
  double stoppedFor() {
    std::lock_guard lock(mu_);
    return pid_ > 0 && resumed_ ? seconds(resumed_at_ - stopped_at_) : -1;
  }

 private:
  void resumeLocked() {
    if (pid_ > 0 && !resumed_) {
      ::kill(pid_, SIGCONT);
      resumed_ = true;
      resumed_at_ = Clock::now();
    }
    cv_.notify_all();
  }

  std::string device_;
  int64_t at_;
  Clock::duration resume_after_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread waker_;
  pid_t pid_ = -1;
  bool resumed_ = false;
  Clock::time_point stopped_at_, lost_at_, resumed_at_;
};

ControllerOptions fastLiveness(const std::string& name) {
  ControllerOptions opts;
  opts.run_dir = testsupport::runDir(name);
  opts.heartbeat_interval = kHeartbeat;
  opts.loss_timeout = kLossTimeout;
  return opts;
}

// The loss comes after loss_timeout of silence. The silence began at most one heartbeat before
// the stop (the agent answers every heartbeat and reports metrics more often), and the watchdog
// looks every loss_timeout / 5: so between timeout - heartbeat and timeout * 1.2, plus 1 s for
// a loaded 2-core machine (ctest -j4). A detector that waited twice the timeout fails.
void expectLostInTime(double after) {
  const double timeout = seconds(kLossTimeout);
  ASSERT_GE(after, 0) << "no device_lost for the stopped agent";
  std::printf("device_lost %.3f s after SIGSTOP (loss timeout %.1f s)\n", after, timeout);
  EXPECT_GE(after, timeout - seconds(kHeartbeat) - 0.05);
  EXPECT_LT(after, timeout * 1.2 + 1.0);
}

void expectNoAgentLeft() {
  // The controller reaped its agents before run() returned, the stopped one included.
  EXPECT_TRUE(testsupport::agentChildren().empty());
}

TEST(HeartbeatLoss, AStoppedAgentIsLostInTimeAndEndsAGpipeRunNamingIt) {
  // Were the loss never noticed, the agent goes on after 12 s and the run ends at 20 s of
  // training (maxSeconds), successful: the test fails, in bounded time.
  AgentStopper stopper("dev1", 10, std::chrono::seconds(12));
  auto c = run("gpipe", 3, 100000);
  c.max_seconds = 20;
  const auto opts = fastLiveness("gpipe");
  Controller controller(c, opts, stopper.observer());
  const auto t0 = Clock::now();
  const auto summary = controller.run();
  const double took = seconds(Clock::now() - t0);
  ASSERT_TRUE(stopper.stopped()) << "the run never reached iteration 10";
  expectLostInTime(stopper.lossAfter());
  EXPECT_FALSE(summary.ok);
  EXPECT_FALSE(summary.stopped) << "a loss is a failure, not a stop";
  EXPECT_NE(summary.error.find("dev1"), std::string::npos) << summary.error;
  EXPECT_NE(summary.error.find("lost"), std::string::npos) << summary.error;
  EXPECT_LT(summary.iterations, 100000);
  EXPECT_LT(took, 30.0);
  expectNoAgentLeft();

  auto data = readRun(opts.run_dir);
  ASSERT_TRUE(data.isOk()) << data.status().message();
  std::vector<std::string> lost;
  for (const auto& e : data->events) {
    if (e.kind != events::kDeviceLost) continue;
    lost.push_back(e.device);
    // Why: silence, not a closed socket.
    EXPECT_NE(e.detail.find("no heartbeat"), std::string::npos) << e.detail;
  }
  EXPECT_EQ(lost, std::vector<std::string>{"dev1"});
  EXPECT_EQ(data->events.back().kind, events::kRunFailed);
  EXPECT_NE(data->events.back().detail.find("dev1"), std::string::npos);
}

TEST(HeartbeatLoss, AStoppedAgentIsLostInTimeAndAllreduceGoesOnWithoutIt) {
  AgentStopper stopper("dev2", 10, std::chrono::seconds(12));
  const auto c = run("allreduce", 3, 40);
  const auto opts = fastLiveness("allreduce");
  Controller controller(c, opts, stopper.observer());
  const auto summary = controller.run();
  ASSERT_TRUE(stopper.stopped()) << "the run never reached iteration 10";
  expectLostInTime(stopper.lossAfter());
  ASSERT_TRUE(summary.ok) << summary.error;
  EXPECT_EQ(summary.iterations, 40);
  expectNoAgentLeft();

  auto data = readRun(opts.run_dir);
  ASSERT_TRUE(data.isOk()) << data.status().message();
  int lost = 0;
  bool recovered = false;
  for (const auto& e : data->events) {
    if (e.kind == events::kDeviceLost) {
      ++lost;
      EXPECT_EQ(e.device, "dev2");
    }
    if (e.kind == events::kRecovered) {
      recovered = true;
      EXPECT_EQ(e.field(events::fields::kDevices), "dev0, dev1");
    }
  }
  EXPECT_EQ(lost, 1);
  EXPECT_TRUE(recovered);
  // Every iteration ran once (the interrupted one again), and dev2 computed none after its loss.
  std::vector<int64_t> its;
  int64_t dev2_last = 0;
  for (const auto& m : data->metrics) {
    if (m.metric == "train_loss" && m.device.empty()) its.push_back(m.iteration);
    if (m.metric == "step_compute_s" && m.device == "dev2") dev2_last = m.iteration;
  }
  ASSERT_EQ(its.size(), 40u);
  for (size_t i = 0; i < its.size(); ++i) EXPECT_EQ(its[i], static_cast<int64_t>(i + 1));
  EXPECT_LE(dev2_last, 11);
}

TEST(HeartbeatLoss, AStopShorterThanTheLossTimeoutLosesNoDevice) {
  // Stopped for half the timeout: a straggler, not a loss.
  AgentStopper stopper("dev1", 10, kLossTimeout / 2);
  const auto c = run("gpipe", 2, 30);
  const auto opts = fastLiveness("short");
  std::mutex mu;
  std::vector<std::pair<int64_t, Clock::time_point>> ended;
  RunObserver o = stopper.observer();
  auto stop_at_10 = o.on_progress;
  o.on_progress = [&](const RunProgress& p) {
    {
      std::lock_guard lock(mu);
      if (ended.empty() || ended.back().first != p.iteration) {
        ended.emplace_back(p.iteration, Clock::now());
      }
    }
    stop_at_10(p);
  };
  Controller controller(c, opts, o);
  const auto summary = controller.run();
  ASSERT_TRUE(stopper.stopped()) << "the run never reached iteration 10";
  EXPECT_TRUE(summary.ok) << summary.error;
  EXPECT_EQ(summary.iterations, 30);
  EXPECT_LT(stopper.lossAfter(), 0) << "a device was lost";
  expectNoAgentLeft();
  // The stop really held the run: one of the next iterations ended at least the stop's length
  // after the one before it. (Not necessarily the 11th: seen in CI, iteration 11 ended 6 ms after
  // 10 and the wait fell on a later one, the stop landing after dev1 had already done its part
  // of 11.)
  std::lock_guard lock(mu);
  double gap = 0;
  for (size_t i = 1; i < ended.size(); ++i) {
    if (ended[i - 1].first >= 10 && ended[i].first <= 15) {
      gap = std::max(gap, seconds(ended[i].second - ended[i - 1].second));
    }
  }
  EXPECT_GE(gap, stopper.stoppedFor() - 0.05)
      << "no iteration from 11 to 15 waited for the stopped agent";
  EXPECT_GE(stopper.stoppedFor(), seconds(kLossTimeout) / 2);

  auto data = readRun(opts.run_dir);
  ASSERT_TRUE(data.isOk()) << data.status().message();
  for (const auto& e : data->events) EXPECT_NE(e.kind, events::kDeviceLost) << e.detail;
  EXPECT_EQ(data->events.back().kind, events::kRunFinished);
}

}  // namespace
}  // namespace edgerig
