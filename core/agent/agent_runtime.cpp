#include "core/agent/agent_runtime.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <torch/torch.h>

#include "core/agent/agent_dispatch.h"
#include "core/catalog/catalog.h"
#include "core/model/layer_chain.h"
#include "core/model/profiler.h"
#include "device_bridge/log.h"
#include "device_bridge/traffic.h"

namespace edgerig {
namespace {

auto log() { return bridge::logger("edgerig.agent"); }

int64_t residentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * sysconf(_SC_PAGESIZE);
}

wire::Envelope errorEnvelope(const Status& st) {
  wire::Envelope env;
  env.mutable_run_error()->set_detail(st.message());
  return env;
}

}  // namespace

AgentRuntime::AgentRuntime(AgentOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<AgentRuntime>> AgentRuntime::start(AgentOptions options) {
  if (options.token.empty()) {
    return Status(StatusCode::kUnauthenticated,
                  "the agent needs a token: pass --token-file FILE (the controller uses the same)");
  }
  std::unique_ptr<AgentRuntime> agent(new AgentRuntime(std::move(options)));
  AgentRuntime* self = agent.get();
  torch::set_num_threads(std::max(1, self->options_.threads));
  self->inbox_ = std::make_unique<InboundLinks>(self->io_.context());  // before any peer dials
  bridge::SessionOptions so = self->options_.session;
  so.local_name = self->options_.name;
  auto listener = bridge::Listener::create(
      self->io_.context(), self->options_.listen, self->options_.token, so,
      [self](std::shared_ptr<bridge::Session> s) { self->onSession(std::move(s)); });
  if (!listener) return listener.status();
  self->listener_ = std::move(listener).value();
  self->options_.listen.port = self->listener_->port();

  bridge::SessionOptions link = self->options_.session;
  link.local_name = self->options_.name;
  link.role = wire::PEER_ROLE_AGENT;
  link.send_heartbeats = false;  // liveness is the controller's job; data links may be shaped
  link.loss_timeout = std::chrono::milliseconds(0);
  // A link that cannot be dialled again is given up after the loss timeout: by then the
  // controller has declared its peer lost, if it is.
  ReconnectPolicy reconnect;
  if (self->options_.session.loss_timeout.count() > 0) {
    reconnect.give_up = self->options_.session.loss_timeout;
  }
  PeerLinkHooks hooks;
  hooks.opened = [self](const std::shared_ptr<bridge::Session>&) { self->applyShapeToPeers(); };
  hooks.message = [self](const std::shared_ptr<bridge::Session>& s, wire::Envelope&& env) {
    self->onPeerMessage(s, std::move(env));
  };
  hooks.closed = [self](const std::shared_ptr<bridge::Session>& s, const Status&) {
    self->inbox_->closed(s.get());
    std::lock_guard lock(self->sessions_mu_);
    self->retire(s);
  };
  self->links_ = std::make_unique<PeerLinks>(self->io_.context(), self->options_.token, link,
                                             std::move(hooks), reconnect);

  WorkerHostLinks host;
  host.to_controller = [self](wire::Envelope e) { self->sendToController(std::move(e)); };
  host.to_device = [self](int device, wire::Envelope e) {
    self->links_->send(device, std::move(e));
  };
  host.peers_changed = [self](std::vector<std::string> peers) { self->links_->setPeers(peers); };
  host.iteration = [self](int64_t it) { self->iteration_.store(it); };
  host.post = [self](std::function<void()> task) { self->tasks_.post(std::move(task)); };
  host.after = [self](std::chrono::milliseconds delay, std::function<void()> task) {
    // The timer lives on the I/O thread (its handler keeps it alive); the task runs on the
    // trainer thread like every other.
    asio::post(self->io_.context(), [self, delay, task = std::move(task)]() mutable {
      auto timer = std::make_shared<asio::steady_timer>(self->io_.context(), delay);
      timer->async_wait([self, timer, task = std::move(task)](const asio::error_code& ec) mutable {
        if (!ec) self->tasks_.post(std::move(task));
      });
    });
  };
  self->host_ = std::make_unique<WorkerHost>(algorithmRegistry(), self->meter_,
                                             self->options_.data_dir, std::move(host));

  asio::post(self->io_.context(), [self] {
    self->metrics_timer_ = std::make_unique<asio::steady_timer>(self->io_.context());
    self->thaw_timer_ = std::make_unique<asio::steady_timer>(self->io_.context());
    self->scheduleMetrics();
  });
  return agent;
}

AgentRuntime::~AgentRuntime() {
  if (listener_) listener_->close();
  for (auto& s : allSessions()) s->close();
  if (links_) links_->closeAll();
  io_.stop();
}

uint16_t AgentRuntime::port() const { return options_.listen.port; }

std::vector<std::shared_ptr<bridge::Session>> AgentRuntime::allSessions() {
  std::vector<std::shared_ptr<bridge::Session>> all =
      links_ ? links_->sessions() : std::vector<std::shared_ptr<bridge::Session>>{};
  std::lock_guard lock(sessions_mu_);
  all.insert(all.end(), inbound_.begin(), inbound_.end());
  if (controller_) all.push_back(controller_);
  return all;
}

void AgentRuntime::onSession(std::shared_ptr<bridge::Session> s) {
  std::weak_ptr<bridge::Session> weak = s;
  if (s->peerRole() == wire::PEER_ROLE_CONTROLLER) {
    std::shared_ptr<bridge::Session> previous;
    {
      std::lock_guard lock(sessions_mu_);
      previous = std::exchange(controller_, s);
    }
    if (previous) {
      log()->warn("controller {} replaces {}; the old session is closed", s->remoteAddress(),
                  previous->remoteAddress());
      previous->close();
      tasks_.post([this] { resetRun(); });
    }
    log()->info("controller {} connected", s->remoteAddress());
    s->start(
        [this, weak](wire::Envelope&& env) {
          if (auto locked = weak.lock()) onControllerMessage(locked, std::move(env));
        },
        [this, weak](const Status& why) {
          auto locked = weak.lock();
          bool was_current = false;
          {
            std::lock_guard lock(sessions_mu_);
            if (locked && controller_ == locked) {
              retire(locked);
              controller_.reset();
              was_current = true;
            }
          }
          if (was_current) {
            log()->info("controller left ({}); the run on this agent is reset", why.message());
            tasks_.clear();
            tasks_.post([this] { resetRun(); });
          }
        });
    return;
  }
  {
    std::lock_guard lock(sessions_mu_);
    inbound_.push_back(s);
  }
  log()->info("peer {} ({}) connected", s->peerName(), s->remoteAddress());
  s->start(
      [this, weak](wire::Envelope&& env) {
        if (auto locked = weak.lock()) onPeerMessage(locked, std::move(env));
      },
      [this, weak](const Status&) {
        auto locked = weak.lock();
        if (locked) inbox_->closed(locked.get());
        std::lock_guard lock(sessions_mu_);
        if (locked) retire(locked);
        std::erase_if(inbound_, [&](const auto& p) { return p == locked; });
      });
}

void AgentRuntime::onControllerMessage(const std::shared_ptr<bridge::Session>& s,
                                       wire::Envelope&& env) {
  switch (controllerAction(env)) {
    case AgentAction::kProfile:
      tasks_.post([this, p = env.profile_request()] { profile(p); });
      break;
    case AgentAction::kStartWorker:
      tasks_.clear();  // whatever the previous worker had queued is moot
      run_active_.store(true);
      tasks_.post([this, start = std::move(*env.mutable_worker_start())]() mutable {
        host_->start(std::move(start));
      });
      break;
    case AgentAction::kDeliver:
      tasks_.post(
          [this, m = std::move(*env.mutable_algo())]() mutable { host_->deliver(std::move(m)); });
      break;
    case AgentAction::kUpdatePeers:
      tasks_.post([this, p = env.peer_addresses()] {
        host_->updatePeers({p.peers().begin(), p.peers().end()});
      });
      break;
    case AgentAction::kFault:
      if (auto st = checkFault(env.fault()); !st) {
        log()->error("{} (from controller {}); refused", st.message(), s->remoteAddress());
        sendToController(errorEnvelope(st));
        break;
      }
      applyFault(env.fault());
      break;
    case AgentAction::kFetchState:
      tasks_.post(
          [this, optimizer = env.fetch_state().optimizer()] { host_->fetchState(optimizer); });
      break;
    case AgentAction::kProbe:
      sendProbe(env.probe_request());
      break;
    case AgentAction::kStopRun:
      log()->info("run stopped by the controller: {}", env.stop_run().reason());
      tasks_.clear();
      tasks_.post([this] { resetRun(); });
      break;
    case AgentAction::kProbeData:
    case AgentAction::kRefuse:
      log()->warn(
          "controller {} sent a message the agent does not take from a controller "
          "(body case {}); closing that session",
          s->remoteAddress(), static_cast<int>(env.body_case()));
      s->close();
  }
}

void AgentRuntime::onPeerMessage(const std::shared_ptr<bridge::Session>& s, wire::Envelope&& env) {
  // A numbered data link's envelope is delivered once, in order, across the link's sessions.
  if (auto admitted = inbox_->admit(s, env); !admitted) {
    log()->error("{}", admitted.status().message());
    s->close();
    return;
  } else if (!*admitted) {
    return;  // a duplicate re-sent after a break
  }
  switch (peerAction(env)) {
    case AgentAction::kDeliver:
      tasks_.post(
          [this, m = std::move(*env.mutable_algo())]() mutable { host_->deliver(std::move(m)); });
      return;
    case AgentAction::kProbeData:
      return onProbeData(s, env.probe_data());
    default:
      log()->warn(
          "peer {} ({}) sent a message that does not belong on a data link (body case "
          "{}); closing that session",
          s->peerName(), s->remoteAddress(), static_cast<int>(env.body_case()));
      s->close();
  }
}

void AgentRuntime::applyFault(const wire::FaultCommand& f) {
  std::string detail;
  switch (f.kind()) {
    case wire::FaultCommand::KIND_SLOWDOWN:
      meter_.setSlowdown(f.slowdown());
      detail = "compute slowdown x" + std::to_string(meter_.slowdown());
      break;
    case wire::FaultCommand::KIND_LINK: {
      const bridge::LinkShape shape = linkShapeOf(f);
      {
        std::lock_guard lock(sessions_mu_);
        link_shape_ = shape;
        link_peer_ = f.peer();
      }
      applyShapeToPeers();
      detail = "link " + (f.peer().empty() ? std::string("to every peer") : "to " + f.peer()) +
               ": " + shape.describe();
      break;
    }
    case wire::FaultCommand::KIND_FREEZE: {
      const auto until = std::chrono::steady_clock::now() + freezeLengthOf(f);
      meter_.freezeUntil(until);
      for (auto& s : allSessions()) s->setPaused(true);
      thaw_timer_->expires_at(until);
      thaw_timer_->async_wait([this](const asio::error_code& ec) {
        if (ec) return;
        for (auto& s : allSessions()) s->setPaused(false);
        log()->info("freeze over");
      });
      log()->warn("frozen for {:.1f} s", f.freeze_s());
      return;  // a frozen agent answers nothing, not even this command
    }
    case wire::FaultCommand::KIND_CRASH:
      log()->warn("crash fault: exiting now");
      std::fflush(nullptr);
      std::_Exit(3);
    case wire::FaultCommand::KIND_CLEAR:
      meter_.setSlowdown(1.0);
      {
        std::lock_guard lock(sessions_mu_);
        link_shape_ = {};
        link_peer_.clear();
      }
      applyShapeToPeers();
      detail = "faults cleared";
      break;
    default:
      detail = "unknown fault kind " + std::to_string(static_cast<int>(f.kind())) + " ignored";
  }
  log()->info("fault applied: {}", detail);
  wire::Envelope reply;
  reply.mutable_fault_applied()->set_detail(detail);
  sendToController(std::move(reply));
}

void AgentRuntime::sendProbe(const wire::ProbeRequest& p) {
  // Bursts go on the outgoing data links, after whatever algorithm messages are queued there and
  // shaped like them: what the receiver times is what training traffic would get.
  if (auto st = checkProbeRequest(p); !st) {
    log()->error("probe request {}: {}", p.probe_id(), st.message());
    return sendToController(errorEnvelope(st));
  }
  links_->setPeers({p.peers().begin(), p.peers().end()});
  wire::Envelope env;
  auto* d = env.mutable_probe_data();
  d->set_probe_id(p.probe_id());
  d->set_from(p.device());
  d->set_chunks(p.chunks());
  d->mutable_payload()->assign(p.chunk_bytes(), '\0');
  for (int t : p.targets()) {
    d->set_to(t);
    for (uint32_t k = 0; k < p.chunks(); ++k) {
      d->set_seq(k);
      links_->send(t, env);
    }
  }
}

void AgentRuntime::onProbeData(const std::shared_ptr<bridge::Session>& s,
                               const wire::ProbeData& d) {
  auto r = probe_rx_.onChunk(s->peerName(), d, std::chrono::steady_clock::now());
  if (!r) {
    log()->warn("peer {} ({}): {}; closing that session", s->peerName(), s->remoteAddress(),
                r.status().message());
    s->close();
    return;
  }
  if (!*r) return;
  wire::Envelope env;
  *env.mutable_probe_report() = std::move(**r);
  sendToController(std::move(env));
}

void AgentRuntime::applyShapeToPeers() {
  // Shaping is of what this device sends: its outgoing data links.
  const auto links = links_->sessions();
  std::lock_guard lock(sessions_mu_);
  for (const auto& s : links) {
    // link_peer_: one peer, or several separated by commas (a cap on some links only).
    bool match = link_peer_.empty();
    for (size_t at = 0; !match && at <= link_peer_.size();) {
      size_t end = link_peer_.find(',', at);
      if (end == std::string::npos) end = link_peer_.size();
      const std::string peer = link_peer_.substr(at, end - at);
      match = peer == s->peerName() || peer == s->remoteAddress();
      at = end + 1;
    }
    s->setShape(match ? link_shape_ : bridge::LinkShape{});
  }
}

void AgentRuntime::scheduleMetrics() {
  metrics_timer_->expires_after(options_.metrics_interval);
  metrics_timer_->async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    if (!meter_.frozen()) sendMetrics();
    scheduleMetrics();
  });
}

void AgentRuntime::sendMetrics() {
  const auto now = std::chrono::steady_clock::now();
  const double dt = std::chrono::duration<double>(now - last_report_).count();
  const int64_t samples = meter_.samples();
  const double idle = tasks_.takeIdleSeconds();
  if (run_active_.load()) idle_in_run_s_ += idle;
  wire::Envelope env;
  auto* m = env.mutable_metrics();
  m->set_samples_per_s(dt > 0 ? static_cast<double>(samples - last_samples_) / dt : 0.0);
  m->set_busy_s(meter_.busySeconds());
  m->set_idle_s(idle_in_run_s_);
  m->set_slowdown(meter_.slowdown());
  m->set_resident_bytes(residentBytes());
  m->set_iteration(iteration_.load());
  last_samples_ = samples;
  last_report_ = now;
  std::map<std::pair<std::string, int>, std::pair<uint64_t, uint64_t>> traffic;
  const auto sessions = allSessions();
  {
    std::lock_guard lock(sessions_mu_);
    traffic = retired_traffic_;
  }
  for (const auto& s : sessions) {
    const auto c = s->counters();
    for (size_t k = 0; k < c.sent.size(); ++k) {
      auto& t = traffic[{s->peerName(), static_cast<int>(k)}];
      t.first += c.sent[k];
      t.second += c.received[k];
    }
  }
  for (const auto& [key, bytes] : traffic) {
    if (bytes.first == 0 && bytes.second == 0) continue;
    auto* t = m->add_traffic();
    t->set_peer(key.first);
    t->set_kind(std::string(bridge::trafficKindName(static_cast<bridge::TrafficKind>(key.second))));
    t->set_bytes_sent(bytes.first);
    t->set_bytes_received(bytes.second);
  }
  sendToController(std::move(env));
}

void AgentRuntime::profile(const wire::ProfileRequest& p) {
  auto chain = LayerChain::build(p.model(), p.seed());
  if (!chain) return sendToController(errorEnvelope(chain.status()));
  auto times =
      profileLayers(*chain, std::max(1, p.batch_size()), std::max(1, p.repetitions()), p.seed());
  wire::Envelope env;
  auto* r = env.mutable_profile_result();
  r->set_slowdown(meter_.slowdown());
  for (int i = 0; i < chain->numLayers(); ++i) {
    auto* l = r->add_layers();
    l->set_name(chain->info(i).name);
    // The emulated device is s times slower than this host at every layer.
    l->set_forward_backward_s(times[i] * meter_.slowdown());
    l->set_parameters(chain->info(i).parameters);
    l->set_activation_bytes(chain->info(i).activation_bytes);
  }
  sendToController(std::move(env));
}

void AgentRuntime::resetRun() {
  host_->reset();
  links_->closeAll();  // a next run dials what it needs
  run_active_.store(false);
}

void AgentRuntime::retire(const std::shared_ptr<bridge::Session>& s) {
  const auto c = s->counters();
  for (size_t k = 0; k < c.sent.size(); ++k) {
    auto& t = retired_traffic_[{s->peerName(), static_cast<int>(k)}];
    t.first += c.sent[k];
    t.second += c.received[k];
  }
}

void AgentRuntime::sendToController(wire::Envelope env) {
  std::shared_ptr<bridge::Session> s;
  {
    std::lock_guard lock(sessions_mu_);
    s = controller_;
  }
  if (s) s->send(std::move(env));
}

}  // namespace edgerig
