#include "storage/record_codec.h"

#include <gtest/gtest.h>

#include <numeric>
#include <set>
#include <thread>

#include "common/encoding.h"
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
  // version, compression, dictionary id 0 (one byte), nonce, then the ciphertext and its tag
  EXPECT_EQ(env->size(), 3 + internal::kRecordNonceSize + data.size() + internal::kRecordTagSize);
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
      const auto header = internal::ParseRecordHeader(env);
      ASSERT_TRUE(header.ok());
      nonces[t].push_back(env.substr(header->nonce_offset, header->nonce_size));
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

// Envelopes written by the first format (30-byte header, zstd frames with their magic number and
// dictionary id), made with a fixed data key: a store written then must stay readable.
constexpr std::string_view kV1Raw =
    "01000000000004aceb2a65058acdc03ca955c30504d0a17f5e0a82cdbb52b0df28804511f4d4f052c0c0404dbbf500"
    "03d3f45ae9d71ac40f23bfd730fd7be990ca6009798f44233880837d8ae7627772d6e0";
constexpr std::string_view kV1Zstd =
    "0101000000009c39f290fcbbfee7930e56ecb23b15587bf0e039a0d65972133df68593d8d6eb31502066b725baea2a"
    "07bca2a8687ed20b6873fbe7989f60b9272545cbb472f09ca7065e616085dffebc22ce3a0d5fd26bd000bc20018940"
    "34c0a6f893ccecaee1fcc06bc580e198dd3ab18d175a213e9e57d9577747fee002817e86b98989aeaa20d8cac67d5f"
    "1a764fda89ce16ee5b9741f35fc6b0f7dcacdbbd7a3d91cb2c88de66d15cfcd561fd90701628821e0a12e428a0816e"
    "15ce0126f91112ce5bd6fd6e5336efad57f39f9d1e0e9095de4491d8f336e09546177115b3b2c5";
constexpr std::string_view kV1Dictionary =
    "010200000007143b034085d8fb358858e4dd5c6b90adc9ddcf9cb0009c022a111a7695859785a572df5adc05aa44f0"
    "08e6f29553e96c0db3905f3905171b40b4b5d20b57704576580072a98d79cedbb98d66ee23924a30fd";
constexpr std::string_view kV1Patient = "{\"resourceType\":\"Patient\",\"id\":\"v1\"}";
constexpr std::string_view kV1Observation =
    "{\"resourceType\":\"Observation\",\"id\":\"v1-obs\",\"status\":\"final\",\"code\":{"
    "\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8302-2\",\"display\":\"Body "
    "Height\"}]},\"valueQuantity\":{\"value\":176.4,\"unit\":\"cm\",\"system\":\"http://"
    "unitsofmeasure.org\",\"code\":\"cm\"}}";
// Dictionary 7 of the kV1Dictionary envelope: zstd takes any bytes as a raw-content dictionary.
constexpr std::string_view kV1DictionaryContent =
    "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":"
    "\"http://loinc.org\",\"code\":\"8302-2\",\"display\":\"Body Height\"}]},\"valueQuantity\":{"
    "\"unit\":\"cm\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"cm\"}}";

SecretKey FixedDataKey() {
  std::string bytes;
  for (int i = 1; i <= 32; ++i) bytes.push_back(static_cast<char>(i));
  return *SecretKey::FromBytes(bytes);
}

TEST(RecordCodecTest, EnvelopesOfTheFirstFormatStayReadable) {
  RecordCodec codec;
  ASSERT_THAT(codec.AddDictionary(7, std::string(kV1DictionaryContent), false), IsOk());
  const SecretKey dek = FixedDataKey();
  const std::string raw = *HexDecode(kV1Raw);
  const std::string zstd = *HexDecode(kV1Zstd);
  const std::string dictionary = *HexDecode(kV1Dictionary);
  ASSERT_EQ(raw[0], 1);
  EXPECT_EQ(codec.Decode("v1-raw", raw, dek).value(), kV1Patient);
  EXPECT_EQ(codec.Decode("v1-zstd", zstd, dek).value(), kV1Observation);
  EXPECT_EQ(codec.Decode("v1-dict", dictionary, dek).value(), kV1Observation);
  // Still authenticated: under another key, or with a changed header byte, they are refused.
  EXPECT_THAT(codec.Decode("v1-zstd", dictionary, dek), StatusIs(StatusCode::kDataLoss));
  std::string bad = dictionary;
  bad[5] = 8;  // names dictionary 8
  EXPECT_THAT(codec.Decode("v1-dict", bad, dek), StatusIs(StatusCode::kDataLoss));
}

TEST(RecordCodecTest, NewEnvelopesAreCompactAndNameTheirDictionaryOnlyInTheHeader) {
  RecordCodec codec;
  ASSERT_THAT(codec.AddDictionary(7, std::string(kV1DictionaryContent), true), IsOk());
  const SecretKey dek = FixedDataKey();
  const std::string env = *codec.Encode("v2-dict", kV1Observation, dek);
  const auto header = internal::ParseRecordHeader(env);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->version, internal::kRecordFormatVersion);
  EXPECT_EQ(header->compression, internal::RecordCompression::kZstdDictionary);
  EXPECT_EQ(header->dictionary_id, 7u);
  EXPECT_EQ(header->size, 3 + internal::kRecordNonceSize);
  // The same record in the first format took 15 bytes more: 11 of header, 4 of zstd magic number
  // (a raw-content dictionary has no id; a trained one's 4-byte id is left out of frames too).
  EXPECT_EQ(env.size() + 15, HexDecode(kV1Dictionary)->size());
  EXPECT_EQ(codec.Decode("v2-dict", env, dek).value(), kV1Observation);

  RecordCodec other;  // dictionary 7 with other content: the frame does not decode to the record
  ASSERT_THAT(other.AddDictionary(7, "another dictionary altogether", true), IsOk());
  auto decoded = other.Decode("v2-dict", env, dek);
  EXPECT_FALSE(decoded.ok() && *decoded == kV1Observation);
}

TEST(RecordCodecTest, WhileAnOlderEdsdMayOpenTheStoreEnvelopesOfTheFirstFormatAreWritten) {
  RecordCodec codec;
  ASSERT_THAT(codec.AddDictionary(7, std::string(kV1DictionaryContent), true), IsOk());
  codec.set_write_version(1);
  const SecretKey dek = FixedDataKey();
  const std::string env = *codec.Encode("v1-dict", kV1Observation, dek);
  // Laid out as the fixture an edsd of the first format wrote: same header, same frame size.
  ASSERT_EQ(env.size(), HexDecode(kV1Dictionary)->size());
  EXPECT_EQ(env.substr(0, 6), HexDecode(kV1Dictionary)->substr(0, 6));
  EXPECT_EQ(codec.Decode("v1-dict", env, dek).value(), kV1Observation);
  const std::string small = *codec.Encode("v1-raw", kV1Patient, dek);
  EXPECT_EQ(small.size(), HexDecode(kV1Raw)->size());
  EXPECT_EQ(codec.Decode("v1-raw", small, dek).value(), kV1Patient);

  codec.set_write_version(2);
  EXPECT_EQ(codec.Encode("v2", kV1Observation, dek)->at(0), 2);
}

TEST(RecordCodecTest, HeadersThatAreCutShortOrOfAnUnknownVersionAreRefused) {
  EXPECT_FALSE(internal::ParseRecordHeader("").ok());
  EXPECT_FALSE(internal::ParseRecordHeader(std::string("\x02\x00", 2)).ok());
  EXPECT_FALSE(internal::ParseRecordHeader(std::string("\x02\x00\x80", 3)).ok());
  EXPECT_FALSE(internal::ParseRecordHeader(std::string(19, '\x03')).ok());
  EXPECT_TRUE(
      internal::ParseRecordHeader(std::string("\x02\x00\x00", 3) + std::string(16, 'n')).ok());
  RecordCodec codec;
  auto unknown = codec.Decode("k", std::string(60, '\x03'), SecretKey::Random());
  EXPECT_THAT(unknown, StatusIs(StatusCode::kDataLoss));
  EXPECT_NE(unknown.status().message().find("unknown version 3"), std::string::npos);
}

}  // namespace
}  // namespace eds::storage
