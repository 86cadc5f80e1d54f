#include "storage/record_codec.h"

#include <gtest/gtest.h>

#include <numeric>
#include <set>
#include <thread>

#include "storage/internal/record_format.h"
#include "tests/testing/fhir_corpus.h"
#include "tests/testing/status_matchers.h"

namespace eds::storage {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;

void ExpectRoundTrip(const RecordCodec& codec, const std::vector<std::string>& resources,
                     size_t* envelope_bytes) {
  const SecretKey dek = SecretKey::Random();
  size_t i = 0;
  for (const auto& r : resources) {
    const std::string key = "record-key-" + std::to_string(i++);
    auto env = codec.Encode(key, r, dek);
    ASSERT_THAT(env, IsOk());
    *envelope_bytes += env->size();
    auto back = codec.Decode(key, *env, dek);
    ASSERT_THAT(back, IsOk());
    ASSERT_EQ(*back, r);
  }
}

TEST(RecordCodecTest, RoundTripsEveryFhirResourceWithAndWithoutDictionary) {
  std::vector<std::string> resources = eds::testing::CommittedFhirResources();
  const auto shared = eds::testing::SharedFhirResources();
  if (shared.empty()) {
    std::cout << "shared test data absent: round trip on the committed fixtures only\n";
  }
  resources.insert(resources.end(), shared.begin(), shared.end());
  ASSERT_GT(resources.size(), 50u);
  size_t plain = 0;
  for (const auto& r : resources) plain += r.size();

  RecordCodec codec;
  size_t without_dict = 0;
  ExpectRoundTrip(codec, resources, &without_dict);

  auto dict = RecordCodec::TrainDictionary(resources);
  ASSERT_THAT(dict, IsOk());
  ASSERT_THAT(codec.AddDictionary(1, *dict, true), IsOk());
  size_t with_dict = 0;
  ExpectRoundTrip(codec, resources, &with_dict);
  std::cout << resources.size() << " resources, " << plain << " B plain, " << without_dict
            << " B without dictionary, " << with_dict << " B with\n";
  EXPECT_LT(with_dict, without_dict);
  EXPECT_LT(with_dict * 3, plain);
}

TEST(RecordCodecTest, RecordsMadeWithAnOlderDictionaryStayReadable) {
  const auto resources = eds::testing::CommittedFhirResources();
  RecordCodec codec;
  ASSERT_THAT(codec.AddDictionary(1, *RecordCodec::TrainDictionary(resources), true), IsOk());
  const SecretKey dek = SecretKey::Random();
  auto old_env = codec.Encode("k", resources[0], dek);
  ASSERT_THAT(old_env, IsOk());
  ASSERT_THAT(codec.AddDictionary(2, *RecordCodec::TrainDictionary(resources, 8 * 1024), true),
              IsOk());
  EXPECT_EQ(codec.current_dictionary(), 2u);
  EXPECT_EQ(*codec.Decode("k", *old_env, dek), resources[0]);

  RecordCodec fresh;  // a codec that never loaded dictionary 1
  EXPECT_THAT(fresh.Decode("k", *old_env, dek), StatusIs(StatusCode::kDataLoss));
}

TEST(RecordCodecTest, IncompressibleDataIsStoredRaw) {
  RecordCodec codec;
  const SecretKey dek = SecretKey::Random();
  const SecretKey noise = SecretKey::Random();
  const std::string data(noise.view());
  auto env = codec.Encode("k", data, dek);
  ASSERT_THAT(env, IsOk());
  EXPECT_EQ(static_cast<uint8_t>((*env)[1]),
            static_cast<uint8_t>(internal::RecordCompression::kNone));
  EXPECT_EQ(env->size(), data.size() + internal::kRecordHeaderSize + internal::kRecordTagSize);
  EXPECT_EQ(*codec.Decode("k", *env, dek), data);
}

TEST(RecordCodecTest, AnyFlippedByteIsDataLossNeverGarbage) {
  RecordCodec codec;
  const SecretKey dek = SecretKey::Random();
  const std::string plain = eds::testing::CommittedFhirResources().at(0);
  const std::string env = *codec.Encode("key-a", plain, dek);
  for (size_t i = 0; i < env.size(); ++i) {
    std::string bad = env;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_THAT(codec.Decode("key-a", bad, dek), StatusIs(StatusCode::kDataLoss)) << "byte " << i;
  }
  EXPECT_THAT(codec.Decode("key-a", env.substr(0, env.size() - 1), dek),
              StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(codec.Decode("key-a", env.substr(0, 10), dek), StatusIs(StatusCode::kDataLoss));
}

TEST(RecordCodecTest, SwappedValueAndWrongKeyAreDataLoss) {
  RecordCodec codec;
  const SecretKey dek = SecretKey::Random();
  const std::string a = *codec.Encode("key-a", "{\"resourceType\":\"Patient\",\"id\":\"a\"}", dek);
  const std::string b = *codec.Encode("key-b", "{\"resourceType\":\"Patient\",\"id\":\"b\"}", dek);
  EXPECT_THAT(codec.Decode("key-b", a, dek), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(codec.Decode("key-a", b, dek), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(codec.Decode("key-a", a, SecretKey::Random()), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(codec.Decode("key-a", a, dek), IsOk());
}

TEST(RecordCodecTest, SameRecordEncryptsDifferentlyEachTime) {
  RecordCodec codec;
  const SecretKey dek = SecretKey::Random();
  EXPECT_NE(*codec.Encode("k", "same payload", dek), *codec.Encode("k", "same payload", dek));
}

TEST(RecordCodecTest, CompressedBytesShowsWhatATrainedDictionaryGains) {
  const auto resources = eds::testing::CommittedFhirResources();
  ASSERT_GE(resources.size(), 80u);
  std::vector<std::string> train(resources.begin(), resources.begin() + 60);
  std::vector<std::string> held(resources.begin() + 60, resources.end());
  auto trained = RecordCodec::TrainDictionary(train, 64 * 1024);
  ASSERT_THAT(trained, IsOk());
  const size_t raw = std::accumulate(held.begin(), held.end(), size_t{0},
                                     [](size_t n, const std::string& s) { return n + s.size(); });
  const size_t plain = RecordCodec::CompressedBytes(held, "", 3);
  const size_t with_dictionary = RecordCodec::CompressedBytes(held, *trained, 3);
  EXPECT_LT(plain, raw);
  EXPECT_LT(with_dictionary, plain);
}

TEST(RecordCodecTest, NoncesNeverRepeatAcrossEnvelopesAndThreads) {
  RecordCodec codec;
  const SecretKey dek = SecretKey::Random();
  constexpr int kPerThread = 5000;
  std::vector<std::string> nonces[2];
  auto seal = [&](int t) {
    for (int i = 0; i < kPerThread; ++i) {
      const std::string env = *codec.Encode("k", "same payload", dek);
      nonces[t].push_back(
          env.substr(internal::kRecordHeaderAuthenticated, internal::kRecordNonceSize));
    }
  };
  std::thread other(seal, 1);
  seal(0);
  other.join();
  std::set<std::string> distinct(nonces[0].begin(), nonces[0].end());
  distinct.insert(nonces[1].begin(), nonces[1].end());
  EXPECT_EQ(distinct.size(), 2u * kPerThread);
}

TEST(RecordCodecTest, SmallValuesAreSealedWithoutCompression) {
  RecordCodec codec;
  const SecretKey dek = SecretKey::Random();
  const std::string small(40, 'a');  // compressible, but too small to be worth zstd
  auto env = codec.Encode("k", small, dek);
  ASSERT_THAT(env, IsOk());
  EXPECT_EQ(static_cast<uint8_t>((*env)[1]),
            static_cast<uint8_t>(internal::RecordCompression::kNone));
  EXPECT_EQ(*codec.Decode("k", *env, dek), small);
  const std::string larger(400, 'a');
  auto compressed = codec.Encode("k", larger, dek);
  ASSERT_THAT(compressed, IsOk());
  EXPECT_EQ(static_cast<uint8_t>((*compressed)[1]),
            static_cast<uint8_t>(internal::RecordCompression::kZstd));
  EXPECT_EQ(*codec.Decode("k", *compressed, dek), larger);
}

}  // namespace
}  // namespace eds::storage
