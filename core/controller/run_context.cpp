// The RunContext a coordinator sees: starting workers, sending, waiting (with the stash of
// messages nobody waited for yet), lost devices, events, metrics and the run's layout.
#include <algorithm>
#include <cmath>

#include "core/controller/controller_run.h"
#include "core/runlog/event_kinds.h"
#include "device_bridge/log.h"

namespace edgerig {
namespace {
auto log() { return bridge::logger("edgerig.controller"); }
}  // namespace

void Controller::Run::event(const std::string& kind, const std::string& detail, int device,
                            const EventFields& fields) {
  RunEvent e{now(), iteration_, device >= 0 ? pool_->name(device) : std::string(),
             kind,  detail,     fields};
  if (log_) log_->append(e);
  // The observer shows events to the user; the log keeps them for whoever reads logs.
  const bool bad =
      kind == events::kRunFailed || kind == events::kError || kind == events::kDeviceLost;
  log()->log(bad ? spdlog::level::warn : spdlog::level::debug, "{}{}: {}",
             e.device.empty() ? "" : e.device + ": ", kind, detail);
  if (owner_.observer_.on_event) owner_.observer_.on_event(e);
}

void Controller::Run::metric(const std::string& name, double value, int device) {
  MetricSample m{now(), iteration_, device >= 0 ? pool_->name(device) : std::string(), name, value};
  if (log_) log_->append(m);
  if (owner_.observer_.on_metrics) owner_.observer_.on_metrics({m});
}

std::vector<int> Controller::Run::takeLost() { return std::exchange(untaken_lost_, {}); }

void Controller::Run::send(int device, wire::AlgoMessage message) {
  message.set_from(-1);
  message.set_generation(generation_);
  wire::Envelope env;
  *env.mutable_algo() = std::move(message);
  pool_->send(device, std::move(env));
}

bool Controller::Run::stale(const wire::Envelope& env) const {
  switch (env.body_case()) {
    case wire::Envelope::kAlgo:
      return env.algo().generation() < generation_;
    case wire::Envelope::kWorkerReady:
      return env.worker_ready().generation() < generation_;
    case wire::Envelope::kStateReply:
      return env.state_reply().generation() < generation_;
    default:
      return false;
  }
}

void Controller::Run::deviceLost(int device, const Status& why) {
  if (lost_.count(device)) return;
  lost_.insert(device);
  untaken_lost_.push_back(device);
  metrics_.device(device).state = DeviceState::kLost;
  publishDevices(true);
  event(
      std::string(events::kDeviceLost),
      "device " + pool_->name(device) + " (" + pool_->address(device) + ") lost: " + why.message(),
      device);
}

Status Controller::Run::handle(Incoming&& in) {
  if (in.closed) {
    deviceLost(in.device, in.why);
    return Status::ok();  // the coordinator decides what it means (RunContext::takeLost)
  }
  auto& env = in.env;
  switch (env.body_case()) {
    case wire::Envelope::kMetrics: {
      auto rtt = pool_->rttMs(in.device);
      auto samples =
          metrics_.onReport(in.device, env.metrics(), now(), iteration_, rtt.value_or(0));
      auto& d = metrics_.device(in.device);
      bool frozen = false;
      if (auto fz = frozen_until_.find(in.device); fz != frozen_until_.end()) {
        frozen = now() < fz->second;
        if (!frozen) {  // the first report after the freeze: it is over
          frozen_until_.erase(fz);
          d.faults = withoutFault(d.faults, "freeze");
        }
      }
      if (d.state != DeviceState::kLost && !frozen) {
        d.state = d.slowdown > 1.0 ? DeviceState::kSlow
                  : d.role_active  ? DeviceState::kTraining
                                   : DeviceState::kReady;
      }
      log_->append(samples);
      if (owner_.observer_.on_metrics) owner_.observer_.on_metrics(samples);
      publishDevices(false);
      return Status::ok();
    }
    case wire::Envelope::kFaultApplied:  // logged when sent
    case wire::Envelope::kProbeReport:   // a late report of a probe round that has ended
      return Status::ok();
    case wire::Envelope::kRunError:
      event(std::string(events::kError), env.run_error().detail(), in.device);
      return internalError("device " + pool_->name(in.device) + ": " + env.run_error().detail());
    default:
      if (stale(env)) return Status::ok();
      if (stash_.size() >= kMaxStashedMessages) {
        if (!stash_overflow_logged_) {
          log()->warn("more than {} messages nobody waits for; the oldest are dropped",
                      kMaxStashedMessages);
        }
        stash_overflow_logged_ = true;
        stash_.pop_front();
      }
      stash_.push_back(DeviceMessage{in.device, std::move(env)});
      return Status::ok();
  }
}

Result<DeviceMessage> Controller::Run::await(const std::function<bool(const DeviceMessage&)>& want,
                                             std::chrono::milliseconds timeout,
                                             const std::string& what) {
  const auto deadline = Clock::now() + timeout;
  for (auto it = stash_.begin(); it != stash_.end(); ++it) {
    if (stale(it->env)) continue;
    if (want(*it)) {
      DeviceMessage m = std::move(*it);
      stash_.erase(it);
      return m;
    }
  }
  for (;;) {
    if (auto st = pollControls(); !st) return st;
    if (!untaken_lost_.empty()) {
      std::string names;
      for (int d : untaken_lost_) names += (names.empty() ? "" : ", ") + pool_->name(d);
      return unavailable("device " + names + " was lost while waiting for " + what);
    }
    // Never past the deadline: a zero timeout takes only what has already arrived.
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto in = pool_->next(std::clamp(left, std::chrono::milliseconds(0), kPumpSlice));
    if (in) {
      if (!in->closed && !stale(in->env)) {
        const auto kind = in->env.body_case();
        const bool generic = kind == wire::Envelope::kMetrics ||
                             kind == wire::Envelope::kFaultApplied ||
                             kind == wire::Envelope::kRunError;
        if (!generic) {
          DeviceMessage m{in->device, std::move(in->env)};
          if (want(m)) return m;
          in->env = std::move(m.env);
        }
      }
      if (auto st = handle(std::move(*in)); !st) return st;
    }
    if (Clock::now() > deadline) {
      return Status(
          StatusCode::kTimeout,
          "timed out after " + std::to_string(timeout.count() / 1000) + " s waiting for " + what);
    }
  }
}

Result<std::vector<wire::WorkerReady>> Controller::Run::startWorkers(
    std::vector<WorkerLaunch> launches, std::chrono::milliseconds timeout) {
  ++generation_;
  stash_.clear();  // whatever the previous workers left is moot
  wire::RunSettings run;
  run.set_model(cfg_.model);
  run.set_seed(cfg_.seed);
  run.set_dataset(cfg_.dataset);
  run.set_data_dir(cfg_.data_dir);
  run.set_synthetic_size(cfg_.synthetic_size);
  run.set_train_limit(cfg_.train_limit);
  run.set_test_limit(cfg_.test_limit);
  run.set_split(cfg_.split);
  run.set_split_alpha(cfg_.alpha);
  run.set_split_classes(cfg_.classes_per_device);
  run.set_batch_size(cfg_.batch_size);
  run.set_learning_rate(cfg_.learning_rate);
  run.set_momentum(cfg_.momentum);
  run.set_weight_decay(cfg_.weight_decay);
  run.set_threads(cfg_.threads_per_agent);
  for (const auto& l : cfg_.lr_schedule) {
    auto* step = run.add_lr_schedule();
    step->set_at_iteration(l.at_iteration);
    step->set_factor(l.factor);
  }
  const std::string params = paramsJson(cfg_.algorithm.params);
  for (auto& d : metrics_.devices()) d.role_active = false;
  std::map<int, size_t> slot;  // device → launch index
  for (size_t i = 0; i < launches.size(); ++i) {
    WorkerLaunch& l = launches[i];
    slot[l.device] = i;
    wire::Envelope env;
    auto* s = env.mutable_worker_start();
    s->set_run_id(cfg_.name);
    s->set_algorithm(cfg_.algorithm.name);
    s->set_generation(generation_);
    s->set_device(l.device);
    for (int d = 0; d < pool_->size(); ++d) s->add_peers(pool_->address(d));
    *s->mutable_run() = run;
    s->set_params_json(params);
    *s->mutable_setup() = std::move(l.setup);
    *s->mutable_initial_state() = std::move(l.initial_state);
    *s->mutable_initial_optimizer() = std::move(l.initial_optimizer);
    pool_->send(l.device, std::move(env));
    metrics_.device(l.device).role_active = true;
  }
  std::vector<wire::WorkerReady> readies(launches.size());
  const uint32_t generation = generation_;
  for (size_t got = 0; got < launches.size(); ++got) {
    auto msg = await(
        [generation](const DeviceMessage& m) {
          return m.env.has_worker_ready() && m.env.worker_ready().generation() == generation;
        },
        timeout, cfg_.algorithm.name + " workers to start");
    if (!msg) return msg.status();
    auto it = slot.find(msg->device);
    if (it == slot.end()) continue;
    recordShards(msg->device, msg->env.worker_ready());
    readies[it->second] = std::move(*msg->env.mutable_worker_ready());
  }
  return readies;
}

void Controller::Run::recordShards(int device, const wire::WorkerReady& ready) {
  if (ready.shard_class_counts_size() == 0) return;
  std::vector<int64_t> counts(ready.shard_class_counts().begin(), ready.shard_class_counts().end());
  if (shards_[device] == counts) return;
  shards_[device] = counts;
  std::vector<ShardRecord> rows;
  int64_t total = 0;
  for (size_t c = 0; c < counts.size(); ++c) {
    rows.push_back(ShardRecord{pool_->name(device), static_cast<int>(c), counts[c]});
    total += counts[c];
  }
  log_->append(rows);
  if (owner_.observer_.on_shards) {
    std::vector<ShardInfo> all;
    for (const auto& [d, c] : shards_) all.push_back(ShardInfo{d, c});
    owner_.observer_.on_shards(all);
  }
  event(std::string(events::kShardsAssigned),
        std::to_string(total) + " training samples (" + cfg_.split + " split)", device);
}

void Controller::Run::planChanged(const StagePlan& plan, const std::vector<int>& device_of_stage,
                                  const std::vector<LayerInfo>& layers,
                                  const std::vector<double>& layer_time_s, const std::string& why) {
  const std::string text = plan.describe(layers);
  const double planned_at = now();                  // one plan, one time_s on all its rows
  for (auto& d : metrics_.devices()) d.stage = -1;  // a device may hold no stage after a change
  for (int s = 0; s < plan.numStages(); ++s) {
    const int d = device_of_stage[s];
    std::string names;
    for (int l = plan.first(s); l < plan.last(s); ++l) {
      names += (names.empty() ? "" : " ") + layers[l].name;
    }
    PartitionRecord p{planned_at,    iteration_,   s,    pool_->name(d),
                      plan.first(s), plan.last(s), names};
    log_->append(p);
    auto& st = metrics_.device(d);
    st.stage = s;
    st.first_layer = plan.first(s);
    st.last_layer = plan.last(s);
  }
  event(std::string(events::kPlanChanged), why + ": " + text, -1,
        {{"algorithm", cfg_.algorithm.name}});
  if (owner_.observer_.on_plan) {
    PlanInfo info;
    info.algorithm = cfg_.algorithm.name;
    for (int s = 0; s < plan.numStages(); ++s) info.stage_first_layer.push_back(plan.first(s));
    info.device_of_stage = device_of_stage;
    info.layer_time_s = layer_time_s;
    info.why = why;
    owner_.observer_.on_plan(info);
  }
  publishDevices(true);
}

void Controller::Run::graphChanged(const GraphLayout& graph, const std::string& why) {
  std::vector<GraphEdgeRecord> rows;
  GraphInfo info;
  info.algorithm = cfg_.algorithm.name;
  info.kind = graph.kind;
  info.round = graph.round;
  info.why = why;
  for (auto& d : metrics_.devices()) d.stage = -1;  // no stages in a decentralized run
  const double drawn_at = now();                    // one graph, one time_s on all its rows
  for (const auto& e : graph.edges) {
    rows.push_back(GraphEdgeRecord{drawn_at, iteration_, graph.round, graph.kind,
                                   pool_->name(e.from), pool_->name(e.to), e.weight});
    info.edges.push_back(GraphInfo::Edge{e.from, e.to, e.weight});
  }
  log_->append(rows);
  std::string text;
  for (const auto& e : graph.edges) {
    text += (text.empty() ? "" : ", ") + pool_->name(e.from) + "->" + pool_->name(e.to);
  }
  if (!graph.scheduled) {
    event(std::string(events::kGraphChanged), why + ": " + graph.kind + " " + text, -1,
          {{"algorithm", cfg_.algorithm.name}, {"graph", graph.kind}});
  }
  if (owner_.observer_.on_graph) owner_.observer_.on_graph(info);
  publishDevices(true);
}

}  // namespace edgerig
