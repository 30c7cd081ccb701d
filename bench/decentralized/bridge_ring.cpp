#include "bridge_ring.h"

#include <string>
#include <utility>

#include "core/algorithms/algo_message.h"
#include "core/model/tensor_codec.h"
#include "decentralized.pb.h"

namespace edgerig::bench {

namespace {

const std::string kToken = "bench-ring-token-0123456789abcdef";
constexpr uint32_t kRingEpoch = 1;
constexpr uint32_t kGeneration = 1;
// A chunk that takes longer than this means a neighbour is gone.
constexpr std::chrono::seconds kChunkTimeout{120};

using Clock = std::chrono::steady_clock;
double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

bridge::SessionOptions sessionOptions(int rank) {
  bridge::SessionOptions o;
  o.local_name = "bench-ring-" + std::to_string(rank);
  o.role = wire::PEER_ROLE_AGENT;  // what an agent says when it dials a peer for data
  return o;
}

}  // namespace

BridgeRing::BridgeRing(int rank, int size) : rank_(rank), size_(size) {}

BridgeRing::~BridgeRing() {
  close();
  io_.stop();  // no handler may run once the members it touches are gone
}

Result<std::unique_ptr<BridgeRing>> BridgeRing::listen(int rank, int size) {
  std::unique_ptr<BridgeRing> r(new BridgeRing(rank, size));
  BridgeRing* self = r.get();
  auto listener = bridge::Listener::create(
      r->io_.context(), {"127.0.0.1", 0}, kToken, sessionOptions(rank),
      [self](std::shared_ptr<bridge::Session> s) { self->onLeftSession(std::move(s)); });
  if (!listener) return listener.status();
  r->listener_ = std::move(listener).value();
  return r;
}

void BridgeRing::onLeftSession(std::shared_ptr<bridge::Session> s) {
  // As AgentRuntime::onPeerMessage: the message moves whole to the trainer thread's queue.
  s->start(
      [this](wire::Envelope&& env) {
        if (!env.has_algo()) return;
        std::lock_guard lock(mu_);
        inbox_.push_back(std::move(*env.mutable_algo()));
        cv_.notify_one();
      },
      [this](const Status& st) { onSessionClosed(st); });
  std::lock_guard lock(mu_);
  left_ = std::move(s);
  cv_.notify_one();
}

void BridgeRing::onSessionClosed(const Status& st) {
  std::lock_guard lock(mu_);
  if (!closing_ && !lost_) lost_ = st;
  cv_.notify_one();
}

Status BridgeRing::join(uint16_t right_port, std::chrono::milliseconds timeout) {
  auto right =
      bridge::connect(io_.context(), {"127.0.0.1", right_port}, kToken, sessionOptions(rank_));
  if (!right) {
    return unavailable("ring rank " + std::to_string(rank_) +
                       " could not dial its right neighbour" + " on port " +
                       std::to_string(right_port) + ": " + right.status().message());
  }
  right_ = std::move(right).value();
  right_->start([](wire::Envelope&&) {}, [this](const Status& st) { onSessionClosed(st); });
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return left_ != nullptr; })) {
    return unavailable("ring rank " + std::to_string(rank_) +
                       ": the left neighbour did not dial in time");
  }
  return Status::ok();
}

// The same message AllreduceWorker::ringFor builds, sent as WorkerHost::send sends it.
void BridgeRing::sendChunk(int64_t iteration, int bucket, int step, const torch::Tensor& values) {
  const auto t0 = Clock::now();
  decentralized::RingChunk c;
  c.set_iteration(iteration);
  c.set_ring_epoch(kRingEpoch);
  c.set_bucket(bucket);
  c.set_step(step);
  wire::AlgoMessage m = algoMessage(bridge::TrafficKind::kGradient, c);
  appendTensor(m, values);
  m.set_from(rank_);
  m.set_generation(kGeneration);
  wire::Envelope env;
  *env.mutable_algo() = std::move(m);
  const auto t1 = Clock::now();
  right_->send(std::move(env));
  breakdown_.build_s += seconds(t0, t1);
  breakdown_.send_s += seconds(t1, Clock::now());
  ++breakdown_.chunks_sent;
}

RingAllreduce& BridgeRing::ringFor(int64_t iteration) {
  auto it = rings_.find(iteration);
  if (it != rings_.end()) return it->second;
  std::vector<int> order(static_cast<size_t>(size_));
  for (int d = 0; d < size_; ++d) order[static_cast<size_t>(d)] = d;
  return rings_
      .try_emplace(iteration, std::move(order), rank_,
                   [this, iteration](int, int bucket, int step, const torch::Tensor& values) {
                     sendChunk(iteration, bucket, step, values);
                   })
      .first->second;
}

Result<wire::AlgoMessage> BridgeRing::nextMessage() {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, kChunkTimeout, [&] { return !inbox_.empty() || lost_; })) {
    return unavailable("ring rank " + std::to_string(rank_) + ": no chunk for " +
                       std::to_string(kChunkTimeout.count()) + " s");
  }
  if (inbox_.empty()) {
    return unavailable("ring rank " + std::to_string(rank_) +
                       " lost a neighbour: " + lost_->message());
  }
  wire::AlgoMessage m = std::move(inbox_.front());
  inbox_.pop_front();
  return m;
}

Status BridgeRing::allreduce(std::vector<torch::Tensor> buckets) {
  const int64_t iteration = next_iteration_++;
  RingAllreduce& ring = ringFor(iteration);
  ring.start(std::move(buckets));
  while (!ring.done()) {
    const auto t0 = Clock::now();
    auto m = nextMessage();
    if (!m) return m.status();
    const auto t1 = Clock::now();
    // AllreduceWorker::onMessage and onChunk.
    auto c = bodyAs<decentralized::RingChunk>(*m);
    if (!c) return c.status();
    auto values = tensorViewsOf(*m);
    if (!values) return values.status();
    if (values->size() != 1) {
      return invalidArgument("ring chunk with " + std::to_string(values->size()) + " tensors");
    }
    const auto t2 = Clock::now();
    const double sending = breakdown_.build_s + breakdown_.send_s;
    if (auto st = ringFor(c->iteration()).onChunk(c->bucket(), c->step(), (*values)[0]); !st) {
      return st;
    }
    breakdown_.wait_s += seconds(t0, t1);
    breakdown_.decode_s += seconds(t1, t2);
    // onChunk sends the next step itself: that part is counted in build_s and send_s.
    breakdown_.reduce_s +=
        seconds(t2, Clock::now()) - (breakdown_.build_s + breakdown_.send_s - sending);
  }
  rings_.erase(iteration);
  return Status::ok();
}

void BridgeRing::close() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  if (right_) right_->close();
  std::shared_ptr<bridge::Session> left;
  {
    std::lock_guard lock(mu_);
    left = left_;
  }
  if (left) left->close();
  if (listener_) listener_->close();
}

}  // namespace edgerig::bench
