// host:port parsing and printing.
#include <gtest/gtest.h>

#include "device_bridge/address.h"

namespace edgerig::bridge {
namespace {

TEST(Address, ParsesTheUsualForms) {
  auto a = parseHostPort("127.0.0.1:0");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 0);
  auto b = parseHostPort("[::1]:7000");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 7000);
  auto c = parseHostPort("pi.local:65535");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "pi.local");
  EXPECT_EQ(c->port, 65535);
}

TEST(Address, StrRoundTrips) {
  for (const char* text : {"127.0.0.1:0", "[::1]:7000", "pi.local:7000", "[fe80::1]:1"}) {
    auto parsed = parseHostPort(text);
    ASSERT_TRUE(parsed) << text;
    EXPECT_EQ(parsed->str(), text);
  }
}

TEST(Address, RejectsWithAMessageThatHelps) {
  struct Case {
    const char* text;
    const char* hint;
  };
  for (const Case& c :
       {Case{"localhost", "no port"}, Case{":7000", "no host"}, Case{"host:", "invalid port"},
        Case{"host:65536", "invalid port"}, Case{"host:-1", "invalid port"},
        Case{"host:12ab", "invalid port"}, Case{"::1:7000", "brackets"},
        Case{"[::1]7000", "[ipv6]:port"}, Case{"[::1", "[ipv6]:port"}, Case{"", "no port"}}) {
    auto r = parseHostPort(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.hint), std::string::npos)
        << c.text << ": " << r.status().message();
    EXPECT_NE(r.status().message().find(std::string("'") + c.text + "'"), std::string::npos);
  }
}

}  // namespace
}  // namespace edgerig::bridge
