#include "storage/key_ring.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace eds::storage {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;

TEST(KeyRingTest, UnwrapsOnlyInTheSameContextUnderTheSameMaster) {
  KeyRing ring(SecretKey::Random());
  KeyRing other(SecretKey::Random());
  const SecretKey dek = SecretKey::Random();
  const std::string wrapped = ring.Wrap("slot 1", dek);
  auto back = ring.Unwrap("slot 1", wrapped);
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->view(), dek.view());
  EXPECT_THAT(ring.Unwrap("slot 2", wrapped), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(other.Unwrap("slot 1", wrapped), StatusIs(StatusCode::kDataLoss));
  EXPECT_EQ(wrapped.find(std::string(dek.view())), std::string::npos);
  EXPECT_NE(ring.MasterKeyId(), other.MasterKeyId());
}

TEST(KeyFileTest, ReadsHexOrRawAndWritesPrivately) {
  eds::testing::TempDir dir;
  const SecretKey key = SecretKey::Random();
  const std::string path = dir.Sub("keys/master.key");
  ASSERT_THAT(WriteKeyFile(path, key), IsOk());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto read = ReadKeyFile(path);
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(read->view(), key.view());
  EXPECT_THAT(ReadKeyFile(dir.Sub("absent")), StatusIs(StatusCode::kNotFound));
  FILE* f = std::fopen(dir.Sub("short").c_str(), "w");
  std::fputs("abcd\n", f);
  std::fclose(f);
  EXPECT_THAT(ReadKeyFile(dir.Sub("short")), StatusIs(StatusCode::kInvalidArgument));
}

TEST(KeyFileTest, CredentialWinsOverKeyFileAndCreationIsOptIn) {
  eds::testing::TempDir dir;
  MasterKeySource source{"eds-master-key", dir.Sub("dev.key"), false};
  ::unsetenv("CREDENTIALS_DIRECTORY");
  EXPECT_THAT(LoadMasterKey(source), StatusIs(StatusCode::kNotFound));
  source.create_key_file = true;
  auto created = LoadMasterKey(source);
  ASSERT_THAT(created, IsOk());
  auto again = LoadMasterKey(source);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->key.view(), created->key.view());

  const SecretKey cred = SecretKey::Random();
  ASSERT_THAT(WriteKeyFile(dir.Sub("creds/eds-master-key"), cred), IsOk());
  ::setenv("CREDENTIALS_DIRECTORY", dir.Sub("creds").c_str(), 1);
  auto from_cred = LoadMasterKey(source);
  ::unsetenv("CREDENTIALS_DIRECTORY");
  ASSERT_THAT(from_cred, IsOk());
  EXPECT_EQ(from_cred->key.view(), cred.view());
  EXPECT_EQ(from_cred->origin, "credential eds-master-key");
}

}  // namespace
}  // namespace eds::storage
