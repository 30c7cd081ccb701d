// The experiment file: every field read, defaults, and messages that name the field.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>

#include "core/catalog/catalog.h"
#include "core/experiment/experiment.h"
#include "tests/support/scratch_dir.h"

namespace edgerig {
namespace {

// The real zoo and registry (gpipe's parameters and checks), plus "demo", an algorithm that
// declares one parameter of every kind, for the generic checks.
ExperimentNames testNames() {
  ExperimentNames n = knownNames();
  AlgorithmInfo demo;
  demo.name = "demo";
  demo.family = "decentralized";
  demo.params = {
      {"rounds", "rounds", ParamSpec::Kind::kInt, "", int64_t{3}, 1, 10, {}},
      {"gamma", "gamma", ParamSpec::Kind::kDouble, "", 0.5, 0, 1, {}},
      {"skew", "skew", ParamSpec::Kind::kBool, "", false, 0, 0, {}},
      {"graph",
       "graph",
       ParamSpec::Kind::kChoice,
       "",
       std::string("ring"),
       0,
       0,
       {"ring", "torus"}},
      {"peers", "peers", ParamSpec::Kind::kIntList, "", IntList{}, 0, 7, {}},
      {"weights", "weights", ParamSpec::Kind::kDoubleList, "", DoubleList{0.5}, 0, 1, {}},
  };
  n.algorithms.push_back(demo);
  return n;
}

// The defaults an absent experiment means: every declared parameter of the default algorithm.
ExperimentConfig defaults() {
  ExperimentConfig c;
  fillAlgorithmDefaults(c, testNames());
  return c;
}

// Every field of the schema, none at its default; mixes both spellings the mapping accepts.
constexpr const char* kFullExample = R"({
  "name": "straggler-demo",
  "description": "three devices, the middle one freezes",
  "seed": "18446744073709551615",
  "devices": {
    "localCount": 2,
    "profiles": [
      {"name": "pi", "slowdown": 4, "delayMs": 5, "jitterMs": 1, "bandwidthMbps": 100,
       "dropProbability": 0.01},
      {"name": "laptop"}
    ],
    "remote": ["jetson.local:7000", "[::1]:7001"],
    "token_file": "token.txt",
    "threadsPerAgent": 2
  },
  "model": {"name": "lenet5"},
  "dataset": {"name": "synthetic", "dataDir": "/data/fmnist", "trainLimit": 6000,
              "testLimit": "1000", "syntheticSize": 512},
  "algorithm": {"name": "gpipe", "microBatches": 8, "plan": "balanced", "cuts": [2, 4, 6]},
  "training": {"batchSize": 128, "learningRate": 0.01, "momentum": 0.5, "weightDecay": 0.0001,
               "epochs": 2.5, "maxIterations": 5000, "evalEvery": 100, "evalSamples": 0,
               "max_seconds": 600,
               "lrSchedule": [{"atIteration": 3000, "factor": 0.1}, {"at_iteration": "4000",
                              "factor": 0.5}]},
  "faults": [
    {"atS": 30, "device": 1, "kind": "freeze", "freezeS": 10},
    {"atIteration": 200, "device": 3, "kind": "link", "delayMs": 50, "jitterMs": 10,
     "bandwidthMbps": 20, "dropProbability": 0.05},
    {"at_s": 12.5, "device": 0, "kind": "slowdown", "slowdown": 3},
    {"atIteration": 400, "device": 0, "kind": "crash"}
  ]
})";

ExperimentConfig fullExpected() {
  ExperimentConfig c;
  c.name = "straggler-demo";
  c.description = "three devices, the middle one freezes";
  c.seed = std::numeric_limits<uint64_t>::max();
  c.local_count = 2;
  c.profiles = {{"pi", 4, 5, 1, 100, 0.01}, {"laptop", 1, 0, 0, 0, 0}};
  c.remote = {"jetson.local:7000", "[::1]:7001"};
  c.token_file = "token.txt";
  c.threads_per_agent = 2;
  c.model = "lenet5";
  c.dataset = "synthetic";
  c.data_dir = "/data/fmnist";
  c.train_limit = 6000;
  c.test_limit = 1000;
  c.synthetic_size = 512;
  c.algorithm.name = "gpipe";
  c.algorithm.params.set("microBatches", int64_t{8});
  c.algorithm.params.set("plan", std::string("balanced"));
  c.algorithm.params.set("cuts", IntList{2, 4, 6});
  c.batch_size = 128;
  c.learning_rate = 0.01;
  c.momentum = 0.5;
  c.weight_decay = 0.0001;
  c.epochs = 2.5;
  c.max_iterations = 5000;
  c.eval_every = 100;
  c.eval_samples = 0;
  c.max_seconds = 600;
  c.lr_schedule = {{3000, 0.1}, {4000, 0.5}};
  FaultConfig freeze;
  freeze.at_s = 30;
  freeze.device = 1;
  freeze.kind = "freeze";
  freeze.freeze_s = 10;
  FaultConfig link;
  link.at_iteration = 200;
  link.device = 3;
  link.kind = "link";
  link.delay_ms = 50;
  link.jitter_ms = 10;
  link.bandwidth_mbps = 20;
  link.drop_probability = 0.05;
  FaultConfig slow;
  slow.at_s = 12.5;
  slow.kind = "slowdown";
  slow.slowdown = 3;
  FaultConfig crash;
  crash.at_iteration = 400;
  crash.kind = "crash";
  c.faults = {freeze, link, slow, crash};
  return c;
}

std::string errorOf(std::string_view json) {
  auto c = parseExperiment(json, "quickstart.json", testNames());
  return c ? std::string("(parsed)") : c.status().message();
}

TEST(ParseExperiment, AFullExampleReadsEveryField) {
  auto c = parseExperiment(kFullExample, "full.json", testNames());
  ASSERT_TRUE(c) << c.status().message();
  const ExperimentConfig expected = fullExpected();
  EXPECT_EQ(c->profiles, expected.profiles);
  EXPECT_EQ(c->faults, expected.faults);
  EXPECT_EQ(*c, expected);
  EXPECT_EQ(c->numDevices(), 4);
}

TEST(ParseExperiment, AbsentFieldsTakeTheDefaults) {
  auto c = parseExperiment("{}", "empty.json", testNames());
  ASSERT_TRUE(c) << c.status().message();
  EXPECT_EQ(*c, defaults());
  EXPECT_EQ(c->numDevices(), 3);
  EXPECT_EQ(c->algorithm.params.getInt("microBatches"), 4);  // gpipe's declared default

  c = parseExperiment(R"({"devices": {"localCount": null}, "training": {"momentum": 0}})", "x",
                      testNames());
  ASSERT_TRUE(c) << c.status().message();
  EXPECT_EQ(c->local_count, 3);
  EXPECT_EQ(c->momentum, 0);  // set to zero is not absent
  EXPECT_EQ(c->batch_size, 64);
}

TEST(ParseExperiment, AnUnknownFieldIsNamedWithWhatIsKnown) {
  EXPECT_EQ(errorOf(R"({"nme": "x"})")
                .rfind("quickstart.json: field nme: unknown field; the "
                       "experiment has: name, description, seed",
                       0),
            0u)
      << errorOf(R"({"nme": "x"})");
  const std::string nested = errorOf(R"({"training": {"batchSize": 8, "bogus": 1}})");
  EXPECT_NE(nested.find("field training.bogus: unknown field; training has: batchSize"),
            std::string::npos)
      << nested;
  const std::string in_list = errorOf(R"({"faults": [{"kind": "crash"}, {"knd": "crash"}]})");
  EXPECT_NE(in_list.find("field faults.1.knd: unknown field"), std::string::npos) << in_list;
}

TEST(ParseExperiment, AWrongTypeIsNamedAsTheFileSpellsIt) {
  EXPECT_EQ(errorOf(R"({"training": {"batchSize": "x"}})"),
            "quickstart.json: field training.batchSize: expected an integer, got \"x\"");
  EXPECT_EQ(errorOf(R"({"training": {"batch_size": 1.5}})"),
            "quickstart.json: field training.batch_size: expected an integer, got 1.5");
  EXPECT_EQ(errorOf(R"({"training": {"batchSize": 3000000000}})"),
            "quickstart.json: field training.batchSize: expected an integer from -2147483648 to "
            "2147483647, got 3000000000");
  EXPECT_EQ(errorOf(R"({"seed": -1})"),
            "quickstart.json: field seed: expected a non-negative integer, got -1");
  EXPECT_EQ(errorOf(R"({"name": 5})"), "quickstart.json: field name: expected a string, got 5");
  EXPECT_EQ(errorOf(R"({"training": {"learningRate": true}})"),
            "quickstart.json: field training.learningRate: expected a number, got true");
  EXPECT_EQ(errorOf(R"({"training": 5})"),
            "quickstart.json: field training: expected an object {...}, got 5");
  EXPECT_EQ(errorOf(R"({"devices": {"remote": "a:1"}})"),
            "quickstart.json: field devices.remote: expected a list [...], got \"a:1\"");
  EXPECT_EQ(errorOf(R"({"faults": [{"kind": "crash"}, {"device": "a"}]})"),
            "quickstart.json: field faults.1.device: expected an integer, got \"a\"");
  EXPECT_EQ(errorOf(R"({"algorithm": {"cuts": [1, null]}})"),
            "quickstart.json: field algorithm.cuts.1: expected an integer, got null");
  EXPECT_EQ(errorOf(R"({"training": {"batchSize": 8, "batch_size": 8}})"),
            "quickstart.json: field training.batch_size: given twice (also as batchSize)");
}

TEST(ParseExperiment, ValuesTheJsonMappingAllowsAreAccepted) {
  auto c = parseExperiment(
      R"({"training": {"batchSize": "32", "maxIterations": 1e3, "learningRate": "0.5"}})", "x",
      testNames());
  ASSERT_TRUE(c) << c.status().message();
  EXPECT_EQ(c->batch_size, 32);
  EXPECT_EQ(c->max_iterations, 1000);
  EXPECT_EQ(c->learning_rate, 0.5);
}

TEST(ParseExperiment, BrokenJsonSaysWhere) {
  const std::string e = errorOf("{\n  \"name\": \"x\",\n}");
  EXPECT_EQ(e.rfind("quickstart.json: invalid JSON: ", 0), 0u) << e;
  EXPECT_NE(e.find("line 3"), std::string::npos) << e;
  EXPECT_EQ(errorOf("[1, 2]"), "quickstart.json: the experiment must be a JSON object, got [1,2]");
}

TEST(ParseExperiment, BadValuesAreNamed) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"devices": {"localCount": -1}})", "field devices.localCount: must be at least 0"},
      {R"({"devices": {"localCount": 0}})", "field devices: no devices"},
      {R"({"devices": {"localCount": 1, "profiles": [{}, {}]}})",
       "field devices.profiles: 2 profiles for 1 local devices"},
      {R"({"devices": {"profiles": [{}, {"slowdown": 0.5}]}})",
       "field devices.profiles.1.slowdown: must be at least 1"},
      {R"({"devices": {"profiles": [{"dropProbability": 1}]}})",
       "field devices.profiles.0.dropProbability: must be in [0, 1), got 1"},
      {R"({"devices": {"remote": ["pi.local"]}})",
       "field devices.remote.0: address 'pi.local' has no port"},
      {R"({"devices": {"remote": ["pi.local:0"]}})",
       "field devices.remote.0: address 'pi.local:0' has port 0"},
      {R"({"devices": {"remote": ["::1:7000"]}})",
       "field devices.remote.0: address '::1:7000' looks like a bare IPv6 address"},
      {R"({"devices": {"threadsPerAgent": 0}})",
       "field devices.threadsPerAgent: must be at least 1"},
      {R"({"model": {"name": "resnet"}})",
       "field model.name: unknown model \"resnet\"; known: mlp, lenet5, cnn, vgg"},
      {R"({"dataset": {"name": "cifar"}})",
       "field dataset.name: unknown dataset \"cifar\"; known: fashion-mnist, synthetic"},
      {R"({"algorithm": {"name": "gossip"}})",
       "field algorithm.name: unknown algorithm \"gossip\"; known: gpipe, ftpipehd, respipe, "
       "allreduce, "
       "dpsgd, sgp"},
      {R"({"algorithm": {"plan": "random"}})",
       "field algorithm.plan: unknown choice \"random\"; one of even, even-cost, balanced"},
      {R"({"algorithm": {"microBatch": 2}})",
       "field algorithm.microBatch: unknown parameter of gpipe; gpipe takes: microBatches, plan, "
       "cuts"},
      {R"({"algorithm": {"name": "allreduce", "microBatches": 2}})",
       "field algorithm.microBatches: unknown parameter of allreduce; allreduce takes: bucketMiB"},
      {R"({"algorithm": {"microBatches": "four"}})",
       "field algorithm.microBatches: expected an integer, got \"four\""},
      {R"({"algorithm": {"name": 3}})", "field algorithm.name: expected a string, got 3"},
      {R"({"algorithm": 3})", "field algorithm: expected an object {...}, got 3"},
      {R"({"algorithm": {"name": "demo", "rounds": 11}})",
       "field algorithm.rounds: must be from 1 to 10, got 11"},
      {R"({"algorithm": {"name": "demo", "gamma": "x"}})",
       "field algorithm.gamma: expected a number, got \"x\""},
      {R"({"algorithm": {"name": "demo", "skew": 1}})",
       "field algorithm.skew: expected true or false, got 1"},
      {R"({"algorithm": {"name": "demo", "peers": [1, 8]}})",
       "field algorithm.peers.1: must be from 0 to 7, got 8"},
      {R"({"algorithm": {"name": "demo", "weights": [0.5, "a"]}})",
       "field algorithm.weights.1: expected a number, got \"a\""},
      {R"({"algorithm": {"name": "demo", "rounds": 2, "rounds_": 3}})",
       "field algorithm.rounds_: given twice (also as rounds)"},
      {R"({"algorithm": {"name": "demo", "rounds": 2, "ROUNDS": 3}})",
       "field algorithm.ROUNDS: unknown parameter of demo"},
      {R"({"dataset": {"split": "random"}})",
       "field dataset.split: unknown split \"random\"; known: iid, dirichlet, classes"},
      {R"({"dataset": {"split": "dirichlet", "alpha": 0}})",
       "field dataset.alpha: must be above 0"},
      {R"({"dataset": {"split": "classes", "classesPerDevice": 0}})",
       "field dataset.classesPerDevice: must be at least 1"},
      {R"({"training": {"batchSize": 0}})", "field training.batchSize: must be at least 1, got 0"},
      {R"({"algorithm": {"microBatches": 0}})",
       "field algorithm.microBatches: must be from 1 to 1024, got 0"},
      {R"({"algorithm": {"microBatches": 9}, "training": {"batchSize": 8}})",
       "field algorithm.microBatches: must be at most training.batchSize (8), got 9"},
      {R"({"algorithm": {"cuts": [3, 3]}})",
       "field algorithm.cuts.1: cut points must be strictly increasing, got 3 after 3"},
      {R"({"algorithm": {"cuts": [0, 2]}})", "field algorithm.cuts.0: must be at least 1"},
      {R"({"algorithm": {"cuts": [2]}})",
       "field algorithm.cuts: 1 cut points make 2 stages but the run has 3 devices"},
      {R"({"model": {"name": "mlp"}, "algorithm": {"cuts": [1, 3]}})",
       "field algorithm.cuts: cut 3 is past the last layer of 'mlp' (3 layers: cuts go from 1 to "
       "2)"},
      {R"({"training": {"learningRate": 0}})", "field training.learningRate: must be above 0"},
      {R"({"training": {"learningRate": "NaN"}})",
       "field training.learningRate: must be above 0, got nan"},
      {R"({"training": {"momentum": 1}})", "field training.momentum: must be in [0, 1)"},
      {R"({"training": {"lrSchedule": [{"atIteration": 10}]}})",
       "field training.lrSchedule.0.factor: must be above 0, got 0"},
      {R"({"training": {"lrSchedule": [{"factor": 0.1}]}})",
       "field training.lrSchedule.0.atIteration: must be at least 1, got 0"},
      {R"({"training": {"lrSchedule": [{"atIteration": 9, "factor": 0.1},
                                        {"atIteration": 9, "factor": 0.1}]}})",
       "field training.lrSchedule.1.atIteration: must be after the step before it (iteration 9), "
       "got 9"},
      {R"({"training": {"lrSchedule": [{"atIteration": 5, "factor": -1}]}})",
       "field training.lrSchedule.0.factor: must be above 0, got -1"},
      {R"({"training": {"lrSchedule": {"atIteration": 5}}})",
       "field training.lrSchedule: expected a list [...]"},
      {R"({"training": {"epochs": 0}})", "field training.epochs: no stop rule"},
      {R"({"training": {"evalEvery": -5}})", "field training.evalEvery: must be at least 0"},
      {R"({"faults": [{"device": 3, "kind": "crash"}]})",
       "field faults.0.device: device 3 does not exist; devices are 0..2"},
      {R"({"faults": [{"device": 0}]})", "field faults.0.kind: missing; one of slowdown, link"},
      {R"({"faults": [{"kind": "explode"}]})", "field faults.0.kind: unknown fault kind"},
      {R"({"faults": [{"kind": "freeze"}]})",
       "field faults.0.freezeS: must be above 0 for a freeze"},
      {R"({"faults": [{"kind": "link", "dropProbability": 1.5}]})",
       "field faults.0.dropProbability: must be in [0, 1)"},
      {R"({"faults": [{"kind": "link", "delayMs": -1}]})",
       "field faults.0.delayMs: must be at least 0"},
      {R"({"faults": [{"kind": "crash", "atS": -2}]})", "field faults.0.atS: must be at least 0"},
      // The limits the agent enforces too (core/experiment/fault_limits.h), one past each.
      {R"({"faults": [{"kind": "slowdown", "slowdown": 1000.5}]})",
       "field faults.0.slowdown: must be at most 1000, got 1000.5"},
      {R"({"faults": [{"kind": "freeze", "freezeS": 3601}]})",
       "field faults.0.freezeS: must be at most 3600, got 3601"},
      {R"({"faults": [{"kind": "link", "jitterMs": 60001}]})",
       "field faults.0.jitterMs: must be at most 60000, got 60001"},
      {R"({"faults": [{"kind": "link", "bandwidthMbps": 1e300}]})",
       "field faults.0.bandwidthMbps: must be at most 1e+06, got 1e+300"},
      {R"({"faults": [{"kind": "link", "bandwidthMbps": 1e-9}]})",
       "field faults.0.bandwidthMbps: must be 0 (unlimited) or at least 0.001, got 1e-09"},
      {R"({"faults": [{"kind": "link", "bandwidthMbps": 20, "peers": [0]}]})",
       "field faults.0.peers: device 0 is the device itself"},
      {R"({"faults": [{"kind": "link", "peers": [5]}]})",
       "field faults.0.peers: device 5 does not exist; devices are 0..2"},
      {R"({"faults": [{"kind": "crash", "device": 2, "peers": [1]}]})",
       "field faults.0.peers: only a link fault takes peers (this one is crash)"},
      {R"({"devices": {"profiles": [{"bandwidthMbps": 20, "peers": [1, 1]}]}})",
       "field devices.profiles.0.peers: device 1 is listed twice"},
  };
  for (const auto& [json, expected] : cases) {
    const std::string e = errorOf(json);
    EXPECT_EQ(e.rfind(std::string("quickstart.json: ") + expected, 0), 0u)
        << json << "\n  gave: " << e;
  }
  // Zero epochs is fine with an iteration limit.
  EXPECT_EQ(errorOf(R"({"training": {"epochs": 0, "maxIterations": 10}})"), "(parsed)");
}

TEST(ParseExperiment, EmptyModelListAcceptsAnyModel) {
  ExperimentNames names = testNames();
  names.models.clear();
  auto c = parseExperiment(R"({"model": {"name": "anything"}})", "x", names);
  ASSERT_TRUE(c) << c.status().message();
  EXPECT_EQ(c->model, "anything");
}

TEST(ParseExperiment, AlgorithmParametersOfEveryKindAndEitherSpelling) {
  auto c = parseExperiment(
      R"({"algorithm": {"name": "demo", "rounds": "7", "gamma": 1, "skew": true,
                        "graph": "torus", "peers": [0, 7], "weights": [0.25, 1]}})",
      "x", testNames());
  ASSERT_TRUE(c) << c.status().message();
  const auto& p = c->algorithm.params;
  EXPECT_EQ(p.getInt("rounds"), 7);
  EXPECT_EQ(p.getDouble("gamma"), 1.0);
  EXPECT_TRUE(p.getBool("skew"));
  EXPECT_EQ(p.getString("graph"), "torus");
  EXPECT_EQ(p.getIntList("peers"), (IntList{0, 7}));
  EXPECT_EQ(p.getDoubleList("weights"), (DoubleList{0.25, 1}));
  // snake_case spelling, and absent parameters take their declared defaults.
  c = parseExperiment(R"({"algorithm": {"name": "gpipe", "micro_batches": 2}})", "x", testNames());
  ASSERT_TRUE(c) << c.status().message();
  EXPECT_EQ(c->algorithm.params.getInt("microBatches"), 2);
  EXPECT_EQ(c->algorithm.params.getString("plan"), "even");
  EXPECT_EQ(c->algorithm.params.all().size(), 3u);
}

TEST(ValidateExperiment, ParametersSetInCodeGetTheFileChecks) {
  ExperimentConfig c = defaults();
  c.algorithm.params.set("microBatches", int64_t{0});
  auto st = validateExperiment(c, testNames());
  EXPECT_EQ(st.message(), "field algorithm.microBatches: must be from 1 to 1024, got 0");
  c = defaults();
  c.algorithm.params.set("nonsense", int64_t{1});
  st = validateExperiment(c, testNames());
  EXPECT_EQ(st.message().rfind("field algorithm.nonsense: unknown parameter of gpipe", 0), 0u)
      << st.message();
  c = ExperimentConfig{};  // no parameters at all: they are the declared defaults
  EXPECT_TRUE(validateExperiment(c, testNames())) << validateExperiment(c, testNames()).message();
}

TEST(ToJson, IsCompleteAndReadsBackEqual) {
  const ExperimentConfig full = fullExpected();
  const std::string json = toJson(full);
  auto back = parseExperiment(json, "<toJson>", testNames());
  ASSERT_TRUE(back) << back.status().message() << "\n" << json;
  EXPECT_EQ(*back, full);

  const std::string defaults_json = toJson(defaults());
  for (const char* field : {"\"name\"",
                            "\"description\"",
                            "\"seed\": 1",
                            "\"localCount\": 3",
                            "\"profiles\": []",
                            "\"remote\": []",
                            "\"tokenFile\"",
                            "\"threadsPerAgent\"",
                            "\"dataDir\"",
                            "\"trainLimit\"",
                            "\"testLimit\"",
                            "\"syntheticSize\"",
                            "\"split\": \"iid\"",
                            "\"alpha\": 0.5",
                            "\"classesPerDevice\": 2",
                            "\"name\": \"gpipe\"",
                            "\"microBatches\": 4",
                            "\"plan\": \"even\"",
                            "\"cuts\": []",
                            "\"batchSize\": 64",
                            "\"learningRate\": 0.05",
                            "\"momentum\": 0.9",
                            "\"weightDecay\"",
                            "\"epochs\"",
                            "\"maxIterations\"",
                            "\"evalEvery\": 200",
                            "\"evalSamples\": 1000",
                            "\"maxSeconds\"",
                            "\"faults\": []"}) {
    EXPECT_NE(defaults_json.find(field), std::string::npos) << field << " missing in\n"
                                                            << defaults_json;
  }
  auto parsed_defaults = parseExperiment(defaults_json, "<toJson>", testNames());
  ASSERT_TRUE(parsed_defaults) << parsed_defaults.status().message();
  EXPECT_EQ(*parsed_defaults, defaults());
  EXPECT_EQ(defaults_json.find("\"seed\": \"1\""), std::string::npos);  // numbers stay numbers
}

TEST(LoadExperiment, ReadsAFileAndNamesAMissingOne) {
  const testsupport::ScratchDir scratch("tst-experiment");
  const auto& dir = scratch.path();
  const std::string file = (dir / "quick.json").string();
  std::ofstream(file) << R"({"name": "quick", "training": {"batchSize": "x"}})";
  auto c = loadExperiment(file, testNames());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.status().message(),
            file + ": field training.batchSize: expected an integer, got \"x\"");

  std::ofstream(file) << R"({"name": "quick"})";
  c = loadExperiment(file, testNames());
  ASSERT_TRUE(c) << c.status().message();
  EXPECT_EQ(c->name, "quick");

  const std::string missing = (dir / "nope.json").string();
  c = loadExperiment(missing, testNames());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find(missing), std::string::npos) << c.status().message();
}

}  // namespace
}  // namespace edgerig
