// Pipeline benchmarks, each against its reference in the same run:
//  - one agent running the whole model as one stage vs a plain in-process LibTorch loop;
//  - 2-stage gpipe on 2 agents (one torch thread each) vs the plain single-thread loop;
//  - 8 local agents spawned, handshaken and profiled (time to the first iteration);
//  - agent resident memory with the default CNN.
// Prints a table and `RATIO <name> <value>` lines. Usage: bench_pipeline [iterations]
#include <malloc.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <mutex>

#include "core/controller/controller.h"
#include "core/data/dataset.h"
#include "core/data/sampler.h"
#include "core/model/layer_chain.h"
#include "core/model/stage.h"
#include "core/runlog/event_kinds.h"
#include "tests/support/scratch_dir.h"

namespace edgerig {
namespace {

using Clock = std::chrono::steady_clock;

ExperimentConfig base(int devices, int iterations) {
  ExperimentConfig c;
  c.name = "bench";
  c.seed = 1;
  c.local_count = devices;
  c.model = "cnn";
  c.dataset = "fashion-mnist";
  c.test_limit = 500;
  c.batch_size = 64;
  c.algorithm.params.set("microBatches", int64_t{4});
  c.max_iterations = iterations;
  c.eval_every = 0;
  c.threads_per_agent = 1;
  return c;
}

// Samples per second of the plain single-process loop on the same batches.
double plainLoop(const ExperimentConfig& c) {
  torch::set_num_threads(c.threads_per_agent);
  auto chain = LayerChain::build(c.model, c.seed);
  StageModule model(*chain, 0, chain->numLayers());
  torch::optim::SGD opt(model->parameters(),
                        torch::optim::SGDOptions(c.learning_rate).momentum(c.momentum));
  auto data = loadFashionMnist(kFashionMnistDir, Split::kTrain, 0);
  if (!data) {
    std::fprintf(stderr, "%s\n", data.status().message().c_str());
    std::exit(1);
  }
  EpochSampler sampler(data->size(), c.batch_size, c.seed);
  auto step = [&](int64_t it) {
    auto [x, y] = *gatherBatch(*data, sampler.batch(it));
    auto loss = torch::nn::functional::cross_entropy(model->forward(x), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
  };
  for (int it = 0; it < 5; ++it) step(it);  // warm-up
  const auto t0 = Clock::now();
  for (int64_t it = 0; it < c.max_iterations; ++it) step(it);
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  return c.max_iterations * c.batch_size / s;
}

struct PipelineRun {
  double samples_per_s = 0;
  double profiled_s = 0;  // run start to devices spawned, handshaken and profiled (plan made)
  double setup_s = 0;     // run start to the first training iteration
  double max_rss_mb = 0;
  double accuracy = 0;
};

PipelineRun pipeline(ExperimentConfig c, const std::string& dir) {
  PipelineRun r;
  std::mutex mu;
  const auto t0 = Clock::now();
  RunObserver obs;
  obs.on_event = [&](const RunEvent& e) {
    std::lock_guard lock(mu);
    const double t = std::chrono::duration<double>(Clock::now() - t0).count();
    if (e.kind == events::kPlanChanged && r.profiled_s == 0) r.profiled_s = t;
    if (e.kind == events::kTrainingStarted) r.setup_s = t;
  };
  ControllerOptions opts;
  opts.run_dir = dir;
  Controller controller(c, opts, obs);
  auto s = controller.run();
  if (!s.ok) {
    std::fprintf(stderr, "pipeline run failed: %s\n", s.error.c_str());
    std::exit(1);
  }
  r.samples_per_s = s.samples_per_s;
  r.accuracy = s.test_accuracy;
  for (const auto& d : s.devices) r.max_rss_mb = std::max(r.max_rss_mb, d.resident_mb);
  return r;
}

}  // namespace
}  // namespace edgerig

int main(int argc, char** argv) {
  using namespace edgerig;
  // The same heap settings as edgerig-agent, so the reference loop is not handicapped.
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 150;
  const testsupport::ScratchDir scratch("bench-pipeline");  // run folders, removed at exit
  const std::string tmp = scratch.path("run");

  auto one = base(1, iterations);
  one.algorithm.params.set("plan", std::string("even"));
  one.algorithm.params.set("microBatches", int64_t{1});  // the same batch as the plain loop
  const double plain = plainLoop(one);
  const auto single = pipeline(one, tmp + "-one");

  auto two = base(2, iterations);
  two.algorithm.params.set("plan", std::string("balanced"));
  const auto piped = pipeline(two, tmp + "-two");

  auto eight = base(8, 1);
  eight.model = "vgg";
  const auto many = pipeline(eight, tmp + "-eight");

  std::printf("%-48s %12s\n", "measurement", "value");
  std::printf("%-48s %12.1f\n", "plain loop, 1 thread (samples/s)", plain);
  std::printf("%-48s %12.1f\n", "1 agent, whole model as one stage (samples/s)",
              single.samples_per_s);
  std::printf("%-48s %12.1f\n", "gpipe 2 agents, balanced, M=4 (samples/s)", piped.samples_per_s);
  std::printf("%-48s %12.2f\n", "8 agents spawned+handshaken+profiled (s)", many.profiled_s);
  std::printf("%-48s %12.2f\n", "8 agents ready to train, vgg (s)", many.setup_s);
  std::printf("%-48s %12.0f\n", "max agent RSS, cnn (MiB)",
              std::max(single.max_rss_mb, piped.max_rss_mb));
  std::printf("RATIO agent_one_stage_vs_plain %.3f\n", single.samples_per_s / plain);
  std::printf("RATIO gpipe2_vs_plain %.3f\n", piped.samples_per_s / plain);
  std::printf("FIGURE testbed8_profiled_s %.2f\n", many.profiled_s);
  std::printf("FIGURE agent_rss_mib %.0f\n", std::max(single.max_rss_mb, piped.max_rss_mb));
  std::system(("rm -rf " + tmp + "-one " + tmp + "-two " + tmp + "-eight").c_str());
  return 0;
}
