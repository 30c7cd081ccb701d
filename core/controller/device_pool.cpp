#include "core/controller/device_pool.h"

#include <future>

#include "device_bridge/address.h"

namespace edgerig {

DevicePool::DevicePool(bridge::IoThread& io, std::string token, bridge::SessionOptions options)
    : io_(io), token_(std::move(token)), options_(std::move(options)) {
  options_.role = wire::PEER_ROLE_CONTROLLER;
}

DevicePool::~DevicePool() { closeAll(); }

Status DevicePool::connectAll(const std::vector<DeviceEndpoint>& endpoints) {
  devices_.clear();
  devices_.resize(endpoints.size());
  std::vector<std::future<Result<std::shared_ptr<bridge::Session>>>> pending;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    devices_[i].name = endpoints[i].name;
    devices_[i].address = endpoints[i].address;
    devices_[i].local = endpoints[i].local;
    auto to = bridge::parseHostPort(endpoints[i].address);
    if (!to) return invalidArgument("device " + std::to_string(i) + ": " + to.status().message());
    auto promise = std::make_shared<std::promise<Result<std::shared_ptr<bridge::Session>>>>();
    pending.push_back(promise->get_future());
    bridge::asyncConnect(io_.context(), *to, token_, options_,
                         [promise](Result<std::shared_ptr<bridge::Session>> r) {
                           promise->set_value(std::move(r));
                         });
  }
  Status first_error;
  for (size_t i = 0; i < pending.size(); ++i) {
    auto r = pending[i].get();
    if (!r) {
      if (first_error.isOk()) {
        // The cause's code is kept: a device that cannot prove the token is kUnauthenticated.
        first_error =
            Status(r.status().code() == StatusCode::kUnauthenticated ? StatusCode::kUnauthenticated
                                                                     : StatusCode::kUnavailable,
                   "cannot connect to device " +
                       (devices_[i].name.empty() ? std::to_string(i) : devices_[i].name) + " at " +
                       devices_[i].address + ": " + r.status().message());
      }
      continue;
    }
    auto s = std::move(r).value();
    if (devices_[i].name.empty()) devices_[i].name = s->peerName();
    startSession(static_cast<int>(i), std::move(s));
  }
  return first_error;
}

void DevicePool::startSession(int i, std::shared_ptr<bridge::Session> s) {
  int generation = 0;
  {
    std::lock_guard lock(mu_);
    devices_[i].session = s;
    devices_[i].cores = s->peerCores();
    devices_[i].lost = false;
    generation = devices_[i].generation;
  }
  s->start(
      [this, i, generation](wire::Envelope&& env) {
        Incoming in;
        in.device = i;
        in.generation = generation;
        in.env = std::move(env);
        push(std::move(in));
      },
      [this, i, generation](const Status& why) {
        {
          std::lock_guard lock(mu_);
          // A closure of a replaced session is old news.
          if (devices_[i].generation != generation) return;
          devices_[i].lost = true;
        }
        Incoming in;
        in.device = i;
        in.generation = generation;
        in.closed = true;
        in.why = why;
        push(std::move(in));
      });
}

Status DevicePool::reconnect(int i, const std::string& address) {
  auto to = bridge::parseHostPort(address);
  if (!to) return invalidArgument("device " + name(i) + ": " + to.status().message());
  std::promise<Result<std::shared_ptr<bridge::Session>>> promise;
  auto future = promise.get_future();
  bridge::asyncConnect(
      io_.context(), *to, token_, options_,
      [&promise](Result<std::shared_ptr<bridge::Session>> r) { promise.set_value(std::move(r)); });
  auto r = future.get();
  if (!r) {
    return unavailable("cannot reconnect to device " + name(i) + " at " + address + ": " +
                       r.status().message());
  }
  std::shared_ptr<bridge::Session> old;
  {
    std::lock_guard lock(mu_);
    old = std::move(devices_[i].session);
    devices_[i].address = address;
    ++devices_[i].generation;
  }
  if (old) old->close();
  startSession(i, std::move(r).value());
  return Status::ok();
}

void DevicePool::push(Incoming in) {
  {
    std::lock_guard lock(mu_);
    inbox_.push_back(std::move(in));
  }
  cv_.notify_one();
}

std::optional<Incoming> DevicePool::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (!cv_.wait_until(lock, until, [this] { return !inbox_.empty(); })) return std::nullopt;
    Incoming in = std::move(inbox_.front());
    inbox_.pop_front();
    if (in.generation == devices_[in.device].generation) return in;
  }
}

bool DevicePool::lost(int i) const {
  std::lock_guard lock(mu_);
  return devices_[i].lost || !devices_[i].session;
}

std::optional<double> DevicePool::rttMs(int i) const {
  std::shared_ptr<bridge::Session> s;
  {
    std::lock_guard lock(mu_);
    s = devices_[i].session;
  }
  return s ? s->rttMs() : std::nullopt;
}

bridge::TrafficCounters DevicePool::counters(int i) const {
  std::shared_ptr<bridge::Session> s;
  {
    std::lock_guard lock(mu_);
    s = devices_[i].session;
  }
  return s ? s->counters() : bridge::TrafficCounters{};
}

void DevicePool::send(int i, wire::Envelope env) {
  std::shared_ptr<bridge::Session> s;
  {
    std::lock_guard lock(mu_);
    if (devices_[i].lost) return;
    s = devices_[i].session;
  }
  if (s) s->send(std::move(env));
}

void DevicePool::broadcast(const wire::Envelope& env) {
  for (int i = 0; i < size(); ++i) send(i, env);
}

void DevicePool::closeAll() {
  std::vector<std::shared_ptr<bridge::Session>> sessions;
  {
    std::lock_guard lock(mu_);
    for (auto& d : devices_) {
      if (d.session) sessions.push_back(d.session);
    }
  }
  for (auto& s : sessions) s->close();
}

}  // namespace edgerig
