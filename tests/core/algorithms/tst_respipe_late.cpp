// respipe's mixed case at a stage, with the messages in the exact order that hung end-to-end
// runs after a short freeze: the last stage (a real respipe stage worker in a real agent
// WorkerHost: its trainer thread, its timers) has begun iteration 1 with a micro-batch its
// predecessor's predecessor routed around the middle stage, when the thawed middle stage's late
// result for iteration 0, which the last stage already flushed, arrives; then the rest of
// iteration 1. The late result must be discarded (and acknowledged) at once and iteration 1 must
// flush: before the fix, the late result waited behind iteration 1 and iteration 1's own
// micro-batches queued behind it, so the stage never flushed again. The gradients of the routed
// micro-batches go to the device that ran the middle stage for them (the route), those of the
// others to the middle stage's owner.
#include <gtest/gtest.h>

#include <asio.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "core/agent/task_queue.h"
#include "core/agent/worker_host.h"
#include "core/algorithms/algo_message.h"
#include "core/catalog/catalog.h"
#include "core/model/layer_chain.h"
#include "core/model/stage.h"
#include "core/model/tensor_codec.h"
#include "pipeline.pb.h"

namespace edgerig {
namespace {

constexpr uint64_t kSeed = 11;
constexpr int kMicro = 2;
constexpr int kPerMicro = 2;

struct Sent {
  int to;
  wire::AlgoMessage message;
};

// Stage 2 of cnn's even 3-stage plan [conv1 pool1 | conv2 pool2 | fc1 fc2] on device 2.
class LastStage {
 public:
  LastStage() : guard_(asio::make_work_guard(io_)), io_thread_([this] { io_.run(); }) {
    WorkerHostLinks links;
    links.to_controller = [this](wire::Envelope env) {
      std::lock_guard lock(mu_);
      to_controller_.push_back(std::move(env));
      cv_.notify_all();
    };
    links.to_device = [this](int to, wire::Envelope env) {
      std::lock_guard lock(mu_);
      to_devices_.push_back({to, std::move(*env.mutable_algo())});
      cv_.notify_all();
    };
    links.peers_changed = [](std::vector<std::string>) {};
    links.iteration = [](int64_t) {};
    links.post = [this](std::function<void()> task) { tasks_->post(std::move(task)); };
    links.after = [this](std::chrono::milliseconds delay, std::function<void()> task) {
      asio::post(io_, [this, delay, task = std::move(task)]() mutable {
        auto timer = std::make_shared<asio::steady_timer>(io_, delay);
        timer->async_wait([this, timer, task = std::move(task)](const asio::error_code& ec) {
          if (!ec) tasks_->post(task);
        });
      });
    };
    tasks_ = std::make_unique<TaskQueue>();
    host_ = std::make_unique<WorkerHost>(algorithmRegistry(), meter_, "", links);
  }
  ~LastStage() {
    tasks_.reset();  // first: no task outlives the host
    guard_.reset();
    io_.stop();
    io_thread_.join();
  }

  void start() {
    const AlgorithmInfo& info = algorithmRegistry().find("respipe")->info;
    AlgorithmParams params = defaultParams(info);
    params.set("microBatches", int64_t{kMicro});
    params.set("redundancy", int64_t{1});
    params.set("refreshEvery", int64_t{1});
    params.set("deadlineMs", int64_t{250});
    wire::WorkerStart s;
    s.set_algorithm("respipe");
    s.set_generation(1);
    s.set_device(2);
    for (int d = 0; d < 3; ++d) s.add_peers("in-process:" + std::to_string(d));
    auto* run = s.mutable_run();
    run->set_model("cnn");
    run->set_seed(kSeed);
    run->set_dataset("synthetic");
    run->set_synthetic_size(64);
    run->set_batch_size(kMicro * kPerMicro);
    run->set_learning_rate(0.05);
    run->set_momentum(0.9);
    run->set_threads(1);
    s.set_params_json(paramsJson(params));
    pipeline::StageSetup setup;
    setup.set_stage(2);
    setup.set_num_stages(3);
    setup.set_first_layer(4);
    setup.set_last_layer(6);
    for (int d = 0; d < 3; ++d) setup.add_device_of_stage(d);
    setup.set_micro_batches(kMicro);
    for (int b : {0, 2, 4, 6}) setup.add_boundaries(b);
    s.mutable_setup()->PackFrom(setup);
    tasks_->post([this, s] { host_->start(s); });
    auto env = controllerMessage(
        [](const wire::Envelope& e) { return e.has_worker_ready() || e.has_run_error(); },
        std::chrono::seconds(30));
    ASSERT_TRUE(env.has_value()) << "no WorkerReady";
    ASSERT_TRUE(env->has_worker_ready()) << env->run_error().detail();
  }

  // The input of stage 2 for micro-batch m of `iteration`, from `from`, having come the route.
  void activations(int from, int64_t iteration, int m, std::vector<int> route) {
    auto chain = LayerChain::build("cnn", kSeed);
    ASSERT_TRUE(chain.isOk());
    StageModule head(*chain, 0, 4);
    torch::NoGradGuard no_grad;
    torch::manual_seed(static_cast<uint64_t>(iteration * 10 + m));
    torch::Tensor x = head->forward(torch::rand({kPerMicro, 1, 28, 28}));
    torch::Tensor labels = torch::randint(0, 10, {kPerMicro}, torch::kInt64);
    pipeline::Activations a;
    a.set_iteration(iteration);
    a.set_micro_batch(m);
    a.set_mode(wire::STEP_MODE_TRAIN);
    a.set_micro_batches(kMicro);
    a.set_batch_size(kMicro * kPerMicro);
    a.set_stage(2);
    *a.mutable_route() = {route.begin(), route.end()};
    wire::AlgoMessage msg = algoMessage(bridge::TrafficKind::kActivation, a);
    appendTensor(msg, x);
    appendTensor(msg, labels);
    msg.set_generation(1);
    msg.set_from(from);
    tasks_->post([this, msg = std::move(msg)]() mutable { host_->deliver(std::move(msg)); });
  }

  // The StepDone of `iteration`, or nothing when none came (or a RunError) within `wait`.
  std::optional<pipeline::StepDone> stepDone(int64_t iteration, std::chrono::milliseconds wait) {
    auto env = controllerMessage(
        [iteration](const wire::Envelope& e) {
          if (e.has_run_error()) return true;
          if (!e.has_algo() || !bodyIs<pipeline::StepDone>(e.algo())) return false;
          return bodyAs<pipeline::StepDone>(e.algo())->iteration() == iteration;
        },
        wait);
    if (!env) return std::nullopt;
    if (env->has_run_error()) {
      ADD_FAILURE() << env->run_error().detail();
      return std::nullopt;
    }
    return *bodyAs<pipeline::StepDone>(env->algo());
  }

  std::vector<Sent> sentToDevices() {
    std::lock_guard lock(mu_);
    return {to_devices_.begin(), to_devices_.end()};
  }

 private:
  template <typename Pred>
  std::optional<wire::Envelope> controllerMessage(Pred pred, std::chrono::milliseconds wait) {
    std::unique_lock lock(mu_);
    std::optional<wire::Envelope> found;
    cv_.wait_for(lock, wait, [&] {
      for (auto it = to_controller_.begin(); it != to_controller_.end(); ++it) {
        if (pred(*it)) {
          found = std::move(*it);
          to_controller_.erase(it);
          return true;
        }
      }
      return false;
    });
    return found;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread io_thread_;
  ComputeMeter meter_;
  std::unique_ptr<WorkerHost> host_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<wire::Envelope> to_controller_;
  std::deque<Sent> to_devices_;
  std::unique_ptr<TaskQueue> tasks_;  // destroyed first (see the destructor)
};

TEST(RespipeLate, ALateResultForAFlushedIterationDoesNotHoldUpTheIterationInProgress) {
  LastStage stage;
  ASSERT_NO_FATAL_FAILURE(stage.start());
  // Iteration 0: micro-batch 0 through dev1 (the owner of stage 1); micro-batch 1 routed around
  // it by dev0, which ran stage 1 on its replica.
  stage.activations(1, 0, 0, {0, 1});
  stage.activations(0, 0, 1, {0, 0});
  auto done0 = stage.stepDone(0, std::chrono::seconds(10));
  ASSERT_TRUE(done0.has_value()) << "iteration 0 did not flush";
  EXPECT_EQ(done0->discarded(), 0);
  // Iteration 1 begins with a routed micro-batch; then dev1, thawed, sends its own (late) result
  // for iteration 0's micro-batch 1; then the rest of iteration 1.
  stage.activations(0, 1, 0, {0, 0});
  stage.activations(1, 0, 1, {0, 1});
  stage.activations(1, 1, 1, {0, 1});
  auto done1 = stage.stepDone(1, std::chrono::seconds(10));
  ASSERT_TRUE(done1.has_value())
      << "iteration 1 never flushed: the late result of iteration 0 held it up";
  EXPECT_EQ(done1->discarded(), 1) << "the late result of iteration 0 is discarded and counted";
  EXPECT_EQ(done1->samples(), kMicro * kPerMicro);

  // Where everything went: gradients along each micro-batch's route, and an acknowledgement for
  // every input, the late one included (its sender need not route around anything).
  std::map<std::pair<int64_t, int>, int> gradient_to;
  int acks_to_dev1_for_0_1 = 0;
  for (const auto& s : stage.sentToDevices()) {
    if (bodyIs<pipeline::Gradients>(s.message)) {
      auto g = *bodyAs<pipeline::Gradients>(s.message);
      EXPECT_EQ(g.stage(), 1);
      EXPECT_TRUE(gradient_to.emplace(std::make_pair(g.iteration(), g.micro_batch()), s.to).second)
          << "two gradients for iteration " << g.iteration() << " micro-batch " << g.micro_batch();
    } else if (bodyIs<pipeline::ForwardAck>(s.message)) {
      auto a = *bodyAs<pipeline::ForwardAck>(s.message);
      if (a.iteration() == 0 && a.micro_batch() == 1 && s.to == 1) ++acks_to_dev1_for_0_1;
    }
  }
  std::map<std::pair<int64_t, int>, int> expected{
      {{0, 0}, 1}, {{0, 1}, 0}, {{1, 0}, 0}, {{1, 1}, 1}};
  EXPECT_EQ(gradient_to, expected);
  EXPECT_EQ(acks_to_dev1_for_0_1, 1);
}

}  // namespace
}  // namespace edgerig
