// allreduce training throughput against its reference in the same run: the plain single-thread
// LibTorch loop on one batch of 64, and allreduce on 2 and 4 local agents (one torch thread
// each, local batch 64 each, the default CNN). Prints a table and `RATIO` lines.
// Usage: bench_allreduce_training [iterations]
#include <malloc.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>

#include "core/controller/controller.h"
#include "core/data/dataset.h"
#include "core/data/sampler.h"
#include "core/model/layer_chain.h"
#include "core/model/stage.h"
#include "tests/support/scratch_dir.h"

namespace edgerig {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kBatch = 64;

double plainLoop(int iterations) {
  torch::set_num_threads(1);
  auto chain = LayerChain::build("cnn", 1);
  StageModule model(*chain, 0, chain->numLayers());
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  auto data = loadFashionMnist(kFashionMnistDir, Split::kTrain, 0);
  if (!data) {
    std::fprintf(stderr, "%s\n", data.status().message().c_str());
    std::exit(1);
  }
  EpochSampler sampler(data->size(), kBatch, 1);
  auto step = [&](int64_t it) {
    auto [x, y] = *gatherBatch(*data, sampler.batch(it));
    auto loss = torch::nn::functional::cross_entropy(model->forward(x), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
  };
  for (int it = 0; it < 5; ++it) step(it);  // warm-up
  const auto t0 = Clock::now();
  for (int64_t it = 0; it < iterations; ++it) step(it);
  return iterations * kBatch / std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Measured {
  double samples_per_s = 0;
  double accuracy = 0;
};

Measured allreduce(int devices, int iterations, const std::string& dir) {
  ExperimentConfig c;
  c.name = "bench-allreduce";
  c.seed = 1;
  c.local_count = devices;
  c.model = "cnn";
  c.dataset = "fashion-mnist";
  c.test_limit = 1000;
  c.batch_size = kBatch;
  c.max_iterations = iterations;
  c.eval_every = 0;
  c.threads_per_agent = 1;
  c.algorithm.name = "allreduce";
  ControllerOptions opts;
  opts.run_dir = dir;
  Controller controller(c, opts);
  const auto s = controller.run();
  if (!s.ok) {
    std::fprintf(stderr, "allreduce run failed: %s\n", s.error.c_str());
    std::exit(1);
  }
  return {s.samples_per_s, s.test_accuracy};
}

}  // namespace
}  // namespace edgerig

int main(int argc, char** argv) {
  using namespace edgerig;
  mallopt(M_TRIM_THRESHOLD, 512 << 20);  // as edgerig-agent
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 150;
  const testsupport::ScratchDir scratch("bench-allreduce");
  const double plain = plainLoop(iterations);
  const auto two = allreduce(2, iterations, scratch.path("two"));
  const auto four = allreduce(4, iterations, scratch.path("four"));
  std::printf("%-52s %12s\n", "measurement", "value");
  std::printf("%-52s %12.1f\n", "plain loop, 1 thread, batch 64 (samples/s)", plain);
  std::printf("%-52s %12.1f\n", "allreduce 2 agents, 64 each (samples/s)", two.samples_per_s);
  std::printf("%-52s %12.1f\n", "allreduce 4 agents, 64 each (samples/s)", four.samples_per_s);
  std::printf("RATIO allreduce2_vs_plain %.3f\n", two.samples_per_s / plain);
  std::printf("RATIO allreduce4_vs_plain %.3f\n", four.samples_per_s / plain);
  return 0;
}
