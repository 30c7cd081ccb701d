// Listener: accepts connections and runs the server side of the handshake on each, holding at
// most limits.max_unauthenticated strangers at once (the oldest is dropped for a newcomer).
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <deque>

#include "device_bridge/log.h"
#include "device_bridge/session.h"
#include "device_bridge/session_access.h"

namespace edgerig::bridge {

namespace {

// After a failed accept (e.g. out of file descriptors) wait before trying again, not spin.
constexpr std::chrono::milliseconds kAcceptRetry{100};

}  // namespace

struct Listener::State : std::enable_shared_from_this<Listener::State> {
  State(asio::io_context& io, std::string token, SessionOptions options,
        std::function<void(std::shared_ptr<Session>)> on_session)
      : acceptor(io),
        retry(io),
        token(std::move(token)),
        options(std::move(options)),
        on_session(std::move(on_session)) {}

  void accept() {
    acceptor.async_accept(
        [self = shared_from_this()](std::error_code ec, asio::ip::tcp::socket socket) {
          if (!self->acceptor.is_open()) return;
          if (ec) {
            logger("edgerig.bridge")
                ->warn("listener on {}: accept failed: {}; retrying", self->where, ec.message());
            self->retry.expires_after(kAcceptRetry);
            self->retry.async_wait([self](std::error_code wait_ec) {
              if (!wait_ec) self->accept();
            });
            return;
          }
          auto session = detail::SessionAccess::make(std::move(socket), self->options, self->token);
          self->admit(session);
          // Failures were already answered and logged by the session; only successes go on.
          std::weak_ptr<State> weak = self;
          detail::SessionAccess::serverHandshake(
              session, [weak](Result<std::shared_ptr<Session>> result) {
                auto state = weak.lock();
                if (!result || !state || !state->acceptor.is_open()) {
                  if (result) result.value()->close();
                  return;
                }
                if (state->on_session) state->on_session(std::move(result).value());
              });
          self->accept();
        });
  }

  // Keeps the strangers (handshakes in progress) to the cap: the oldest goes first, so that a
  // crowd of slow or silent connections cannot keep the controller out.
  void admit(const std::shared_ptr<Session>& session) {
    std::erase_if(strangers, [](const std::weak_ptr<Session>& w) {
      auto s = w.lock();
      return !s || !detail::SessionAccess::handshaking(s);
    });
    const size_t cap = std::max<size_t>(1, options.limits.max_unauthenticated);
    while (strangers.size() >= cap) {
      if (auto oldest = strangers.front().lock()) {
        detail::SessionAccess::refuse(
            oldest, wire::ERROR_CODE_BUSY,
            "dropped: " + std::to_string(cap) +
                " connections were already waiting to authenticate and a newer one came");
      }
      strangers.pop_front();
    }
    strangers.push_back(session);
  }

  asio::ip::tcp::acceptor acceptor;
  asio::steady_timer retry;
  std::deque<std::weak_ptr<Session>> strangers;
  std::string token;
  SessionOptions options;
  std::function<void(std::shared_ptr<Session>)> on_session;
  std::string where;
};

Result<std::unique_ptr<Listener>> Listener::create(
    asio::io_context& io, const HostPort& at, std::string token, SessionOptions options,
    std::function<void(std::shared_ptr<Session>)> on_session) {
  if (token.empty()) {
    return Status(
        StatusCode::kUnauthenticated,
        "refusing to listen on " + at.str() + " without a token; give the agent a token file");
  }
  std::error_code ec;
  asio::ip::tcp::endpoint endpoint;
  const auto address = asio::ip::make_address(at.host, ec);
  if (!ec) {
    endpoint = {address, at.port};
  } else {
    asio::ip::tcp::resolver resolver(io);
    const auto results = resolver.resolve(at.host, std::to_string(at.port), ec);
    if (ec || results.empty()) {
      return unavailable("cannot listen on " + at.str() + ": host not found (" + ec.message() +
                         ")");
    }
    endpoint = results.begin()->endpoint();
  }
  // Every listener bounds what strangers can cost: refusals are logged once per address, and
  // frames wait on an agent-wide budget (the caller's, shared with its dialed sessions).
  options.refusals = std::make_shared<RefusalLog>();
  if (!options.memory_budget) {
    options.memory_budget = std::make_shared<MemoryBudget>(options.limits.memory_budget_bytes);
  }
  auto state =
      std::make_shared<State>(io, std::move(token), std::move(options), std::move(on_session));
  auto& acceptor = state->acceptor;
  const auto failed = [&](const char* what) -> Status {
    return unavailable("cannot listen on " + at.str() + ": " + what + " failed: " + ec.message() +
                       (ec == asio::error::address_in_use ? " (is another agent running?)" : ""));
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return failed("open");
  acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (ec) return failed("setsockopt");
  acceptor.bind(endpoint, ec);
  if (ec) return failed("bind");
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return failed("listen");
  const uint16_t port = acceptor.local_endpoint(ec).port();
  if (ec) return failed("getsockname");
  state->where = HostPort{endpoint.address().to_string(), port}.str();
  logger("edgerig.bridge")->info("listening on {}", state->where);
  // Accepting starts on the io thread; the acceptor is only touched there from now on.
  asio::post(io, [state] { state->accept(); });
  return std::unique_ptr<Listener>(new Listener(std::move(state), port));
}

Listener::Listener(std::shared_ptr<State> state, uint16_t port)
    : state_(std::move(state)), port_(port) {}

Listener::~Listener() { close(); }

void Listener::close() {
  asio::post(state_->acceptor.get_executor(), [state = state_] {
    std::error_code ec;
    if (!state->acceptor.is_open()) return;
    state->acceptor.close(ec);
    state->retry.cancel();
    logger("edgerig.bridge")->debug("listener on {} closed", state->where);
  });
}

}  // namespace edgerig::bridge
