// Every experiment shipped in resources/experiments (seeds included) parses and validates against
// the names this build knows (models, algorithms), so a README example never fails on a typo.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/catalog/catalog.h"
#include "core/controller/controller.h"
#include "core/experiment/experiment.h"

namespace edgerig {
namespace {

TEST(ExampleExperiments, EveryShippedExperimentLoads) {
  const std::filesystem::path dir =
      std::filesystem::path(std::getenv("EDGERIG_SOURCE_DIR")) / "resources" / "experiments";
  int count = 0;
  // seeds/ too: each seed's base experiment (scripts/reproduce.sh --check runs their variants).
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++count;
    auto cfg = loadExperiment(entry.path().string(), knownNames());
    EXPECT_TRUE(cfg.isOk()) << entry.path() << ": " << cfg.status().message();
  }
  EXPECT_GE(count, 4);
}

TEST(ExampleExperiments, QuickstartIsTheIssuesDefault) {
  const std::string path =
      std::string(std::getenv("EDGERIG_SOURCE_DIR")) + "/resources/experiments/quickstart.json";
  auto cfg = loadExperiment(path, knownNames());
  ASSERT_TRUE(cfg.isOk()) << cfg.status().message();
  EXPECT_EQ(cfg->numDevices(), 3);
  EXPECT_EQ(cfg->model, "cnn");
  EXPECT_EQ(cfg->dataset, "fashion-mnist");
  EXPECT_EQ(cfg->algorithm.name, "gpipe");
  EXPECT_EQ(cfg->epochs, 1.0);
}

}  // namespace
}  // namespace edgerig
