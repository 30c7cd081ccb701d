// Running an experiment on real agent processes from a test, and reading back what its run
// folder says (metrics.csv, events.csv, graph.csv): shared by the system tests of the
// decentralized algorithms.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/controller/controller.h"
#include "core/model/layer_chain.h"
#include "core/model/stage.h"
#include "core/runlog/run_reader.h"
#include "tests/support/scratch_dir.h"

namespace edgerig::testsupport {

struct AgentRun {
  RunSummary summary;
  RunData data;
  std::vector<double> losses;  // run-level train_loss per iteration
};

// What the decentralized system tests' small runs differ in.
struct SmallRun {
  uint64_t seed = 5;
  int64_t train = 3000;  // synthetic samples
  int64_t test = 600;
  int batch = 16;
  int64_t eval_every = 20;
  int64_t eval_samples = 300;
};

// `devices` local agents running `algorithm` on the mlp over synthetic data, iid, SGD at lr 0.05
// and momentum 0.9, for exactly `iterations` iterations (no epoch limit).
inline ExperimentConfig smallRun(const std::string& algorithm, int devices, int64_t iterations,
                                 const SmallRun& s = {}) {
  ExperimentConfig c;
  c.name = algorithm;
  c.seed = s.seed;
  c.local_count = devices;
  c.model = "mlp";
  c.dataset = "synthetic";
  c.synthetic_size = s.train;
  c.test_limit = s.test;
  c.split = "iid";
  c.batch_size = s.batch;
  c.learning_rate = 0.05;
  c.momentum = 0.9;
  c.max_iterations = iterations;
  c.epochs = 0;
  c.eval_every = s.eval_every;
  c.eval_samples = s.eval_samples;
  c.algorithm.name = algorithm;
  return c;
}

// Runs `c` to its end in a fresh run folder named after `name`, and reads the folder back.
inline AgentRun runAgents(const ExperimentConfig& c, const std::string& name,
                          ControllerOptions opts = {}) {
  AgentRun r;
  opts.run_dir = runDir(name);
  Controller controller(c, opts);
  r.summary = controller.run();
  auto data = readRun(opts.run_dir);
  EXPECT_TRUE(data.isOk()) << data.status().message();
  if (data) r.data = std::move(data).value();
  for (const auto& m : r.data.metrics) {
    if (m.metric == "train_loss" && m.device.empty()) r.losses.push_back(m.value);
  }
  return r;
}

// The last value of a per-device metric, by device.
inline std::map<std::string, double> lastByDevice(const RunData& data, const std::string& metric) {
  std::map<std::string, double> out;
  for (const auto& m : data.metrics) {
    if (m.metric == metric && !m.device.empty()) out[m.device] = m.value;
  }
  return out;
}

// Every value of a run-level metric, in order.
inline std::vector<double> runLevel(const RunData& data, const std::string& metric) {
  std::vector<double> out;
  for (const auto& m : data.metrics) {
    if (m.metric == metric && m.device.empty()) out.push_back(m.value);
  }
  return out;
}

inline int countEvents(const RunData& data, std::string_view kind) {
  int n = 0;
  for (const auto& e : data.events) n += e.kind == kind ? 1 : 0;
  return n;
}

// The model's parameter tensors' sizes, from the model zoo (not from an algorithm).
inline std::vector<int64_t> parameterSizes(const std::string& model, uint64_t seed) {
  auto chain = LayerChain::build(model, seed);
  EXPECT_TRUE(chain.isOk());
  std::vector<int64_t> sizes;
  if (!chain) return sizes;
  for (const auto& p : StageModule(*chain, 0, chain->numLayers())->parameters()) {
    sizes.push_back(p.numel());
  }
  return sizes;
}

inline int64_t parameterCount(const std::string& model, uint64_t seed) {
  int64_t n = 0;
  for (int64_t s : parameterSizes(model, seed)) n += s;
  return n;
}

}  // namespace edgerig::testsupport
