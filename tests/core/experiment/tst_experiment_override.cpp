// --set path=value on the experiment's JSON text.
#include <gtest/gtest.h>

#include "core/catalog/catalog.h"
#include "core/experiment/experiment.h"

namespace edgerig {
namespace {

constexpr const char* kBase = R"({
  "name": "base",
  "training": {"batch_size": 32, "learningRate": 0.1},
  "devices": {"localCount": 3, "remote": ["a:1"]},
  "faults": [{"device": 0, "kind": "crash", "atS": 5}]
})";

ExperimentConfig parsed(const std::string& json) {
  auto c = parseExperiment(json, "<--set>", knownNames());
  EXPECT_TRUE(c) << c.status().message() << "\n" << json;
  return c ? *c : ExperimentConfig{};
}

std::string applied(std::string json, std::string_view assignment) {
  Status s = applyOverride(json, assignment);
  EXPECT_TRUE(s) << assignment << ": " << s.message();
  return json;
}

TEST(ApplyOverride, SetsNestedNumbersInEitherSpelling) {
  std::string json = applied(kBase, "training.batchSize=128");
  json = applied(json, "training.learning_rate=0.5");
  ExperimentConfig c = parsed(json);
  EXPECT_EQ(c.batch_size, 128);
  EXPECT_EQ(c.learning_rate, 0.5);
  // The key the file already used is replaced, not doubled.
  EXPECT_NE(json.find("\"batch_size\": 128"), std::string::npos) << json;
  EXPECT_EQ(json.find("batchSize"), std::string::npos) << json;
  EXPECT_NE(json.find("\"learningRate\": 0.5"), std::string::npos) << json;
}

TEST(ApplyOverride, CreatesMissingObjects) {
  ExperimentConfig c = parsed(applied(kBase, "algorithm.microBatches=2"));
  EXPECT_EQ(c.algorithm.params.getInt("microBatches"), 2);
  c = parsed(applied("", "model.name=mlp"));
  EXPECT_EQ(c.model, "mlp");
  c = parsed(applied(kBase, R"(training={"epochs": 3})"));  // a whole object replaces the old one
  EXPECT_EQ(c.epochs, 3);
  EXPECT_EQ(c.batch_size, 64);
}

TEST(ApplyOverride, StringsAreTakenAsWritten) {
  ExperimentConfig c = parsed(applied(kBase, "name=straggler demo"));
  EXPECT_EQ(c.name, "straggler demo");
  c = parsed(applied(kBase, "name=2024"));  // a string field keeps digits as text
  EXPECT_EQ(c.name, "2024");
  c = parsed(applied(kBase, "description=\"quoted\""));
  EXPECT_EQ(c.description, "quoted");
  c = parsed(applied(kBase, "dataset.dataDir=/data/a=b"));  // only the first '=' splits
  EXPECT_EQ(c.data_dir, "/data/a=b");
}

TEST(ApplyOverride, IndexesAndReplacesLists) {
  ExperimentConfig c = parsed(applied(kBase, "faults.0.device=2"));
  ASSERT_EQ(c.faults.size(), 1u);
  EXPECT_EQ(c.faults[0].device, 2);
  EXPECT_EQ(c.faults[0].at_s, 5);  // the rest of the element stays

  c = parsed(applied(applied(kBase, "faults.1.kind=freeze"), "faults.1.freezeS=3"));
  ASSERT_EQ(c.faults.size(), 2u);
  EXPECT_EQ(c.faults[1].kind, "freeze");
  EXPECT_EQ(c.faults[1].freeze_s, 3);

  c = parsed(applied(kBase, "devices.remote=[\"b:2\", \"c:3\"]"));
  EXPECT_EQ(c.remote, (std::vector<std::string>{"b:2", "c:3"}));
  c = parsed(applied(kBase, "devices.remote.1=pi.local:7000"));
  EXPECT_EQ(c.remote, (std::vector<std::string>{"a:1", "pi.local:7000"}));
  c = parsed(applied(kBase, "devices.remote=d:4"));  // one value for a list is a list of one
  EXPECT_EQ(c.remote, (std::vector<std::string>{"d:4"}));
  c = parsed(applied(kBase, "algorithm.cuts=[1,3,5]"));  // 4 devices, 6 layers of the cnn
  EXPECT_EQ(c.algorithm.params.getIntList("cuts"), (IntList{1, 3, 5}));
  c = parsed(applied(applied(kBase, "algorithm.cuts=[1,3,5]"), "algorithm.cuts.1=2"));
  EXPECT_EQ(c.algorithm.params.getIntList("cuts"), (IntList{1, 2, 5}));
  c = parsed(applied(kBase, "faults=[]"));
  EXPECT_TRUE(c.faults.empty());
}

TEST(ApplyOverride, AnyAlgorithmsParametersInEitherSpelling) {
  // The algorithm object is checked against the registry, not the schema: every algorithm's
  // parameters can be set, and a mistake is named when the result is parsed.
  std::string json = applied(applied(kBase, "algorithm.name=allreduce"), "algorithm.bucketMiB=4");
  ExperimentConfig c = parsed(json);
  EXPECT_EQ(c.algorithm.name, "allreduce");
  EXPECT_EQ(c.algorithm.params.getDouble("bucketMiB"), 4.0);
  json = applied(json, "algorithm.bucket_mi_b=8");  // replaces the key the file already uses
  EXPECT_EQ(json.find("bucket_mi_b"), std::string::npos) << json;
  EXPECT_EQ(parsed(json).algorithm.params.getDouble("bucketMiB"), 8.0);
  json = applied(json, "algorithm.microBatches=2");  // not allreduce's
  auto bad = parseExperiment(json, "<--set>", knownNames());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.status().message().rfind(
                "<--set>: field algorithm.microBatches: unknown parameter of allreduce", 0),
            0u)
      << bad.status().message();
}

TEST(ApplyOverride, NullRemovesAValue) {
  ExperimentConfig c = parsed(applied(kBase, "training.batchSize=null"));
  EXPECT_EQ(c.batch_size, 64);
}

TEST(ApplyOverride, ABadPathIsNamed) {
  const std::pair<const char*, const char*> cases[] = {
      {"training.batchSiz=3",
       "--set training.batchSiz: training has no field \"batchSiz\"; known: batchSize,"},
      {"trainig.batchSize=3", "--set trainig.batchSize: the experiment has no field \"trainig\""},
      {"faults.5.kind=crash",
       "--set faults.5.kind: index 5 is past the end of faults (1 elements; .1 appends)"},
      {"faults.first.kind=crash",
       "--set faults.first.kind: faults is a list; expected an index (.0, .1, ...), got \"first\""},
      {"name.first=x", "--set name.first: name is a single value; it has no field \"first\""},
      {"training..batchSize=3", "--set training..batchSize: empty name in the path"},
      {"training.=3", "--set training.: empty name at the end of the path"},
      {"batchSize", "--set batchSize: expected path=value"},
      {"=3", "--set =3: expected path=value"},
  };
  for (const auto& [assignment, expected] : cases) {
    std::string json = kBase;
    Status s = applyOverride(json, assignment);
    ASSERT_FALSE(s) << assignment;
    EXPECT_EQ(s.message().rfind(expected, 0), 0u) << assignment << "\n  gave: " << s.message();
    EXPECT_EQ(json, kBase) << "a failed --set must leave the text alone";
  }
}

TEST(ApplyOverride, ATypeMistakeIsCaughtWhenParsing) {
  std::string json = applied(kBase, "training.batchSize=big");
  auto c = parseExperiment(json, "<--set>", knownNames());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.status().message(),
            "<--set>: field training.batch_size: expected an integer, got \"big\"");
}

TEST(ApplyOverride, BrokenJsonIsReported) {
  std::string json = "{\"name\": ";
  Status s = applyOverride(json, "name=x");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.message().rfind("--set name: the experiment text is invalid JSON: ", 0), 0u)
      << s.message();
}

}  // namespace
}  // namespace edgerig
