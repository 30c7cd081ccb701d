// A short real run of the quickstart experiment (3 agents, cnn, Fashion-MNIST, gpipe)
// reaches a sane accuracy, and leaves a run folder that exports.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/catalog/catalog.h"
#include "core/controller/controller.h"
#include "core/runlog/run_reader.h"
#include "tests/support/scratch_dir.h"

namespace edgerig {
namespace {

TEST(QuickstartAccuracy, ShortRunLearnsAndLeavesARunFolder) {
  std::ifstream in(std::string(std::getenv("EDGERIG_SOURCE_DIR")) +
                   "/resources/experiments/quickstart.json");
  ASSERT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string json = ss.str();
  ASSERT_TRUE(applyOverride(json, "training.maxIterations=250").isOk());
  ASSERT_TRUE(applyOverride(json, "training.evalEvery=125").isOk());
  ASSERT_TRUE(applyOverride(json, "dataset.testLimit=2000").isOk());
  auto cfg = parseExperiment(json, "quickstart.json", knownNames());
  ASSERT_TRUE(cfg.isOk()) << cfg.status().message();

  const testsupport::ScratchDir scratch("quick");
  const std::string dir = scratch.path("run");
  ControllerOptions opts;
  opts.run_dir = dir;
  Controller controller(*cfg, opts);
  auto summary = controller.run();
  ASSERT_TRUE(summary.ok) << summary.error;
  EXPECT_EQ(summary.iterations, 250);
  EXPECT_GT(summary.test_accuracy, 0.72) << "250 iterations of the cnn should pass 72 %";
  ASSERT_EQ(summary.devices.size(), 3u);
  for (const auto& d : summary.devices) {
    EXPECT_GT(d.busy_s, 0) << d.name;
    EXPECT_GT(d.bytes_sent, 0u) << d.name;
    EXPECT_LT(d.resident_mb, 400) << d.name;
  }

  auto run = readRun(dir);
  ASSERT_TRUE(run.isOk()) << run.status().message();
  EXPECT_FALSE(run->config_json.empty());
  EXPECT_EQ(run->partitions.size(), 3u);
  int test_acc = 0;
  for (const auto& m : run->metrics) test_acc += m.metric == "test_accuracy" ? 1 : 0;
  EXPECT_EQ(test_acc, 2);  // one periodic evaluation and the final one
  EXPECT_TRUE(exportWide(dir, dir + "/wide.csv").isOk());
  EXPECT_TRUE(std::filesystem::exists(dir + "/agents/dev0.log"));
}

}  // namespace
}  // namespace edgerig
