#include "core/experiment/experiment.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/experiment/experiment_schema.h"
#include "core/experiment/fault_limits.h"
#include "device_bridge/address.h"
#include "edgerig.pb.h"

namespace edgerig {
namespace {

using google::protobuf::FieldDescriptor;

// ---------------------------------------------------------------------------------------------
// wire::Experiment <-> ExperimentConfig

ExperimentConfig fromWire(const wire::Experiment& e) {
  ExperimentConfig c;
  if (e.has_name()) c.name = e.name();
  if (e.has_description()) c.description = e.description();
  if (e.has_seed()) c.seed = e.seed();

  const auto& d = e.devices();
  if (d.has_local_count()) c.local_count = d.local_count();
  for (const auto& p : d.profiles()) {
    DeviceProfileConfig q;
    if (p.has_name()) q.name = p.name();
    if (p.has_slowdown()) q.slowdown = p.slowdown();
    if (p.has_delay_ms()) q.delay_ms = p.delay_ms();
    if (p.has_jitter_ms()) q.jitter_ms = p.jitter_ms();
    if (p.has_bandwidth_mbps()) q.bandwidth_mbps = p.bandwidth_mbps();
    if (p.has_drop_probability()) q.drop_probability = p.drop_probability();
    q.peers.assign(p.peers().begin(), p.peers().end());
    c.profiles.push_back(std::move(q));
  }
  c.remote.assign(d.remote().begin(), d.remote().end());
  if (d.has_token_file()) c.token_file = d.token_file();
  if (d.has_threads_per_agent()) c.threads_per_agent = d.threads_per_agent();
  if (d.has_tls()) c.tls = d.tls();

  if (e.model().has_name()) c.model = e.model().name();

  const auto& ds = e.dataset();
  if (ds.has_name()) c.dataset = ds.name();
  if (ds.has_data_dir()) c.data_dir = ds.data_dir();
  if (ds.has_train_limit()) c.train_limit = ds.train_limit();
  if (ds.has_test_limit()) c.test_limit = ds.test_limit();
  if (ds.has_synthetic_size()) c.synthetic_size = ds.synthetic_size();
  if (ds.has_split()) c.split = ds.split();
  if (ds.has_alpha()) c.alpha = ds.alpha();
  if (ds.has_classes_per_device()) c.classes_per_device = ds.classes_per_device();
  // The algorithm object is read from the JSON document, against the registry (parseExperiment).

  const auto& t = e.training();
  if (t.has_batch_size()) c.batch_size = t.batch_size();
  if (t.has_learning_rate()) c.learning_rate = t.learning_rate();
  if (t.has_momentum()) c.momentum = t.momentum();
  if (t.has_weight_decay()) c.weight_decay = t.weight_decay();
  if (t.has_epochs()) c.epochs = t.epochs();
  if (t.has_max_iterations()) c.max_iterations = t.max_iterations();
  if (t.has_eval_every()) c.eval_every = t.eval_every();
  if (t.has_eval_samples()) c.eval_samples = t.eval_samples();
  if (t.has_max_seconds()) c.max_seconds = t.max_seconds();
  for (const auto& l : t.lr_schedule()) c.lr_schedule.push_back({l.at_iteration(), l.factor()});

  for (const auto& f : e.faults()) {
    FaultConfig g;
    if (f.has_at_s()) g.at_s = f.at_s();
    if (f.has_at_iteration()) g.at_iteration = f.at_iteration();
    if (f.has_device()) g.device = f.device();
    if (f.has_kind()) g.kind = f.kind();
    if (f.has_slowdown()) g.slowdown = f.slowdown();
    if (f.has_delay_ms()) g.delay_ms = f.delay_ms();
    if (f.has_jitter_ms()) g.jitter_ms = f.jitter_ms();
    if (f.has_bandwidth_mbps()) g.bandwidth_mbps = f.bandwidth_mbps();
    if (f.has_drop_probability()) g.drop_probability = f.drop_probability();
    if (f.has_freeze_s()) g.freeze_s = f.freeze_s();
    g.peers.assign(f.peers().begin(), f.peers().end());
    c.faults.push_back(std::move(g));
  }
  return c;
}

wire::Experiment toWire(const ExperimentConfig& c) {
  wire::Experiment e;
  e.set_name(c.name);
  e.set_description(c.description);
  e.set_seed(c.seed);

  auto* d = e.mutable_devices();
  d->set_local_count(c.local_count);
  for (const auto& q : c.profiles) {
    auto* p = d->add_profiles();
    p->set_name(q.name);
    p->set_slowdown(q.slowdown);
    p->set_delay_ms(q.delay_ms);
    p->set_jitter_ms(q.jitter_ms);
    p->set_bandwidth_mbps(q.bandwidth_mbps);
    p->set_drop_probability(q.drop_probability);
    for (int peer : q.peers) p->add_peers(peer);
  }
  for (const auto& r : c.remote) d->add_remote(r);
  d->set_token_file(c.token_file);
  d->set_threads_per_agent(c.threads_per_agent);
  d->set_tls(c.tls);

  e.mutable_model()->set_name(c.model);

  auto* ds = e.mutable_dataset();
  ds->set_name(c.dataset);
  ds->set_data_dir(c.data_dir);
  ds->set_train_limit(c.train_limit);
  ds->set_test_limit(c.test_limit);
  ds->set_synthetic_size(c.synthetic_size);
  ds->set_split(c.split);
  ds->set_alpha(c.alpha);
  ds->set_classes_per_device(c.classes_per_device);
  // The algorithm object is written by toJson from c.algorithm.

  auto* t = e.mutable_training();
  t->set_batch_size(c.batch_size);
  t->set_learning_rate(c.learning_rate);
  t->set_momentum(c.momentum);
  t->set_weight_decay(c.weight_decay);
  t->set_epochs(c.epochs);
  t->set_max_iterations(c.max_iterations);
  t->set_eval_every(c.eval_every);
  t->set_eval_samples(c.eval_samples);
  t->set_max_seconds(c.max_seconds);
  for (const auto& l : c.lr_schedule) {
    auto* step = t->add_lr_schedule();
    step->set_at_iteration(l.at_iteration);
    step->set_factor(l.factor);
  }

  for (const auto& g : c.faults) {
    auto* f = e.add_faults();
    f->set_at_s(g.at_s);
    f->set_at_iteration(g.at_iteration);
    f->set_device(g.device);
    f->set_kind(g.kind);
    f->set_slowdown(g.slowdown);
    f->set_delay_ms(g.delay_ms);
    f->set_jitter_ms(g.jitter_ms);
    f->set_bandwidth_mbps(g.bandwidth_mbps);
    f->set_drop_probability(g.drop_probability);
    f->set_freeze_s(g.freeze_s);
    for (int peer : g.peers) f->add_peers(peer);
  }
  return e;
}

// ---------------------------------------------------------------------------------------------
// Semantic checks. The first problem found is reported; comparisons are written so that NaN fails
// them.

class Checks {
 public:
  Status result() const { return first_; }

  void fail(const std::string& field, const std::string& what) {
    if (first_.isOk()) first_ = fieldError(field, what);
  }
  void fail(const Status& s) {
    if (first_.isOk() && !s.isOk()) first_ = s;
  }
  void atLeast(const std::string& field, double v, double lo, const std::string& why = "") {
    if (!(v >= lo) || std::isinf(v)) {
      fail(field, "must be at least " + num(lo) + why + ", got " + num(v));
    }
  }
  void above(const std::string& field, double v, double lo, const std::string& why = "") {
    if (!(v > lo) || std::isinf(v)) {
      fail(field, "must be above " + num(lo) + why + ", got " + num(v));
    }
  }
  void atMost(const std::string& field, double v, double hi) {
    if (!(v <= hi)) fail(field, "must be at most " + num(hi) + ", got " + num(v));
  }
  void fraction(const std::string& field, double v) {  // [0, 1)
    if (!(v >= 0 && v < 1)) fail(field, "must be in [0, 1), got " + num(v));
  }
  void known(const std::string& field, const std::string& what, const std::string& v,
             const std::vector<std::string>& names) {
    if (names.empty() || std::find(names.begin(), names.end(), v) != names.end()) return;
    fail(field, "unknown " + what + " \"" + v + "\"; known: " + joinNames(names));
  }

  static std::string num(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
  }

 private:
  Status first_;
};

void checkLink(Checks& k, const std::string& at, double slowdown, double delay_ms, double jitter_ms,
               double bandwidth_mbps, double drop_probability) {
  k.atLeast(at + ".slowdown", slowdown, 1, " (1 = native speed; emulation can only slow down)");
  k.atMost(at + ".slowdown", slowdown, kMaxSlowdown);
  k.atLeast(at + ".delayMs", delay_ms, 0);
  k.atMost(at + ".delayMs", delay_ms, kMaxLinkDelayMs);
  k.atLeast(at + ".jitterMs", jitter_ms, 0);
  k.atMost(at + ".jitterMs", jitter_ms, kMaxLinkDelayMs);
  k.atLeast(at + ".bandwidthMbps", bandwidth_mbps, 0, " (0 = unlimited)");
  k.atMost(at + ".bandwidthMbps", bandwidth_mbps, kMaxBandwidthMbps);
  if (bandwidth_mbps > 0 && bandwidth_mbps < kMinBandwidthMbps) {
    k.fail(at + ".bandwidthMbps", "must be 0 (unlimited) or at least " +
                                      Checks::num(kMinBandwidthMbps) + ", got " +
                                      Checks::num(bandwidth_mbps));
  }
  k.fraction(at + ".dropProbability", drop_probability);
}

// The devices a link shaping applies to: each an index of another device, once.
void checkPeers(Checks& k, const std::string& at, const std::vector<int>& peers, int self,
                int devices) {
  std::vector<int> seen;
  for (int p : peers) {
    if (p < 0 || p >= devices) {
      k.fail(at, "device " + std::to_string(p) + " does not exist; devices are 0.." +
                     std::to_string(devices - 1));
    } else if (p == self) {
      k.fail(at, "device " + std::to_string(p) + " is the device itself");
    } else if (std::find(seen.begin(), seen.end(), p) != seen.end()) {
      k.fail(at, "device " + std::to_string(p) + " is listed twice");
    }
    seen.push_back(p);
  }
}

// The experiment's `algorithm` object: its name (gpipe when absent) and parameters, checked
// against that algorithm's declaration.
Result<AlgorithmConfig> algorithmFromDocument(const Json& doc, const ExperimentNames& names) {
  AlgorithmConfig a;
  const Json* obj = nullptr;
  if (auto it = doc.find("algorithm"); it != doc.end() && !it->is_null()) obj = &*it;
  if (obj != nullptr && obj->contains("name") && !(*obj)["name"].is_null()) {
    if (!(*obj)["name"].is_string()) {
      return fieldError("algorithm.name", "expected a string, got " + (*obj)["name"].dump());
    }
    a.name = (*obj)["name"].get<std::string>();
  }
  const AlgorithmInfo* info = names.algorithm(a.name);
  if (info == nullptr) {
    return fieldError("algorithm.name", "unknown algorithm \"" + a.name +
                                            "\"; known: " + joinNames(names.algorithmNames()));
  }
  auto params = paramsFromObject(obj ? *obj : Json::object(), *info, "algorithm");
  if (!params) return params.status();
  a.params = std::move(params).value();
  return a;
}

}  // namespace

Status applyOverride(std::string& json, std::string_view assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return invalidArgument("--set " + std::string(assignment) +
                           ": expected path=value, e.g. training.batchSize=32");
  }
  const std::string path(assignment.substr(0, eq));
  const std::string raw(assignment.substr(eq + 1));
  const std::string prefix = "--set " + path + ": ";
  try {
    Json root = Json::object();
    if (json.find_first_not_of(" \t\r\n") != std::string::npos) {
      auto doc = parseJsonText(json);
      if (!doc) return invalidArgument(prefix + "the experiment text is " + doc.status().message());
      root = std::move(*doc);
      if (!root.is_object()) return invalidArgument(prefix + "the experiment is not a JSON object");
    }
    auto target = walkPath(root, path);
    if (!target) return invalidArgument(prefix + target.status().message());

    Json value = Json::parse(raw, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) value = raw;
    if (target->free) {  // an algorithm parameter: its declaration decides the type later
      *target->node = std::move(value);
      json = root.dump(2) + "\n";
      return Status::ok();
    }
    const FieldDescriptor* f = target->field;
    const bool whole_list = f->is_repeated() && !target->element;
    if (whole_list && !value.is_array() && !value.is_null()) value = Json::array({value});
    // A string field takes the text as written: name=2024 is the name "2024".
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      if (!whole_list && !value.is_string() && !value.is_null()) value = raw;
      if (whole_list && value.is_array()) {
        for (auto& e : value) {
          if (e.is_number() || e.is_boolean()) e = e.dump();
        }
      }
    }
    *target->node = std::move(value);
    json = root.dump(2) + "\n";
    return Status::ok();
  } catch (const std::exception& e) {
    return internalError(prefix + "could not apply: " + e.what());
  }
}

Status validateExperiment(const ExperimentConfig& c, const ExperimentNames& names) {
  Checks k;
  if (c.name.empty()) k.fail("name", "must not be empty (it names the run folder)");
  k.atLeast("devices.localCount", c.local_count, 0);
  if (c.numDevices() < 1) {
    k.fail("devices", "no devices; set devices.localCount to 1 or more or list devices.remote");
  }
  if (static_cast<int>(c.profiles.size()) > c.local_count) {
    k.fail("devices.profiles", std::to_string(c.profiles.size()) + " profiles for " +
                                   std::to_string(c.local_count) +
                                   " local devices; remove some or raise devices.localCount");
  }
  for (size_t i = 0; i < c.profiles.size(); ++i) {
    const auto& p = c.profiles[i];
    checkLink(k, "devices.profiles." + std::to_string(i), p.slowdown, p.delay_ms, p.jitter_ms,
              p.bandwidth_mbps, p.drop_probability);
    checkPeers(k, "devices.profiles." + std::to_string(i) + ".peers", p.peers, static_cast<int>(i),
               c.numDevices());
  }
  for (size_t i = 0; i < c.remote.size(); ++i) {
    auto address = bridge::parseHostPort(c.remote[i]);  // what the controller will dial
    if (!address) {
      k.fail("devices.remote." + std::to_string(i), address.status().message());
    } else if (address->port == 0) {
      k.fail("devices.remote." + std::to_string(i),
             "address '" + c.remote[i] + "' has port 0; give the port the agent listens on");
    }
  }
  k.atLeast("devices.threadsPerAgent", c.threads_per_agent, 1);

  k.known("model.name", "model", c.model, names.models);
  k.known("dataset.name", "dataset", c.dataset, names.datasets);
  k.atLeast("dataset.trainLimit", static_cast<double>(c.train_limit), 0, " (0 = all)");
  k.atLeast("dataset.testLimit", static_cast<double>(c.test_limit), 0, " (0 = all)");
  k.atLeast("dataset.syntheticSize", static_cast<double>(c.synthetic_size), 0);

  k.known("dataset.split", "split", c.split, kSplitKinds);
  if (c.split == "dirichlet") k.above("dataset.alpha", c.alpha, 0);
  if (c.split == "classes") k.atLeast("dataset.classesPerDevice", c.classes_per_device, 1);
  k.atLeast("training.batchSize", c.batch_size, 1);
  if (const AlgorithmInfo* info = names.algorithm(c.algorithm.name); info == nullptr) {
    k.fail("algorithm.name", "unknown algorithm \"" + c.algorithm.name +
                                 "\"; known: " + joinNames(names.algorithmNames()));
  } else if (k.result()) {
    // Parameters set in code (the GUI, a switch) get the same checks as those read from a file;
    // absent ones are the declared defaults, as in a file.
    auto checked = paramsFromObject(paramsObject(c.algorithm.params), *info, "algorithm");
    if (!checked) {
      k.fail(checked.status());
    } else if (info->check) {
      ExperimentConfig filled = c;
      filled.algorithm.params = std::move(checked).value();
      k.fail(info->check(filled));
    }
  }

  k.above("training.learningRate", c.learning_rate, 0);
  k.fraction("training.momentum", c.momentum);
  k.atLeast("training.weightDecay", c.weight_decay, 0);
  k.atLeast("training.epochs", c.epochs, 0);
  k.atLeast("training.maxIterations", static_cast<double>(c.max_iterations), 0, " (0 = no limit)");
  if (!(c.epochs > 0) && c.max_iterations <= 0) {
    k.fail("training.epochs",
           "no stop rule; set training.epochs or training.maxIterations above 0");
  }
  k.atLeast("training.evalEvery", static_cast<double>(c.eval_every), 0, " (0 = only at the end)");
  k.atLeast("training.evalSamples", static_cast<double>(c.eval_samples), 0,
            " (0 = whole test split)");
  k.atLeast("training.maxSeconds", c.max_seconds, 0, " (0 = no limit)");
  for (size_t i = 0; i < c.lr_schedule.size(); ++i) {
    const auto& l = c.lr_schedule[i];
    const std::string at = "training.lrSchedule." + std::to_string(i);
    k.atLeast(at + ".atIteration", static_cast<double>(l.at_iteration), 1);
    k.above(at + ".factor", l.factor, 0);
    if (i > 0 && l.at_iteration <= c.lr_schedule[i - 1].at_iteration) {
      k.fail(at + ".atIteration", "must be after the step before it (iteration " +
                                      std::to_string(c.lr_schedule[i - 1].at_iteration) +
                                      "), got " + std::to_string(l.at_iteration));
    }
  }

  for (size_t i = 0; i < c.faults.size(); ++i) {
    const auto& f = c.faults[i];
    const std::string at = "faults." + std::to_string(i);
    k.atLeast(at + ".atS", f.at_s, 0);
    k.atLeast(at + ".atIteration", static_cast<double>(f.at_iteration), 0);
    if (f.device < 0 || f.device >= c.numDevices()) {
      k.fail(at + ".device", "device " + std::to_string(f.device) +
                                 " does not exist; devices are 0.." +
                                 std::to_string(c.numDevices() - 1));
    }
    if (f.kind.empty()) k.fail(at + ".kind", "missing; one of " + joinNames(kFaultKinds));
    k.known(at + ".kind", "fault kind", f.kind, kFaultKinds);
    checkLink(k, at, f.slowdown, f.delay_ms, f.jitter_ms, f.bandwidth_mbps, f.drop_probability);
    checkPeers(k, at + ".peers", f.peers, f.device, c.numDevices());
    if (!f.peers.empty() && f.kind != "link") {
      k.fail(at + ".peers", "only a link fault takes peers (this one is " + f.kind + ")");
    }
    if (f.kind == "freeze") k.above(at + ".freezeS", f.freeze_s, 0, " for a freeze");
    k.atLeast(at + ".freezeS", f.freeze_s, 0);
    k.atMost(at + ".freezeS", f.freeze_s, kMaxFreezeS);
  }
  return k.result();
}

Result<ExperimentConfig> parseExperiment(std::string_view json, std::string_view source,
                                         const ExperimentNames& names) {
  const std::string from = std::string(source) + ": ";
  try {
    auto doc = parseJsonText(json);
    if (!doc) return invalidArgument(from + doc.status().message());
    if (Status s = checkMessage(*doc, wire::Experiment::descriptor(), ""); !s) {
      return invalidArgument(from + s.message());
    }
    wire::Experiment e;
    auto parsed = google::protobuf::util::JsonStringToMessage(std::string(json), &e);
    if (!parsed.ok()) return invalidArgument(from + std::string(parsed.message()));
    ExperimentConfig c = fromWire(e);
    if (auto a = algorithmFromDocument(*doc, names); !a) {
      return invalidArgument(from + a.status().message());
    } else {
      c.algorithm = std::move(a).value();
    }
    if (Status s = validateExperiment(c, names); !s) return invalidArgument(from + s.message());
    return c;
  } catch (const std::exception& e) {
    return internalError(from + "could not read the experiment: " + e.what());
  }
}

Result<ExperimentConfig> loadExperiment(const std::string& path, const ExperimentNames& names) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return notFound("experiment file " + path + " cannot be opened (" + std::strerror(errno) +
                    "); check the path");
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return unavailable("experiment file " + path + " cannot be read");
  return parseExperiment(text.str(), path, names);
}

std::string toJson(const ExperimentConfig& c) {
  Json doc = messageJson(toWire(c));
  Json algorithm = Json::object();
  algorithm["name"] = c.algorithm.name;
  const Json params = paramsObject(c.algorithm.params);
  for (const auto& [k, v] : params.items()) algorithm[k] = v;
  doc["algorithm"] = std::move(algorithm);
  return doc.dump(2) + "\n";
}

const AlgorithmInfo* ExperimentNames::algorithm(std::string_view name) const {
  for (const auto& a : algorithms) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::vector<std::string> ExperimentNames::algorithmNames() const {
  std::vector<std::string> out;
  for (const auto& a : algorithms) out.push_back(a.name);
  return out;
}

void fillAlgorithmDefaults(ExperimentConfig& c, const ExperimentNames& names) {
  const AlgorithmInfo* info = names.algorithm(c.algorithm.name);
  if (info == nullptr) return;
  for (const auto& spec : info->params) {
    if (!c.algorithm.params.has(spec.name)) c.algorithm.params.set(spec.name, spec.default_value);
  }
}

std::string describeAlgorithm(const AlgorithmConfig& a, const ExperimentNames& names) {
  return describeAlgorithm(a, names.algorithm(a.name));
}

}  // namespace edgerig
