// The runs of a comparison: --variant and --sweep parsed, a sweep makes one run per value that
// differs from the experiment in exactly the swept field, two sweeps make a grid, variants and
// files are axes too, --set reaches every run, one seed for all, and bad settings are named.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "core/catalog/catalog.h"
#include "core/experiment/compare_plan.h"

namespace edgerig {
namespace {

using Json = nlohmann::json;

const char* kBase = R"({"name": "base", "seed": 5, "model": {"name": "mlp"},
  "algorithm": {"name": "gpipe", "microBatches": 4, "plan": "even"},
  "training": {"maxIterations": 10}})";

// The JSON as leaf paths and values, written here rather than taken from the code under test.
void leaves(const Json& j, const std::string& at, std::map<std::string, Json>* out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) leaves(v, at.empty() ? k : at + "." + k, out);
  } else {
    (*out)[at] = j;
  }
}

// The paths whose values differ between two experiment texts.
std::vector<std::string> differences(const std::string& a, const std::string& b) {
  std::map<std::string, Json> la, lb;
  leaves(Json::parse(a), "", &la);
  leaves(Json::parse(b), "", &lb);
  std::vector<std::string> out;
  for (const auto& [k, v] : la) {
    if (!lb.count(k) || lb[k] != v) out.push_back(k);
  }
  for (const auto& [k, v] : lb) {
    if (!la.count(k)) out.push_back(k);
  }
  return out;
}

std::vector<std::string> names(const std::vector<PlannedRun>& runs) {
  std::vector<std::string> out;
  for (const auto& r : runs) out.push_back(r.name);
  return out;
}

CompareSpec base() {
  CompareSpec s;
  s.experiments = {{"base", kBase}};
  s.names = knownNames();
  return s;
}

TEST(ComparePlan, ParsesVariantsAndSweeps) {
  auto v = parseVariant("even:algorithm.plan=even, training.maxIterations=30");
  ASSERT_TRUE(v.isOk()) << v.status().message();
  EXPECT_EQ(v->name, "even");
  EXPECT_EQ(v->assignments,
            (std::vector<std::string>{"algorithm.plan=even", "training.maxIterations=30"}));
  v = parseVariant("cut:algorithm.cuts=[3,5],seed=2");
  ASSERT_TRUE(v.isOk());
  EXPECT_EQ(v->assignments, (std::vector<std::string>{"algorithm.cuts=[3,5]", "seed=2"}));
  v = parseVariant("as-is:");
  ASSERT_TRUE(v.isOk());
  EXPECT_TRUE(v->assignments.empty());
  EXPECT_FALSE(parseVariant("algorithm.plan=even").isOk());  // no name
  EXPECT_FALSE(parseVariant(":algorithm.plan=even").isOk());
  EXPECT_FALSE(parseVariant("x:plan").isOk());

  auto s = parseSweep("algorithm.microBatches=2,4,8");
  ASSERT_TRUE(s.isOk());
  EXPECT_EQ(s->path, "algorithm.microBatches");
  EXPECT_EQ(s->values, (std::vector<std::string>{"2", "4", "8"}));
  EXPECT_FALSE(parseSweep("algorithm.microBatches").isOk());
  EXPECT_FALSE(parseSweep("a=1,,2").isOk());
  EXPECT_EQ(splitTopLevel(R"(a={"x":1,"y":2},b="p,q",c=[1,2])"),
            (std::vector<std::string>{R"(a={"x":1,"y":2})", R"(b="p,q")", "c=[1,2]"}));
}

TEST(ComparePlan, ASweepDiffersInExactlyTheSweptField) {
  CompareSpec spec = base();
  spec.sweeps = {*parseSweep("algorithm.plan=even,balanced")};
  auto runs = planComparison(spec);
  ASSERT_TRUE(runs.isOk()) << runs.status().message();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ(names(*runs), (std::vector<std::string>{"plan=even", "plan=balanced"}));
  // The base already says "even": the first run is it; the second differs in the plan only.
  EXPECT_TRUE(differences(kBase, (*runs)[0].json).empty());
  EXPECT_EQ(differences(kBase, (*runs)[1].json), (std::vector<std::string>{"algorithm.plan"}));
  EXPECT_EQ(Json::parse((*runs)[1].json)["algorithm"]["plan"], "balanced");
  EXPECT_EQ((*runs)[1].assignments, (std::vector<std::string>{"algorithm.plan=balanced"}));
}

TEST(ComparePlan, TwoSweepsMakeAGrid) {
  CompareSpec spec = base();
  spec.sweeps = {*parseSweep("algorithm.plan=even,balanced"),
                 *parseSweep("algorithm.microBatches=2,8")};
  auto runs = planComparison(spec);
  ASSERT_TRUE(runs.isOk()) << runs.status().message();
  EXPECT_EQ(names(*runs), (std::vector<std::string>{
                              "plan=even_microBatches=2", "plan=even_microBatches=8",
                              "plan=balanced_microBatches=2", "plan=balanced_microBatches=8"}));
  const Json last = Json::parse(runs->back().json);
  EXPECT_EQ(last["algorithm"]["plan"], "balanced");
  EXPECT_EQ(last["algorithm"]["microBatches"], 8);
  EXPECT_EQ(differences(kBase, runs->back().json),
            (std::vector<std::string>{"algorithm.microBatches", "algorithm.plan"}));
}

TEST(ComparePlan, VariantsAreAnAxisAndSetReachesEveryRun) {
  CompareSpec spec = base();
  spec.variants = {*parseVariant("even:algorithm.plan=even"),
                   *parseVariant("balanced:algorithm.plan=balanced")};
  spec.sweeps = {*parseSweep("training.batchSize=32,64")};
  spec.overrides = {"training.maxIterations=3", "training.batchSize=16"};
  auto runs = planComparison(spec);
  ASSERT_TRUE(runs.isOk()) << runs.status().message();
  ASSERT_EQ(runs->size(), 4u);
  EXPECT_EQ(runs->front().name, "even_batchSize=32");
  for (const auto& r : *runs) {
    const Json j = Json::parse(r.json);
    EXPECT_EQ(j["training"]["maxIterations"], 3) << r.name;
    // A run's own settings come after --set: the sweep's batch size wins.
    EXPECT_NE(j["training"]["batchSize"], 16) << r.name;
    EXPECT_EQ(j["seed"], 5) << r.name;
  }
}

TEST(ComparePlan, FilesAreComparedOnTheFirstOnesSeed) {
  CompareSpec spec = base();
  spec.experiments = {{"a", kBase}, {"b", R"({"name": "b", "seed": 9})"}, {"c", R"({})"}};
  auto runs = planComparison(spec);
  ASSERT_TRUE(runs.isOk()) << runs.status().message();
  EXPECT_EQ(names(*runs), (std::vector<std::string>{"a", "b", "c"}));
  for (const auto& r : *runs) EXPECT_EQ(Json::parse(r.json)["seed"], 5) << r.name;
  EXPECT_EQ(Json::parse((*runs)[1].json)["name"], "b");
  // A sweep of the seed itself still wins.
  spec.sweeps = {*parseSweep("seed=1,2")};
  runs = planComparison(spec);
  ASSERT_TRUE(runs.isOk());
  EXPECT_EQ(runs->size(), 6u);
  EXPECT_EQ(Json::parse((*runs)[3].json)["seed"], 2);
  EXPECT_EQ((*runs)[3].name, "b_seed=2");
}

TEST(ComparePlan, OneExperimentAloneIsOneRunAndNamesAreUnique) {
  auto runs = planComparison(base());
  ASSERT_TRUE(runs.isOk());
  EXPECT_EQ(names(*runs), (std::vector<std::string>{"base"}));
  CompareSpec spec = base();
  spec.variants = {*parseVariant("x y:seed=1"), *parseVariant("x/y:seed=2")};
  runs = planComparison(spec);
  ASSERT_TRUE(runs.isOk());
  EXPECT_EQ(names(*runs), (std::vector<std::string>{"x_y", "x_y-2"}));
  EXPECT_EQ(runFolderName("../a b"), "_._a_b");
  EXPECT_EQ(runFolderName(""), "run");
}

TEST(ComparePlan, ABadSettingNamesTheRunAndThePath) {
  CompareSpec spec = base();
  spec.variants = {*parseVariant("ok:seed=2"), *parseVariant("typo:training.batchSiz=8")};
  auto runs = planComparison(spec);
  ASSERT_FALSE(runs.isOk());
  EXPECT_NE(runs.status().message().find("run typo"), std::string::npos) << runs.status().message();
  EXPECT_NE(runs.status().message().find("batchSiz"), std::string::npos) << runs.status().message();
  // An algorithm's parameters are checked against its declaration when a run is read (as
  // edgerig-run compare does before the first run starts), not by the plan's path walk.
  spec.variants = {*parseVariant("typo:algorithm.plna=even")};
  runs = planComparison(spec);
  ASSERT_TRUE(runs.isOk()) << runs.status().message();
  auto parsed = parseExperiment((*runs)[0].json, "typo", knownNames());
  ASSERT_FALSE(parsed.isOk());
  EXPECT_NE(parsed.status().message().find("algorithm.plna: unknown parameter of gpipe"),
            std::string::npos)
      << parsed.status().message();
}

}  // namespace
}  // namespace edgerig
