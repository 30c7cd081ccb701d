#include "core/agent/worker_host.h"

#include "core/algorithms/algo_message.h"
#include "core/data/shards.h"
#include "core/model/layer_chain.h"
#include "device_bridge/log.h"

namespace edgerig {
namespace {

auto agentLog() { return bridge::logger("edgerig.agent"); }

// Messages for a newer generation wait for its WorkerStart; past this they are dropped.
constexpr size_t kMaxHeldMessages = 4096;
constexpr size_t kMaxHeldBytes = size_t{256} << 20;

wire::Envelope algoEnvelope(wire::AlgoMessage&& m) {
  wire::Envelope env;
  *env.mutable_algo() = std::move(m);
  return env;
}

}  // namespace

WorkerHost::WorkerHost(const AlgorithmRegistry& registry, ComputeMeter& meter,
                       std::string data_dir_override, WorkerHostLinks links)
    : registry_(registry),
      meter_(meter),
      data_dir_override_(std::move(data_dir_override)),
      links_(std::move(links)) {}

WorkerHost::~WorkerHost() = default;

std::shared_ptr<spdlog::logger> WorkerHost::log() {
  return bridge::logger("edgerig.algorithm." + start_.algorithm());
}

void WorkerHost::reportError(const Status& st) {
  agentLog()->error("{}", st.message());
  wire::Envelope env;
  env.mutable_run_error()->set_detail(st.message());
  links_.to_controller(std::move(env));
}

void WorkerHost::start(wire::WorkerStart s) {
  worker_.reset();
  ++worker_epoch_;
  generation_ = s.generation();
  start_ = std::move(s);
  links_.peers_changed({start_.peers().begin(), start_.peers().end()});
  const AlgorithmEntry* entry = registry_.find(start_.algorithm());
  if (entry == nullptr) {
    return reportError(notFound("this agent does not know algorithm '" + start_.algorithm() +
                                "'; is it an older edgerig?"));
  }
  if (start_.device() < 0 || start_.device() >= start_.peers_size()) {
    return reportError(invalidArgument("worker start for device " +
                                       std::to_string(start_.device()) + " of a run of " +
                                       std::to_string(start_.peers_size())));
  }
  auto params = paramsFromJson(start_.params_json(), entry->info);
  if (!params) return reportError(params.status());
  params_ = std::move(params).value();
  torch::set_num_threads(std::max(1, start_.run().threads()));
  shard_used_ = false;
  auto worker = entry->worker(*this, start_);
  if (!worker) return reportError(worker.status());
  worker_ = std::move(worker).value();
  wire::Envelope env;
  auto* ready = env.mutable_worker_ready();
  ready->set_generation(generation_);
  worker_->describe(*ready);
  if (shard_used_) {
    *ready->mutable_shard_class_counts() = {shard_counts_.begin(), shard_counts_.end()};
  }
  agentLog()->info("{} worker ready as device {} of {} (generation {})", start_.algorithm(),
                   start_.device(), start_.peers_size(), generation_);
  links_.to_controller(std::move(env));
  // Messages of this generation that came before the start.
  std::deque<wire::AlgoMessage> held;
  held.swap(held_);
  held_bytes_ = 0;
  for (auto& m : held) deliver(std::move(m));
}

void WorkerHost::deliver(wire::AlgoMessage m) {
  if (m.generation() > generation_) {
    if (held_.size() >= kMaxHeldMessages || held_bytes_ + m.data().size() > kMaxHeldBytes) {
      agentLog()->warn("a {} message for generation {} dropped: too many wait for its start",
                       bodyName(m), m.generation());
      return;
    }
    held_bytes_ += m.data().size();
    held_.push_back(std::move(m));
    return;
  }
  if (m.generation() < generation_ || !worker_) return;  // an earlier worker's, or none running
  if (auto st = worker_->onMessage(m); !st) reportError(st);
}

void WorkerHost::fetchState(bool optimizer) {
  if (!worker_) return reportError(invalidArgument("state requested with no worker running"));
  auto reply = worker_->state(optimizer);
  if (!reply) return reportError(reply.status());
  reply->set_generation(generation_);
  wire::Envelope env;
  *env.mutable_state_reply() = std::move(reply).value();
  links_.to_controller(std::move(env));
}

void WorkerHost::updatePeers(const std::vector<std::string>& peers) {
  *start_.mutable_peers() = {peers.begin(), peers.end()};
  links_.peers_changed(peers);
}

TimerHandle WorkerHost::schedule(std::chrono::milliseconds delay, std::function<void()> callback) {
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  if (!links_.after) {
    agentLog()->error("a timer was scheduled but this host has no timers; it will never fire");
    return TimerHandle(cancelled);
  }
  links_.after(delay, [this, epoch = worker_epoch_, cancelled, cb = std::move(callback)] {
    if (cancelled->load() || epoch != worker_epoch_ || !worker_) return;
    cancelled->store(true);  // fired: a later cancel() is a no-op
    cb();
  });
  return TimerHandle(cancelled);
}

void WorkerHost::reset() {
  worker_.reset();
  ++worker_epoch_;
  held_.clear();
  held_bytes_ = 0;
  // The run is over: its data goes too (the next run may use another set, or none on this
  // device). Within a run, a switch or a restart keeps it.
  train_ = {};
  test_ = {};
  shard_key_.clear();
  shard_.clear();
}

Result<const Dataset*> WorkerHost::dataset(Split split, CachedSet& cache) {
  const auto& r = start_.run();
  const std::string dir = data_dir_override_.empty() ? r.data_dir() : data_dir_override_;
  const int64_t limit = split == Split::kTrain ? r.train_limit() : r.test_limit();
  const std::string key = r.dataset() + "|" + dir + "|" + std::to_string(limit) + "|" +
                          std::to_string(r.synthetic_size()) + "|" + std::to_string(r.seed());
  if (cache.data && cache.key == key) return &*cache.data;
  cache.data.reset();
  auto d = loadDataset(r.dataset(), dir, split, limit, r.synthetic_size(), r.seed());
  if (!d) return d.status();
  cache.key = key;
  cache.data = std::move(d).value();
  return &*cache.data;
}

Result<const Dataset*> WorkerHost::trainSet() { return dataset(Split::kTrain, train_); }

Result<const Dataset*> WorkerHost::testSet() { return dataset(Split::kTest, test_); }

Result<const std::vector<int64_t>*> WorkerHost::shard() {
  auto train = trainSet();
  if (!train) return train.status();
  const auto& r = start_.run();
  const std::string key = train_.key + "|" + r.split() + "|" + std::to_string(r.split_alpha()) +
                          "|" + std::to_string(r.split_classes()) + "|" +
                          std::to_string(numDevices()) + "|" + std::to_string(device());
  shard_used_ = true;
  if (key == shard_key_) return &shard_;
  const torch::Tensor labels = (*train)->labels.to(torch::kInt64).contiguous();
  std::vector<int64_t> all(labels.data_ptr<int64_t>(), labels.data_ptr<int64_t>() + labels.numel());
  ShardSpec spec{r.split(), r.split_alpha(), r.split_classes()};
  auto shards = shardIndices(all, static_cast<int>(kNumClasses), numDevices(), spec, r.seed());
  if (!shards) return shards.status();
  shard_ = std::move((*shards)[static_cast<size_t>(device())]);
  shard_counts_ = classCounts(all, shard_, static_cast<int>(kNumClasses));
  shard_key_ = key;
  return &shard_;
}

void WorkerHost::send(int to, wire::AlgoMessage m) {
  m.set_from(device());
  m.set_generation(generation_);
  if (to == device()) {  // to itself: delivered after the current handler, never inside it
    links_.post([this, m = std::move(m)]() mutable { deliver(std::move(m)); });
    return;
  }
  links_.to_device(to, algoEnvelope(std::move(m)));
}

void WorkerHost::sendToController(wire::AlgoMessage m) {
  m.set_from(device());
  m.set_generation(generation_);
  links_.to_controller(algoEnvelope(std::move(m)));
}

}  // namespace edgerig
