// A real edgerig-agent process: it prints its port, authenticates, survives bad input of
// every kind and keeps serving, does the work it is asked, and dies with no leftovers.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <sys/stat.h>
#include <asio.hpp>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "core/controller/local_testbed.h"
#include "device_bridge/address.h"
#include "device_bridge/auth.h"
#include "device_bridge/frame.h"
#include "device_bridge/io_thread.h"
#include "device_bridge/session.h"

namespace edgerig {
namespace {

class AgentProcess : public testing::Test {
 protected:
  void SetUp() override {
    token_ = bridge::randomToken();
    auto tb = LocalTestbed::spawn(findAgentBinary(), {{"solo", 1, ""}}, token_, "");
    ASSERT_TRUE(tb.isOk()) << tb.status().message();
    testbed_ = std::move(tb).value();
    auto hp = bridge::parseHostPort(testbed_->address(0));
    ASSERT_TRUE(hp.isOk());
    addr_ = *hp;
  }

  Result<std::shared_ptr<bridge::Session>> dial(const std::string& token) {
    bridge::SessionOptions so;
    so.local_name = "test";
    so.handshake_timeout = std::chrono::milliseconds(3000);
    return bridge::connect(io_.context(), addr_, token, so);
  }

  // Sends raw bytes and returns what the agent answers before it closes.
  std::string rawExchange(const std::string& bytes) {
    asio::io_context io;
    asio::ip::tcp::socket sock(io);
    sock.connect({asio::ip::make_address(addr_.host), addr_.port});
    asio::write(sock, asio::buffer(bytes));
    std::string got;
    asio::error_code ec;
    char buf[4096];
    sock.non_blocking(false);
    timeval tv{5, 0};
    setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (;;) {
      size_t n = sock.read_some(asio::buffer(buf), ec);
      if (ec || n == 0) break;
      got.append(buf, n);
    }
    return got;
  }

  void expectStillServes() {
    auto s = dial(token_);
    ASSERT_TRUE(s.isOk()) << "agent stopped serving: " << s.status().message();
    EXPECT_GT((*s)->peerCores(), 0) << "the Welcome carries the device's core count";
    // Shared with the handler, which may still run on the I/O thread after this returns.
    auto reply = std::make_shared<std::promise<wire::Envelope>>();
    auto once = std::make_shared<std::once_flag>();
    auto fut = reply->get_future();
    (*s)->start(
        [reply, once](wire::Envelope&& env) {
          if (env.has_profile_result()) std::call_once(*once, [&] { reply->set_value(env); });
        },
        [](const Status&) {});
    wire::Envelope req;
    req.mutable_profile_request()->set_model("mlp");
    req.mutable_profile_request()->set_batch_size(8);
    req.mutable_profile_request()->set_repetitions(1);
    (*s)->send(req);
    ASSERT_EQ(fut.wait_for(std::chrono::seconds(20)), std::future_status::ready);
    auto env = fut.get();
    EXPECT_EQ(env.profile_result().layers_size(), 3);
    for (const auto& l : env.profile_result().layers()) EXPECT_GT(l.forward_backward_s(), 0);
    (*s)->close();
    EXPECT_TRUE(testbed_->alive(0));
  }

  std::string token_;
  bridge::HostPort addr_;
  bridge::IoThread io_;
  std::unique_ptr<LocalTestbed> testbed_;
};

TEST_F(AgentProcess, AnswersAnAuthenticatedController) { expectStillServes(); }

TEST_F(AgentProcess, RefusesAWrongTokenAndKeepsServing) {
  auto s = dial("not-the-token");
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.status().code(), StatusCode::kUnauthenticated) << s.status().message();
  expectStillServes();
}

// The error code of the first frame an agent answered with, or a description of what it sent
// instead (nothing, a partial header, a frame that is no Error).
std::string firstErrorOf(const std::string& answer) {
  if (answer.empty()) return "no answer";
  if (answer.size() < 4) return "a partial header of " + std::to_string(answer.size()) + " bytes";
  auto body = bridge::decodeBody(std::string_view(answer).substr(4));
  if (!body.isOk()) return "an undecodable frame: " + body.status().message();
  if (!body->has_error()) return "a frame that is no Error";
  return wire::ErrorCode_Name(body->error().code());
}

TEST_F(AgentProcess, SurvivesGarbageAndOversizeFramesAndKeepsServing) {
  // Text where a frame header belongs reads as a length of ~1.9 GB ("this"): refused as too
  // large, before anything is allocated, and said so before the agent hangs up.
  EXPECT_EQ(firstErrorOf(rawExchange("this is not a frame at all, just garbage bytes\r\n\x01\x02")),
            "ERROR_CODE_FRAME_TOO_LARGE");
  const std::string oversize("\xff\xff\xff\xf0", 4);  // ~4 GiB announced
  EXPECT_EQ(firstErrorOf(rawExchange(oversize)), "ERROR_CODE_FRAME_TOO_LARGE");
  wire::Envelope early;
  early.mutable_worker_start()->set_device(0);  // a command before the handshake
  EXPECT_EQ(firstErrorOf(rawExchange(bridge::encodeFrame(early))), "ERROR_CODE_OUT_OF_ORDER");
  expectStillServes();
}

TEST_F(AgentProcess, RefusesFaultsBeyondWhatEmulationTakesAndKeepsServing) {
  // A freeze of 1e300 s would overflow the clock its thaw is timed by, a slowdown of 1e300 the
  // sleep it is emulated with: each is refused with an error naming the field, the agent is
  // neither frozen nor slowed, and it goes on serving (a profile answers within seconds).
  auto s = dial(token_);
  ASSERT_TRUE(s.isOk()) << s.status().message();
  auto mu = std::make_shared<std::mutex>();
  auto errors = std::make_shared<std::vector<std::string>>();
  auto cv = std::make_shared<std::condition_variable>();
  (*s)->start(
      [mu, errors, cv](wire::Envelope&& env) {
        if (!env.has_run_error()) return;
        std::lock_guard lock(*mu);
        errors->push_back(env.run_error().detail());
        cv->notify_all();
      },
      [](const Status&) {});
  wire::Envelope freeze;
  freeze.mutable_fault()->set_kind(wire::FaultCommand::KIND_FREEZE);
  freeze.mutable_fault()->set_freeze_s(1e300);
  wire::Envelope slow;
  slow.mutable_fault()->set_kind(wire::FaultCommand::KIND_SLOWDOWN);
  slow.mutable_fault()->set_slowdown(1e300);
  wire::Envelope probe;
  auto* p = probe.mutable_probe_request();
  p->set_device(0);
  p->add_peers(testbed_->address(0));
  p->add_peers(testbed_->address(0));
  p->add_targets(1);
  p->set_chunks(1024);
  p->set_chunk_bytes(4u << 20);  // 4 GiB queued at once, were it taken
  (*s)->send(freeze);
  (*s)->send(slow);
  (*s)->send(probe);
  {
    std::unique_lock lock(*mu);
    ASSERT_TRUE(cv->wait_for(lock, std::chrono::seconds(10), [&] { return errors->size() >= 3; }))
        << errors->size() << " of 3 refusals came";
    EXPECT_NE((*errors)[0].find("freeze_s 1e+300"), std::string::npos) << (*errors)[0];
    EXPECT_NE((*errors)[1].find("slowdown 1e+300"), std::string::npos) << (*errors)[1];
    EXPECT_NE((*errors)[2].find("a burst of 4294967296 bytes"), std::string::npos) << (*errors)[2];
  }
  (*s)->close();
  const auto t0 = std::chrono::steady_clock::now();
  expectStillServes();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5))
      << "the agent was slowed or frozen by a refused fault";
}

TEST_F(AgentProcess, ExitsCleanlyOnSigtermAndIsReaped) {
  const pid_t pid = testbed_->pid(0);
  ASSERT_GT(pid, 0);
  // A clean exit, not the SIGKILL that follows when the grace period runs out.
  auto status = testbed_->terminate(0, std::chrono::seconds(5));
  ASSERT_TRUE(status.isOk()) << status.status().message();
  ASSERT_TRUE(WIFEXITED(*status)) << "the agent ended by signal " << WTERMSIG(*status);
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  EXPECT_NE(::kill(pid, 0), 0) << "agent process still exists";
}

// An agent that takes 2 s to start (a shell script that waits, then runs the real one) misses
// a 500 ms start timeout, and makes it when $EDGERIG_AGENT_START_S asks for longer; a value
// that is not a number of seconds is ignored.
TEST(AgentStart, EnvironmentLengthensTheStartTimeout) {
  char dir_template[] = "/tmp/edgerig-slow-agent-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string script = dir + "/slow-agent.sh";
  {
    std::ofstream out(script);
    out << "#!/bin/sh\nsleep 2\nexec '" << findAgentBinary() << "' \"$@\"\n";
  }
  ASSERT_EQ(::chmod(script.c_str(), 0755), 0);
  const std::string token = bridge::randomToken();
  auto spawn = [&] {
    return LocalTestbed::spawn(script, {{"slow", 1, ""}}, token, "",
                               std::chrono::milliseconds(500));
  };
  ::unsetenv("EDGERIG_AGENT_START_S");
  auto missed = spawn();
  ASSERT_FALSE(missed.isOk());
  EXPECT_NE(missed.status().message().find("did not report its port"), std::string::npos)
      << missed.status().message();
  ::setenv("EDGERIG_AGENT_START_S", "two", 1);
  EXPECT_FALSE(spawn().isOk());
  ::setenv("EDGERIG_AGENT_START_S", "30", 1);
  auto made = spawn();
  ::unsetenv("EDGERIG_AGENT_START_S");
  ASSERT_TRUE(made.isOk()) << made.status().message();
  EXPECT_FALSE((*made)->address(0).empty());
  (*made).reset();  // SIGTERM, then reap
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace edgerig
