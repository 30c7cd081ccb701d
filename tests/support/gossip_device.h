// One device of a four-device gossip run, in this process: the real worker of `algorithm` in a
// real WorkerHost, driven on the test's thread (what the host posts runs in drain()). What the
// worker sends its controller is kept; what it sends peers is counted. The run: mlp on a
// 64-sample synthetic set, seed 3, batches of 8, on an exponential graph over four members.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/agent/worker_host.h"
#include "core/algorithms/compute_meter.h"
#include "core/algorithms/registry.h"
#include "core/catalog/catalog.h"
#include "decentralized.pb.h"

namespace edgerig::testsupport {

class GossipDevice : public testing::Test {
 public:
  static constexpr int kDevices = 4;

 protected:
  // Starts the worker as device 0; a test fails when it does not answer WorkerReady.
  void startWorker(const std::string& algorithm) {
    WorkerHostLinks links;
    links.to_controller = [this](wire::Envelope env) { to_controller_.push_back(std::move(env)); };
    links.to_device = [this](int, wire::Envelope) { ++sent_to_peers_; };
    links.peers_changed = [](std::vector<std::string>) {};
    links.iteration = [](int64_t) {};
    links.post = [this](std::function<void()> task) { posted_.push_back(std::move(task)); };
    links.after = [](std::chrono::milliseconds, std::function<void()>) {};
    host_ = std::make_unique<WorkerHost>(algorithmRegistry(), meter_, "", links);

    const AlgorithmInfo& info = algorithmRegistry().find(algorithm)->info;
    start_.set_algorithm(algorithm);
    start_.set_generation(1);
    start_.set_device(0);
    for (int d = 0; d < kDevices; ++d) start_.add_peers("in-process:" + std::to_string(d));
    auto* run = start_.mutable_run();
    run->set_model("mlp");
    run->set_seed(3);
    run->set_dataset("synthetic");
    run->set_synthetic_size(64);
    run->set_split("iid");
    run->set_batch_size(8);
    run->set_learning_rate(0.05);
    run->set_threads(1);
    start_.set_params_json(paramsJson(defaultParams(info)));
    decentralized::GossipSetup setup;
    for (int d = 0; d < kDevices; ++d) setup.add_members(d);
    setup.set_graph_epoch(1);
    setup.set_graph("exponential");
    setup.set_graph_seed(5);
    start_.mutable_setup()->PackFrom(setup);
    host_->start(start_);
    drain();
    ASSERT_FALSE(to_controller_.empty());
    ASSERT_TRUE(to_controller_.back().has_worker_ready()) << lastError();
    parameters_ = to_controller_.back().worker_ready().parameters();
    ASSERT_GT(parameters_, 1000);
    to_controller_.clear();
  }

  void drain() {
    while (!posted_.empty()) {
      auto task = std::move(posted_.front());
      posted_.pop_front();
      task();
    }
  }

  void deliver(wire::AlgoMessage m) {
    host_->deliver(std::move(m));
    drain();
  }

  std::string lastError() const {
    for (auto it = to_controller_.rbegin(); it != to_controller_.rend(); ++it) {
      if (it->has_run_error()) return it->run_error().detail();
    }
    return "";
  }

  ComputeMeter meter_;
  std::unique_ptr<WorkerHost> host_;
  wire::WorkerStart start_;
  std::deque<std::function<void()>> posted_;
  std::vector<wire::Envelope> to_controller_;
  int sent_to_peers_ = 0;
  int64_t parameters_ = 0;
};

}  // namespace edgerig::testsupport
