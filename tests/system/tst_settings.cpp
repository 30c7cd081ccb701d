// Each experiment setting does what it says, judged from outside the code that applies it: real
// agent processes on loopback, the test's own clock, the kernel's view of the agents (/proc),
// the run folder and the saved model.
//   training.maxSeconds      the run stops near the limit, by the test's clock, and says why
//   training.evalSamples     a periodic evaluation's accuracy is a multiple of 1/evalSamples
//   devices.threadsPerAgent  the agent processes run that many more threads (/proc/PID/status)
//   training.weightDecay     the trained weights shrink against the same run without it
//   training.epochs          a fraction of an epoch runs the iterations the shard size implies
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "core/controller/controller.h"
#include "core/model/tensor_codec.h"
#include "core/runlog/event_kinds.h"
#include "core/runlog/run_log.h"
#include "core/runlog/run_reader.h"
#include "tests/support/agent_procs.h"
#include "tests/support/agent_runs.h"
#include "tests/support/scratch_dir.h"

namespace edgerig {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// A small, fast run: mlp on the synthetic set (its train and test splits have syntheticSize
// samples each), no periodic evaluation.
ExperimentConfig smallRun(const std::string& algorithm, int devices) {
  ExperimentConfig c;
  c.name = "settings";
  c.seed = 11;
  c.local_count = devices;
  c.model = "mlp";
  c.dataset = "synthetic";
  c.synthetic_size = 2560;
  c.batch_size = 32;
  c.algorithm.name = algorithm;
  c.eval_every = 0;
  c.epochs = 1;
  return c;
}

// Stops the run if it is still going after `limit` (a broken stop rule must not hang the suite).
class Watchdog {
 public:
  Watchdog(Controller& c, std::chrono::seconds limit)
      : thread_([this, &c, limit] {
          std::unique_lock lock(mu_);
          if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
            fired_ = true;
            c.requestStop();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool fired() {
    std::lock_guard lock(mu_);
    return fired_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool fired_ = false;
  std::thread thread_;
};

// The distinct iterations that logged a run-level train_loss: the iterations that ran.
std::set<int64_t> iterationsRun(const RunData& data) {
  std::set<int64_t> out;
  for (const auto& m : data.metrics) {
    if (m.metric == "train_loss" && m.device.empty()) out.insert(m.iteration);
  }
  return out;
}

// ---- training.maxSeconds -------------------------------------------------------------------

TEST(Settings, MaxSecondsStopsTheRunNearTheLimitAndSaysWhy) {
  // Without the limit this run would take minutes (1000 epochs); with it, about 3 s of training.
  // maxSeconds is training time (as the summary's training_s): from the first iteration, not
  // from the run's start, whose bring-up (agents loading LibTorch) takes seconds on its own.
  auto c = smallRun("gpipe", 2);
  c.epochs = 1000;
  c.max_seconds = 3;
  std::mutex mu;
  double training_started_at = -1;  // by this test's clock, since run() was called
  double last_iteration_at = 0;
  int64_t last_iteration = 0;
  double stop_rule_at = -1;
  const auto t0 = Clock::now();
  RunObserver o;
  o.on_progress = [&](const RunProgress& p) {
    std::lock_guard lock(mu);
    if (p.iteration != last_iteration) {
      last_iteration = p.iteration;
      last_iteration_at = since(t0);
    }
  };
  o.on_event = [&](const RunEvent& e) {
    std::lock_guard lock(mu);
    if (e.kind == events::kTrainingStarted) training_started_at = since(t0);
    if (e.kind == events::kStopRule) stop_rule_at = since(t0);
  };
  ControllerOptions opts;
  opts.run_dir = testsupport::runDir("max-seconds");
  Controller controller(c, opts, o);
  RunSummary summary;
  bool watchdog_fired = false;
  {
    Watchdog watchdog(controller, std::chrono::seconds(40));
    summary = controller.run();
    watchdog_fired = watchdog.fired();
  }
  ASSERT_FALSE(watchdog_fired) << "the run ignored maxSeconds " << c.max_seconds;
  ASSERT_TRUE(summary.ok) << summary.error;  // a stop rule is a normal end, not a failure

  std::lock_guard lock(mu);
  ASSERT_GE(training_started_at, 0) << "no training_started event";
  ASSERT_GE(stop_rule_at, 0) << "no stop_rule event";
  // The clock starts at the first iteration, just after training_started: the stop cannot come
  // sooner than the limit after that event, by this test's clock, and comes at the first
  // iteration boundary past it: an iteration (milliseconds here) plus scheduling slack. 1.5 s
  // of slack covers a loaded 2-core machine (ctest -j4); a rule that waited half as long again
  // or ignored the limit fails, and so does one that counted the bring-up.
  const double trained_for = stop_rule_at - training_started_at;
  std::printf("stop_rule %.3f s after training_started (maxSeconds %.1f), %lld iterations\n",
              trained_for, c.max_seconds, static_cast<long long>(summary.iterations));
  EXPECT_GE(trained_for, c.max_seconds);
  EXPECT_LT(trained_for, c.max_seconds + 1.5);
  // Training went on until the limit: the last iteration ended just before the stop.
  EXPECT_GT(last_iteration_at - training_started_at, c.max_seconds - 1.0);
  EXPECT_LE(last_iteration_at, stop_rule_at);
  EXPECT_GT(summary.iterations, 10);
  EXPECT_EQ(summary.iterations, last_iteration);
  EXPECT_GE(summary.training_s, c.max_seconds);
  EXPECT_LT(summary.training_s, c.max_seconds + 1.5);

  // The run folder says why it stopped, and nothing ran after the stop.
  auto run = readRun(opts.run_dir);
  ASSERT_TRUE(run.isOk()) << run.status().message();
  int stops = 0;
  for (const auto& e : run->events) {
    if (e.kind != events::kStopRule) continue;
    ++stops;
    EXPECT_NE(e.detail.find("maxSeconds"), std::string::npos) << e.detail;
    EXPECT_EQ(e.iteration, summary.iterations);
  }
  EXPECT_EQ(stops, 1);
  EXPECT_EQ(run->events.back().kind, events::kRunFinished);
  const auto its = iterationsRun(*run);
  ASSERT_FALSE(its.empty());
  EXPECT_EQ(*its.rbegin(), summary.iterations);
}

// ---- training.evalSamples ------------------------------------------------------------------

// How far `accuracy` is from the nearest multiple of 1/n, in samples.
double offGrid(double accuracy, int64_t n) {
  const double k = accuracy * static_cast<double>(n);
  return std::fabs(k - std::round(k));
}

// The periodic evaluations' test_accuracy rows (before the final one, which uses the whole split).
std::vector<MetricSample> periodicAccuracies(const RunData& data, const std::string& device,
                                             int64_t last_iteration) {
  std::vector<MetricSample> out;
  for (const auto& m : data.metrics) {
    if (m.metric == "test_accuracy" && m.device == device && m.iteration < last_iteration) {
      out.push_back(m);
    }
  }
  return out;
}

void checkEvalSamples(const std::string& algorithm, int devices) {
  SCOPED_TRACE(algorithm);
  // 37 is prime and does not divide the test split (2560): an accuracy over 37 samples is k/37,
  // which an accuracy over the whole split (j/2560) or any other count is not, but for 0 and 1.
  constexpr int64_t kEvalSamples = 37;
  auto c = smallRun(algorithm, devices);
  c.max_iterations = 12;
  c.eval_every = 4;  // at iterations 4 and 8; the final one (12) is on the whole split
  c.eval_samples = kEvalSamples;
  const auto r = testsupport::runAgents(c, "eval-samples-" + algorithm);
  ASSERT_TRUE(r.summary.ok) << r.summary.error;
  // Per device (a decentralized run: each device evaluates its own model on the same first
  // evalSamples) and run-level (a pipeline: the one model; decentralized: the mean, k/(37 n)).
  std::vector<std::string> who{""};
  if (devices > 1 && algorithm != "gpipe") {
    for (int d = 0; d < devices; ++d) who.push_back("dev" + std::to_string(d));
  }
  for (const auto& device : who) {
    SCOPED_TRACE("device '" + device + "'");
    const auto acc = periodicAccuracies(r.data, device, 12);
    ASSERT_EQ(acc.size(), 2u);
    const int64_t n =
        device.empty() && algorithm != "gpipe" ? kEvalSamples * devices : kEvalSamples;
    int informative = 0;
    for (const auto& m : acc) {
      EXPECT_LT(offGrid(m.value, n), 1e-6)
          << "accuracy " << m.value << " at iteration " << m.iteration << " is not k/" << n;
      informative += m.value > 0 && m.value < 1 ? 1 : 0;
    }
    // 0 and 1 are on every grid: the check means something only if some accuracy is neither.
    EXPECT_GT(informative, 0);
  }
  // The final evaluation is on the whole split: not on the 1/37 grid (so the check above can
  // tell), and said so in its event.
  const auto final_acc = r.summary.test_accuracy;
  EXPECT_GT(offGrid(final_acc, kEvalSamples), 1e-3) << final_acc;
  int evaluations = 0;
  for (const auto& e : r.data.events) {
    if (e.kind != events::kEvaluation) continue;
    ++evaluations;
    if (e.iteration < 12) {
      EXPECT_NE(e.detail.find("on " + std::to_string(kEvalSamples) + " samples"), std::string::npos)
          << e.detail;
    }
  }
  EXPECT_EQ(evaluations, 3);
}

TEST(Settings, EvalSamplesIsTheNumberOfSamplesAnEvaluationScores) {
  checkEvalSamples("gpipe", 2);
  checkEvalSamples("allreduce", 2);
}

// ---- devices.threadsPerAgent ---------------------------------------------------------------

struct AgentThreads {
  int threads = 0;  // the most the process ran while training (/proc/PID/status)
  int busy = 0;     // those that computed: half the busiest one's training CPU time or more
  std::map<long, long> ticks_at_start;  // CPU ticks by thread when training was under way
};

// Each agent's threads, measured by the kernel while the run trains a convolutional network.
std::map<std::string, AgentThreads> agentThreads(int threads_per_agent) {
  auto c = smallRun("gpipe", 2);
  c.model = "cnn";         // convolutions: torch runs them on its intra-op threads
  c.synthetic_size = 768;  // a short final evaluation
  c.batch_size = 64;
  c.max_iterations = 10;
  c.threads_per_agent = threads_per_agent;
  std::map<std::string, AgentThreads> seen;
  RunObserver o;
  o.on_progress = [&](const RunProgress& p) {
    if (p.iteration < 2) return;  // the thread pools start with the first steps
    for (const auto& [name, pid] : testsupport::agentChildren()) {
      auto& s = seen[name];
      s.threads = std::max(s.threads, testsupport::procThreads(pid));
      if (s.ticks_at_start.empty()) s.ticks_at_start = testsupport::threadTicks(pid);
      if (p.iteration != c.max_iterations || s.busy > 0) continue;
      // CPU time spent training (not loading, as the main thread did), by thread.
      std::vector<long> spent;
      for (const auto& [tid, t] : testsupport::threadTicks(pid)) {
        const auto before = s.ticks_at_start.find(tid);
        spent.push_back(t - (before == s.ticks_at_start.end() ? 0 : before->second));
      }
      const long most = spent.empty() ? 0 : *std::max_element(spent.begin(), spent.end());
      // torch's workers share the work evenly (measured: each within 10 % of the busiest); the
      // I/O thread that moves the activations spent 15-20 % of the busiest one's time quietly,
      // and under a full suite it once passed the quarter mark this used before.
      s.busy = static_cast<int>(
          std::count_if(spent.begin(), spent.end(), [&](long t) { return 2 * t >= most; }));
      if (std::getenv("EDGERIG_TEST_VERBOSE") != nullptr) {
        for (long t : spent) std::printf("%s %ld ticks\n", name.c_str(), t);
      }
    }
  };
  ControllerOptions opts;
  opts.run_dir = testsupport::runDir("threads-" + std::to_string(threads_per_agent));
  Controller controller(c, opts, o);
  const auto summary = controller.run();
  EXPECT_TRUE(summary.ok) << summary.error;
  return seen;
}

TEST(Settings, ThreadsPerAgentIsHowManyComputeThreadsEachAgentRuns) {
  // torch's intra-op pool (OpenMP) gives every thread that computes a team of threadsPerAgent:
  // itself and threadsPerAgent - 1 workers. So the agent holding the convolutions (dev0) has
  // threadsPerAgent threads that do the work (measured: the trainer and its workers; the main,
  // I/O and idle threads spend almost nothing), and every agent runs at least
  // threadsPerAgent - 1 more threads than with 1. Ignored, the setting would leave torch at its
  // default (the machine's cores) in both runs.
  std::map<int, std::map<std::string, AgentThreads>> by;
  for (int n : {1, 3}) {
    by[n] = agentThreads(n);
    ASSERT_EQ(by[n].size(), 2u) << "both agents in /proc";
    std::printf("threadsPerAgent %d: dev0 %d threads (%d busy), dev1 %d threads (%d busy)\n", n,
                by[n]["dev0"].threads, by[n]["dev0"].busy, by[n]["dev1"].threads,
                by[n]["dev1"].busy);
    EXPECT_EQ(by[n]["dev0"].busy, n) << "dev0's threads that computed";
  }
  for (const std::string name : {"dev0", "dev1"}) {
    EXPECT_GE(by[3][name].threads - by[1][name].threads, 2) << name;
  }
}

// ---- training.weightDecay ------------------------------------------------------------------

double weightNormSquared(const std::string& run_dir) {
  std::ifstream in(run_dir + "/" + kModelFile, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  auto state = stateFromBytes(bytes.str());
  EXPECT_TRUE(state.isOk()) << state.status().message();
  double sum = 0;
  if (!state) return sum;
  for (const auto& [name, t] : *state) {
    if (name.find("weight") != std::string::npos) sum += t.pow(2).sum().item<double>();
  }
  return sum;
}

TEST(Settings, WeightDecayShrinksTheWeightsAgainstTheSameRunWithout) {
  for (const std::string algorithm : {"gpipe", "allreduce"}) {
    SCOPED_TRACE(algorithm);
    auto c = smallRun(algorithm, 2);
    c.max_iterations = 30;
    c.momentum = 0;
    c.learning_rate = 0.05;
    ControllerOptions opts;
    opts.save_model = true;
    c.weight_decay = 0;
    const auto plain = testsupport::runAgents(c, "wd0-" + algorithm, opts);
    c.weight_decay = 0.2;
    const auto decayed = testsupport::runAgents(c, "wd-" + algorithm, opts);
    ASSERT_TRUE(plain.summary.ok) << plain.summary.error;
    ASSERT_TRUE(decayed.summary.ok) << decayed.summary.error;
    const double n0 = weightNormSquared(plain.summary.run_dir);
    const double nd = weightNormSquared(decayed.summary.run_dir);
    ASSERT_GT(n0, 0);
    // SGD with decay λ multiplies every weight by (1 - lr λ) a step before the gradient: over 30
    // steps 0.99^30 = 0.74 of the norm, 0.55 of its square, if the gradients' part is alike.
    const double expected = std::pow(1 - c.learning_rate * c.weight_decay, 2 * c.max_iterations);
    std::printf("%s: |w|^2 %.4f without decay, %.4f with (ratio %.3f, (1 - lr wd)^2n = %.3f)\n",
                algorithm.c_str(), n0, nd, nd / n0, expected);
    EXPECT_LT(nd / n0, 0.5 * (1 + expected)) << "the weights did not shrink";
    EXPECT_NEAR(nd / n0, expected, 0.05);
  }
}

// ---- training.epochs -----------------------------------------------------------------------

TEST(Settings, AFractionOfAnEpochRunsTheIterationsTheShardImplies) {
  // 2560 training samples, batch 32. gpipe: one model over the whole split, 2560 / 32 = 80
  // iterations an epoch, 20 in a quarter. allreduce on 2 devices: a shard of 1280 each, 40
  // iterations an epoch, 10 in a quarter.
  struct Case {
    std::string algorithm;
    int devices;
    double epochs;
    int64_t expected;
  };
  for (const auto& k : {Case{"gpipe", 2, 0.25, 20}, Case{"allreduce", 2, 0.25, 10},
                        Case{"allreduce", 2, 0.3, 12}}) {
    SCOPED_TRACE(k.algorithm + " " + std::to_string(k.epochs));
    auto c = smallRun(k.algorithm, k.devices);
    c.epochs = k.epochs;
    c.max_iterations = 0;
    const int64_t shard = c.synthetic_size / (k.algorithm == "gpipe" ? 1 : k.devices);
    ASSERT_EQ(static_cast<int64_t>(
                  std::floor(k.epochs * static_cast<double>(shard / c.batch_size) + 1e-9)),
              k.expected);
    const auto r = testsupport::runAgents(
        c, "epochs-" + k.algorithm + "-" + std::to_string(static_cast<int>(k.epochs * 100)));
    ASSERT_TRUE(r.summary.ok) << r.summary.error;
    const auto its = iterationsRun(r.data);
    EXPECT_EQ(static_cast<int64_t>(its.size()), k.expected);
    ASSERT_FALSE(its.empty());
    EXPECT_EQ(*its.begin(), 1);
    EXPECT_EQ(*its.rbegin(), k.expected);
  }
}

}  // namespace
}  // namespace edgerig
