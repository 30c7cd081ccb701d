// respipe's replicas, fetched from both sides: two real respipe stage workers in real agent
// WorkerHosts (their trainer threads and timers; messages between them handed over in process)
// train cnn on synthetic data, driven as the controller drives them. After every T-th mini-batch
// the replica that stage 0 holds of stage 1 (FetchReplica) equals stage 1's own weights
// (FetchState) exactly; between refreshes it stays the copy of the last boundary.
#include <gtest/gtest.h>

#include <asio.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "core/agent/task_queue.h"
#include "core/agent/worker_host.h"
#include "core/algorithms/algo_message.h"
#include "core/catalog/catalog.h"
#include "core/model/tensor_codec.h"
#include "pipeline.pb.h"

namespace edgerig {
namespace {

constexpr int kRefreshEvery = 3;

class TwoStages {
 public:
  TwoStages() : guard_(asio::make_work_guard(io_)), io_thread_([this] { io_.run(); }) {
    for (int d = 0; d < 2; ++d) {
      WorkerHostLinks links;
      links.to_controller = [this](wire::Envelope env) {
        std::lock_guard lock(mu_);
        inbox_.push_back(std::move(env));
        cv_.notify_all();
      };
      links.to_device = [this](int to, wire::Envelope env) {
        tasks_[to]->post([this, to, m = std::move(*env.mutable_algo())]() mutable {
          hosts_[to]->deliver(std::move(m));
        });
      };
      links.peers_changed = [](std::vector<std::string>) {};
      links.iteration = [](int64_t) {};
      links.post = [this, d](std::function<void()> task) { tasks_[d]->post(std::move(task)); };
      links.after = [this, d](std::chrono::milliseconds delay, std::function<void()> task) {
        asio::post(io_, [this, d, delay, task = std::move(task)]() mutable {
          auto timer = std::make_shared<asio::steady_timer>(io_, delay);
          timer->async_wait([this, d, timer, task = std::move(task)](const asio::error_code& ec) {
            if (!ec) tasks_[d]->post(task);
          });
        });
      };
      tasks_[d] = std::make_unique<TaskQueue>();
      hosts_[d] = std::make_unique<WorkerHost>(algorithmRegistry(), meters_[d], "", links);
    }
  }
  ~TwoStages() {
    for (auto& t : tasks_) t.reset();  // first: no task outlives its host
    guard_.reset();
    io_.stop();
    io_thread_.join();
  }

  void start() {
    const AlgorithmInfo& info = algorithmRegistry().find("respipe")->info;
    AlgorithmParams params = defaultParams(info);
    params.set("microBatches", int64_t{2});
    params.set("refreshEvery", int64_t{kRefreshEvery});
    params.set("deadlineMs", int64_t{0});
    for (int d = 0; d < 2; ++d) {
      wire::WorkerStart s;
      s.set_algorithm("respipe");
      s.set_generation(1);
      s.set_device(d);
      s.add_peers("in-process:0");
      s.add_peers("in-process:1");
      auto* run = s.mutable_run();
      run->set_model("cnn");
      run->set_seed(11);
      run->set_dataset("synthetic");
      run->set_synthetic_size(256);
      run->set_batch_size(8);
      run->set_learning_rate(0.05);
      run->set_momentum(0.9);
      run->set_threads(1);
      s.set_params_json(paramsJson(params));
      pipeline::StageSetup setup;
      setup.set_stage(d);
      setup.set_num_stages(2);
      setup.set_first_layer(d == 0 ? 0 : 3);
      setup.set_last_layer(d == 0 ? 3 : 6);
      setup.add_device_of_stage(0);
      setup.add_device_of_stage(1);
      setup.set_micro_batches(2);
      for (int b : {0, 3, 6}) setup.add_boundaries(b);
      s.mutable_setup()->PackFrom(setup);
      tasks_[d]->post([this, d, s] { hosts_[d]->start(s); });
    }
    for (int d = 0; d < 2; ++d) {
      auto env =
          next([](const wire::Envelope& e) { return e.has_worker_ready() || e.has_run_error(); });
      ASSERT_TRUE(env.has_worker_ready()) << env.run_error().detail();
    }
  }

  // One mini-batch through both stages, and both flushes.
  void train(int64_t iteration) {
    pipeline::Step step;
    step.set_iteration(iteration);
    step.set_mode(wire::STEP_MODE_TRAIN);
    step.set_micro_batches(2);
    for (int64_t i = 0; i < 8; ++i) step.add_indices(iteration * 8 + i);
    toDevice(0, algoMessage(bridge::TrafficKind::kControl, step));
    for (int done = 0; done < 2; ++done) {
      auto env = next([](const wire::Envelope& e) {
        return e.has_run_error() || (e.has_algo() && bodyIs<pipeline::StepDone>(e.algo()));
      });
      ASSERT_FALSE(env.has_run_error()) << env.run_error().detail();
    }
  }

  // Stage 1's weights, as FetchState gives them.
  ModelState ownerWeights() {
    tasks_[1]->post([this] { hosts_[1]->fetchState(false); });
    auto env = next([](const wire::Envelope& e) { return e.has_state_reply(); });
    return *fromBlob(env.state_reply().state());
  }

  // Stage 0's replica of stage 1's layers, and the mini-batches it had seen.
  std::pair<ModelState, int64_t> replica() {
    pipeline::FetchReplica f;
    for (const char* layer : {"pool2", "fc1", "fc2"}) f.add_layers(layer);
    toDevice(0, algoMessage(bridge::TrafficKind::kControl, f));
    auto env = next([](const wire::Envelope& e) {
      return e.has_algo() && bodyIs<pipeline::Replica>(e.algo());
    });
    auto r = *bodyAs<pipeline::Replica>(env.algo());
    EXPECT_TRUE(r.held());
    auto tensors = *tensorsOf(env.algo());
    ModelState state;
    // The weights; the replica's momentum travels with them (for the controller's take-over).
    for (int i = 0; i < r.names_size(); ++i) {
      if (!r.names(i).ends_with(".momentum")) state.emplace_back(r.names(i), tensors[i]);
    }
    return {state, r.iteration()};
  }

 private:
  void toDevice(int d, wire::AlgoMessage m) {
    m.set_generation(1);
    m.set_from(-1);
    tasks_[d]->post([this, d, m = std::move(m)]() mutable { hosts_[d]->deliver(std::move(m)); });
  }
  template <typename Pred>
  wire::Envelope next(Pred pred) {
    std::unique_lock lock(mu_);
    for (;;) {
      for (auto it = inbox_.begin(); it != inbox_.end(); ++it) {
        if (pred(*it)) {
          wire::Envelope env = std::move(*it);
          inbox_.erase(it);
          return env;
        }
      }
      if (!cv_.wait_for(lock, std::chrono::seconds(30), [&] { return !inbox_.empty(); })) {
        ADD_FAILURE() << "nothing from the stages for 30 s";
        return {};
      }
      if (std::none_of(inbox_.begin(), inbox_.end(), pred)) {
        cv_.wait_for(lock, std::chrono::milliseconds(50));
      }
    }
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread io_thread_;
  ComputeMeter meters_[2];
  std::unique_ptr<WorkerHost> hosts_[2];
  std::unique_ptr<TaskQueue> tasks_[2];
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<wire::Envelope> inbox_;
};

double largestDifference(const ModelState& a, const ModelState& b) {
  EXPECT_EQ(a.size(), b.size());
  std::map<std::string, torch::Tensor> theirs(b.begin(), b.end());
  double worst = 0;
  for (const auto& [name, t] : a) {
    auto it = theirs.find(name);
    if (it == theirs.end()) {
      ADD_FAILURE() << name << " missing";
      return 1e9;
    }
    worst = std::max(worst, (t - it->second).abs().max().item<double>());
  }
  return worst;
}

TEST(RespipeReplicas, TheReplicaEqualsTheOwnersWeightsAtEveryRefresh) {
  TwoStages stages;
  stages.start();
  ModelState at_refresh = stages.ownerWeights();  // the starting weights are sent at once
  for (int64_t it = 0; it < 3 * kRefreshEvery; ++it) {
    stages.train(it);
    const int64_t seen = it + 1;
    const ModelState owner = stages.ownerWeights();
    const auto [replica, replica_seen] = stages.replica();
    if (seen % kRefreshEvery == 0) {
      at_refresh = owner;
      EXPECT_EQ(replica_seen, seen);
      EXPECT_EQ(largestDifference(replica, owner), 0.0) << "after mini-batch " << seen;
    } else {
      // Between refreshes it is the copy of the last boundary, and the owner has moved on.
      EXPECT_EQ(replica_seen, seen / kRefreshEvery * kRefreshEvery);
      EXPECT_EQ(largestDifference(replica, at_refresh), 0.0) << "after mini-batch " << seen;
      EXPECT_GT(largestDifference(replica, owner), 0.0) << "after mini-batch " << seen;
    }
  }
}

}  // namespace
}  // namespace edgerig
