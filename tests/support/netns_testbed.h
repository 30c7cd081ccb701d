// Agents in network namespaces for tests of real kernel rate limits: each agent in its own
// namespace, its veth's other end on a bridge in this namespace; agents on bridge 0 and bridge 1
// are two halves whose only path is a veth pair between the two bridges (a "crossing link").
// `tc tbf` can limit one agent's interface or the crossing link. Needs root and `ip netns`
// (skip() says why not). Namespaces, links and agent processes are named after this process and
// removed by the destructor, failed or not. makeController() adds a namespace on bridge 0 for a
// controller process (`ip netns exec controllerNs() edgerig-run ...`); setAgentLink() takes an
// agent's veth down and up (a cable pulled). Shared by tst_link_probe_netns, tst_dssync_netns and
// tst_remote_netns.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "core/controller/local_testbed.h"
#include "device_bridge/auth.h"
#include "tests/support/scratch_dir.h"

namespace edgerig::testsupport {

inline int sh(const std::string& cmd) {
  const int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

class NetnsTestbed {
 public:
  // Why this host cannot run it ("" if it can).
  static std::string skip() {
    if (::geteuid() != 0) return "needs root to make network namespaces (CI runs as root)";
    if (sh("ip netns list") != 0) return "`ip netns` is not available on this host";
    if (sh("tc qdisc help") > 1) return "`tc` is not available on this host";
    return "";
  }

  // `bridge_of[i]`: the bridge (0 or 1) agent i hangs on; with any agent on bridge 1, the two
  // bridges are joined by a veth pair. Fails the test (ASSERT) on any step.
  void make(const std::vector<int>& bridge_of) {
    const int id = static_cast<int>(::getpid()) % 100000;
    // A letter per testbed of this process: a namespace's links go some time after it.
    static int made = 0;
    tag_ = "ep" + std::to_string(id) + static_cast<char>('a' + made++ % 26);
    // A /24 of 10.0.0.0/8 of our own, from the pid, apart from other tests' namespaces.
    subnet_ = "10." + std::to_string(200 + id % 50) + "." + std::to_string(id / 50 % 250) + ".";
    bridge_of_ = bridge_of;
    made_ = true;
    bool two = false;
    for (int b : bridge_of) two = two || b == 1;
    for (int b = 0; b < (two ? 2 : 1); ++b) {
      const std::string br = bridge(b);
      ASSERT_EQ(sh("ip link add " + br + " type bridge"), 0) << "cannot make a bridge";
      ASSERT_EQ(sh("ip link set " + br + " up"), 0);
    }
    ASSERT_EQ(sh("ip addr add " + subnet_ + "1/24 dev " + bridge(0)), 0);
    if (two) {
      ASSERT_EQ(sh("ip link add x" + tag_ + "a type veth peer name x" + tag_ + "b"), 0);
      ASSERT_EQ(sh("ip link set x" + tag_ + "a master " + bridge(0)), 0);
      ASSERT_EQ(sh("ip link set x" + tag_ + "b master " + bridge(1)), 0);
      ASSERT_EQ(sh("ip link set x" + tag_ + "a up"), 0);
      ASSERT_EQ(sh("ip link set x" + tag_ + "b up"), 0);
    }
    for (size_t i = 0; i < bridge_of.size(); ++i) {
      const std::string ns = this->ns(static_cast<int>(i)), in = inner(static_cast<int>(i)),
                        out = "v" + tag_ + std::to_string(i);
      ASSERT_EQ(sh("ip netns add " + ns), 0) << ns;
      ASSERT_EQ(sh("ip link add " + out + " type veth peer name " + in), 0);
      ASSERT_EQ(sh("ip link set " + in + " netns " + ns), 0);
      ASSERT_EQ(sh("ip link set " + out + " master " + bridge(bridge_of[i])), 0);
      ASSERT_EQ(sh("ip link set " + out + " up"), 0);
      ASSERT_EQ(sh("ip netns exec " + ns + " ip addr add " + address(static_cast<int>(i)) +
                   "/24 dev " + in),
                0);
      ASSERT_EQ(sh("ip netns exec " + ns + " ip link set " + in + " up"), 0);
      ASSERT_EQ(sh("ip netns exec " + ns + " ip link set lo up"), 0);
    }
    token_file_ = scratch_.path("token");
    std::ofstream(token_file_) << bridge::randomToken() << "\n";
    ::chmod(token_file_.c_str(), 0600);
  }

  // A namespace for the controller, its veth on bridge 0 (after make()). Whatever runs in it is
  // the caller's to end; the namespace goes with the destructor.
  void makeController() {
    controller_made_ = true;
    const std::string out = "c" + tag_, in = "q" + tag_;
    ASSERT_EQ(sh("ip netns add " + controllerNs()), 0) << controllerNs();
    ASSERT_EQ(sh("ip link add " + out + " type veth peer name " + in), 0);
    ASSERT_EQ(sh("ip link set " + in + " netns " + controllerNs()), 0);
    ASSERT_EQ(sh("ip link set " + out + " master " + bridge(0)), 0);
    ASSERT_EQ(sh("ip link set " + out + " up"), 0);
    ASSERT_EQ(sh("ip netns exec " + controllerNs() + " ip addr add " + subnet_ + "5/24 dev " + in),
              0);
    ASSERT_EQ(sh("ip netns exec " + controllerNs() + " ip link set " + in + " up"), 0);
    ASSERT_EQ(sh("ip netns exec " + controllerNs() + " ip link set lo up"), 0);
  }
  std::string controllerNs() const { return "ns" + tag_ + "-c"; }

  // Agent i's veth, its bridge end: down, nothing reaches the agent nor leaves it (TCP keeps its
  // connections and retransmits); up again, traffic resumes.
  void setAgentLink(int i, bool up) {
    ASSERT_EQ(sh("ip link set v" + tag_ + std::to_string(i) + (up ? " up" : " down")), 0);
  }

  // Runs `cmd` in agent i's namespace (`ss -K ...`, `ip route ...`); its exit code.
  int inAgentNs(int i, const std::string& cmd) const {
    return sh("ip netns exec " + ns(i) + " " + cmd);
  }
  std::string agentIp(int i) const { return address(i); }
  std::string agentNs(int i) const { return ns(i); }

  // tbf on what agent i sends.
  void capAgent(int i, double mbit) {
    ASSERT_EQ(sh("ip netns exec " + ns(i) + " tc qdisc add dev " + inner(i) + " root " + tbf(mbit)),
              0)
        << "the kernel has no tbf qdisc";
  }
  // tbf on both directions of the link between the two bridges.
  void capCrossing(double mbit) {
    for (const char* end : {"a", "b"}) {
      ASSERT_EQ(sh("tc qdisc add dev x" + tag_ + end + " root " + tbf(mbit)), 0)
          << "the kernel has no tbf qdisc";
    }
  }

  // The agent binary inside each namespace (ip netns exec execs it in place: its pid is the
  // agent's), each started once it prints its listening line.
  void startAgents() {
    for (size_t i = 0; i < bridge_of_.size(); ++i) {
      ASSERT_NO_FATAL_FAILURE(startAgent(static_cast<int>(i)));
    }
  }

  ~NetnsTestbed() {
    for (pid_t pid : agents_) ::kill(pid, SIGTERM);
    for (pid_t pid : agents_) {
      int status = 0;
      for (int t = 0; t < 50 && ::waitpid(pid, &status, WNOHANG) == 0; ++t) ::usleep(100000);
      if (::waitpid(pid, &status, WNOHANG) == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
      }
    }
    if (!made_) return;
    if (controller_made_) sh("ip netns del " + controllerNs());
    for (size_t i = 0; i < bridge_of_.size(); ++i) {
      sh("ip netns del " + ns(static_cast<int>(i)));  // takes its veth end along
    }
    sh("ip link del x" + tag_ + "a");
    sh("ip link del " + bridge(0));
    sh("ip link del " + bridge(1));
    // The kernel takes a namespace's veths down after `ip netns del` returns: wait for them.
    for (int t = 0; t < 50 && sh("ip link show v" + tag_ + "0") == 0; ++t) ::usleep(100000);
  }

  const std::vector<std::string>& remote() const { return remote_; }
  // Agent i's address as the controller dials it ("10.x.y.z:7411").
  const std::string& agentAddress(int i) const { return remote_[static_cast<size_t>(i)]; }
  const std::string& tokenFile() const { return token_file_; }

 private:
  std::string ns(int i) const { return "ns" + tag_ + "-" + std::to_string(i); }
  std::string inner(int i) const { return "p" + tag_ + std::to_string(i); }
  std::string bridge(int b) const { return (b == 0 ? "br" : "bs") + tag_; }
  std::string address(int i) const { return subnet_ + std::to_string(11 + i); }
  static std::string tbf(double mbit) {
    return "tbf rate " + std::to_string(static_cast<int>(mbit)) + "mbit burst 32kbit latency 400ms";
  }

  void startAgent(int i) {
    int out[2];
    ASSERT_EQ(::pipe(out), 0);
    const std::string binary = findAgentBinary();
    const std::string listen = address(i) + ":7411", name = "dev" + std::to_string(i);
    const std::string ns_name = ns(i);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::execlp("ip", "ip", "netns", "exec", ns_name.c_str(), binary.c_str(), "--listen",
               listen.c_str(), "--name", name.c_str(), "--token-file", token_file_.c_str(),
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    agents_.push_back(pid);
    std::string line;
    pollfd p{out[0], POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      if (::poll(&p, 1, 200) <= 0) continue;
      char buf[256];
      const ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    ::close(out[0]);
    ASSERT_NE(line.find("listening on"), std::string::npos)
        << "agent " << name << " in " << ns_name << " did not start: '" << line << "'";
    remote_.push_back(listen);
  }

  ScratchDir scratch_{"netns"};
  std::string tag_, subnet_, token_file_;
  bool made_ = false, controller_made_ = false;
  std::vector<int> bridge_of_;
  std::vector<pid_t> agents_;
  std::vector<std::string> remote_;
};

}  // namespace edgerig::testsupport
