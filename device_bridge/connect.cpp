// Dialing: resolve, connect with a timeout, then the client side of the handshake.
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <future>

#include "device_bridge/log.h"
#include "device_bridge/session.h"
#include "device_bridge/session_access.h"

namespace edgerig::bridge {

namespace {

using Done = std::function<void(Result<std::shared_ptr<Session>>)>;

// One dial attempt. Owns the resolver, socket and timer until the session takes over.
struct Dialer : std::enable_shared_from_this<Dialer> {
  Dialer(asio::io_context& io, HostPort to, std::string token, SessionOptions options, Done done)
      : resolver(io),
        socket(io),
        timer(io),
        to(std::move(to)),
        token(std::move(token)),
        options(std::move(options)),
        done(std::move(done)) {}

  void run() {
    timer.expires_after(options.connect_timeout);
    timer.async_wait([self = shared_from_this()](std::error_code ec) {
      if (ec == asio::error::operation_aborted || self->finished) return;
      self->timed_out = true;
      self->resolver.cancel();
      std::error_code ignored;
      self->socket.close(ignored);
    });
    resolver.async_resolve(to.host, std::to_string(to.port),
                           [self = shared_from_this()](
                               std::error_code ec, asio::ip::tcp::resolver::results_type results) {
                             if (ec) return self->fail(ec, "resolving the host");
                             asio::async_connect(
                                 self->socket, results,
                                 [self](std::error_code ec, const asio::ip::tcp::endpoint&) {
                                   if (ec) return self->fail(ec, "connecting");
                                   self->handshake();
                                 });
                           });
  }

  void handshake() {
    finished = true;
    timer.cancel();
    auto session = detail::SessionAccess::make(std::move(socket), options, std::move(token));
    detail::SessionAccess::clientHandshake(session, std::move(done));
  }

  void fail(std::error_code ec, const char* what) {
    finished = true;
    timer.cancel();
    const std::string reason =
        timed_out ? "no answer within " + std::to_string(options.connect_timeout.count()) + " ms"
                  : ec.message();
    Status status(timed_out ? StatusCode::kTimeout : StatusCode::kUnavailable,
                  "cannot reach agent at " + to.str() + ": " + what + " failed: " + reason +
                      "; is edgerig-agent running there and the port open?");
    logger("edgerig.bridge")->info("{}", status.message());
    auto callback = std::move(done);
    callback(std::move(status));
  }

  asio::ip::tcp::resolver resolver;
  asio::ip::tcp::socket socket;
  asio::steady_timer timer;
  HostPort to;
  std::string token;
  SessionOptions options;
  Done done;
  bool finished = false;
  bool timed_out = false;
};

}  // namespace

void asyncConnect(asio::io_context& io, const HostPort& to, std::string token,
                  SessionOptions options, Done done) {
  if (token.empty()) {
    asio::post(io, [done = std::move(done), to] {
      done(
          Status(StatusCode::kUnauthenticated, "no token to authenticate to " + to.str() +
                                                   "; pass the token file shared with the agents"));
    });
    return;
  }
  auto dialer =
      std::make_shared<Dialer>(io, to, std::move(token), std::move(options), std::move(done));
  asio::post(io, [dialer] { dialer->run(); });
}

Result<std::shared_ptr<Session>> connect(asio::io_context& io, const HostPort& to,
                                         const std::string& token, SessionOptions options) {
  if (io.get_executor().running_in_this_thread()) {
    return internalError("connect() to " + to.str() +
                         " would block the io thread it needs; use asyncConnect there");
  }
  const auto limit = options.connect_timeout + options.handshake_timeout + std::chrono::seconds(1);
  auto promise = std::make_shared<std::promise<Result<std::shared_ptr<Session>>>>();
  auto future = promise->get_future();
  asyncConnect(io, to, token, std::move(options),
               [promise](Result<std::shared_ptr<Session>> r) { promise->set_value(std::move(r)); });
  if (future.wait_for(limit) != std::future_status::ready) {
    return Status(StatusCode::kTimeout,
                  "connect() to " + to.str() + " got no result; is the io_context running?");
  }
  return future.get();
}

}  // namespace edgerig::bridge
