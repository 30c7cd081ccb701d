// Authentication primitives and the token file.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "device_bridge/auth.h"
#include "tests/support/scratch_dir.h"

namespace edgerig::bridge {
namespace {

std::string hex(const std::string& raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

class TempDir {
 public:
  TempDir() : dir_("auth") {}
  std::string file(const std::string& name) const { return dir_.path(name); }

 private:
  testsupport::ScratchDir dir_;
};

TEST(Auth, HmacMatchesRfc4231) {
  // Test case 1.
  EXPECT_EQ(hex(hmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2: a key shorter than the block.
  EXPECT_EQ(hex(hmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block is hashed first.
  EXPECT_EQ(hex(hmacSha256(std::string(131, '\xaa'),
                           "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(Auth, EmptyKeyStillGivesAMac) {
  EXPECT_EQ(hmacSha256("", "nonce").size(), 32u);
  EXPECT_NE(hmacSha256("", "nonce"), hmacSha256("x", "nonce"));
}

TEST(Auth, RandomTokensAreHexAndDistinct) {
  const std::string a = randomToken(), b = randomToken();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
  EXPECT_EQ(randomBytes(32).size(), 32u);
  EXPECT_NE(randomBytes(32), randomBytes(32));
}

TEST(Auth, ConstantTimeEqual) {
  EXPECT_TRUE(constantTimeEqual("abc", "abc"));
  EXPECT_FALSE(constantTimeEqual("abc", "abd"));
  EXPECT_FALSE(constantTimeEqual("abc", "ab"));
  EXPECT_FALSE(constantTimeEqual("", "a"));
  EXPECT_TRUE(constantTimeEqual("", ""));
}

TEST(TokenFile, WriteThenReadWithMode0600) {
  TempDir dir;
  const std::string path = dir.file("token");
  const std::string token = randomToken();
  ASSERT_TRUE(writeTokenFile(path, token));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto read = readTokenFile(path);
  ASSERT_TRUE(read) << read.status().message();
  EXPECT_EQ(*read, token);
}

TEST(TokenFile, RewritingTightensAnOpenMode) {
  TempDir dir;
  const std::string path = dir.file("token");
  { std::ofstream(path) << "old"; }
  ::chmod(path.c_str(), 0644);
  ASSERT_TRUE(writeTokenFile(path, "new"));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*readTokenFile(path), "new");
}

TEST(TokenFile, TrailingWhitespaceIsTrimmed) {
  TempDir dir;
  const std::string path = dir.file("token");
  { std::ofstream(path) << "secret \t\r\n\n"; }
  EXPECT_EQ(*readTokenFile(path), "secret");
}

TEST(TokenFile, MissingFileNamesThePath) {
  TempDir dir;
  const std::string path = dir.file("absent");
  auto read = readTokenFile(path);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.status().code(), StatusCode::kNotFound);
  EXPECT_NE(read.status().message().find(path), std::string::npos);
}

TEST(TokenFile, EmptyOrBlankFileIsAnError) {
  TempDir dir;
  for (const char* contents : {"", "  \n\n"}) {
    const std::string path = dir.file("blank");
    { std::ofstream(path) << contents; }
    auto read = readTokenFile(path);
    ASSERT_FALSE(read);
    EXPECT_NE(read.status().message().find(path), std::string::npos);
    EXPECT_NE(read.status().message().find("empty"), std::string::npos);
  }
}

TEST(TokenFile, UnreadableFileNamesThePath) {
  TempDir dir;
  // A directory cannot be read as a file, even by root (who ignores mode bits).
  const std::string path = dir.file("adir");
  std::filesystem::create_directory(path);
  auto read = readTokenFile(path);
  ASSERT_FALSE(read);
  EXPECT_NE(read.status().message().find(path), std::string::npos);
}

TEST(TokenFile, WriteIntoMissingDirectoryFails) {
  TempDir dir;
  const std::string path = dir.file("no/such/dir/token");
  const Status st = writeTokenFile(path, "x");
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find(path), std::string::npos);
}

}  // namespace
}  // namespace edgerig::bridge
