// The algorithm registry: every entry's declaration is coherent (its defaults pass its own
// checks), names are unique, unknown names are refused with the list of known ones, and no code
// outside an algorithm's folder and its family's registration line names an algorithm.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/algorithms/registry.h"
#include "core/catalog/catalog.h"

namespace edgerig {
namespace {

TEST(Registry, HoldsBothFamiliesWithCoherentDeclarations) {
  const auto& infos = algorithmCatalog();
  std::set<std::string> names, families;
  for (const auto& info : infos) {
    EXPECT_TRUE(names.insert(info.name).second) << "duplicate " << info.name;
    families.insert(info.family);
    EXPECT_FALSE(info.summary.empty()) << info.name;
    std::set<std::string> params;
    for (const auto& p : info.params) {
      EXPECT_TRUE(params.insert(p.name).second) << info.name << "." << p.name << " twice";
      EXPECT_EQ(camelCase(p.name), p.name) << "parameters are spelled lowerCamelCase";
      EXPECT_FALSE(p.help.empty()) << info.name << "." << p.name;
      EXPECT_LE(p.min, p.max) << info.name << "." << p.name;
    }
    // The declared defaults pass the declaration's own checks, through the same JSON an
    // agent receives.
    auto back = paramsFromJson(paramsJson(defaultParams(info)), info);
    ASSERT_TRUE(back) << info.name << ": " << back.status().message();
    EXPECT_EQ(*back, defaultParams(info)) << info.name;
    EXPECT_NE(algorithmRegistry().find(info.name), nullptr);
  }
  EXPECT_TRUE(names.count("gpipe") && names.count("allreduce"));
  EXPECT_EQ(families, (std::set<std::string>{"pipeline", "decentralized"}));
  EXPECT_FALSE(findAlgorithm("gpipe")->fault_tolerant);
  EXPECT_TRUE(findAlgorithm("allreduce")->fault_tolerant);
}

TEST(Registry, AnUnknownNameListsTheKnownOnes) {
  const AlgorithmRegistry& r = algorithmRegistry();
  EXPECT_EQ(r.find("gossip"), nullptr);
  std::string known;
  for (const auto& n : r.names()) known += (known.empty() ? "" : ", ") + n;
  // Worker side (the agent builds by name as well).
  wire::WorkerStart start;
  start.set_algorithm("gossip");
  class NullContext : public WorkerContext {
   public:
    int device() const override { return 0; }
    int numDevices() const override { return 1; }
    uint64_t seed() const override { return 1; }
    const wire::RunSettings& run() const override { return run_; }
    const AlgorithmParams& params() const override { return params_; }
    ComputeMeter& meter() override { return meter_; }
    std::shared_ptr<spdlog::logger> log() override { return nullptr; }
    Result<const Dataset*> trainSet() override { return notFound("none"); }
    Result<const Dataset*> testSet() override { return notFound("none"); }
    Result<const std::vector<int64_t>*> shard() override { return notFound("none"); }
    void send(int, wire::AlgoMessage) override {}
    void sendToController(wire::AlgoMessage) override {}
    void setIteration(int64_t) override {}
    TimerHandle schedule(std::chrono::milliseconds, std::function<void()>) override { return {}; }

   private:
    wire::RunSettings run_;
    AlgorithmParams params_;
    ComputeMeter meter_;
  } ctx;
  auto w = r.makeWorker("gossip", ctx, start);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(w.status().message(), "unknown algorithm 'gossip'; known: " + known);
}

TEST(Registry, DescribeNamesWhatDiffersFromTheDefaults) {
  const ExperimentNames names = knownNames();
  AlgorithmConfig a{"gpipe", defaultParams(*findAlgorithm("gpipe"))};
  EXPECT_EQ(describeAlgorithm(a, names), "gpipe");
  a.params.set("microBatches", int64_t{2});
  a.params.set("cuts", IntList{3, 5});
  EXPECT_EQ(describeAlgorithm(a, names), "gpipe (microBatches 2, cuts [3, 5])");
  AlgorithmConfig b{"allreduce", {}};
  b.params.set("bucketMiB", 0.5);
  EXPECT_EQ(describeAlgorithm(b, names), "allreduce (bucketMiB 0.5)");
}

// "No code outside the registry tests an algorithm's name": outside each algorithm's own folder
// and its family's one registration line, no source names an algorithm in a string. The
// experiment's default (kDefaultAlgorithm) is the one exception, and it is named here.
TEST(Registry, NoCodeOutsideTheRegistryNamesAnAlgorithm) {
  const char* root = std::getenv("EDGERIG_SOURCE_DIR");
  ASSERT_NE(root, nullptr) << "EDGERIG_SOURCE_DIR is set by CTest";
  namespace fs = std::filesystem;
  const std::set<std::string> allowed = {"core/experiment/algorithm_params.h"};
  std::vector<std::string> offenders;
  for (const char* top : {"core", "ui", "app", "device_bridge"}) {
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(root) / top)) {
      const std::string ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".cpp" && ext != ".h")) continue;
      const std::string rel = fs::relative(entry.path(), root).string();
      // An algorithm's own folder: core/algorithms/<family>/<algorithm>/.
      const bool own_folder = rel.rfind("core/algorithms/pipeline/", 0) == 0 ||
                              rel.rfind("core/algorithms/decentralized/", 0) == 0;
      if (own_folder || allowed.count(rel)) continue;
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      for (const auto& info : algorithmCatalog()) {
        if (text.str().find("\"" + info.name + "\"") != std::string::npos) {
          offenders.push_back(rel + " names \"" + info.name + "\"");
        }
      }
    }
  }
  EXPECT_TRUE(offenders.empty()) << [&] {
    std::string all;
    for (const auto& o : offenders) all += "\n  " + o;
    return all;
  }();
}

}  // namespace
}  // namespace edgerig
