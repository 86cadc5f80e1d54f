#include "ingest/pseudonymizer.h"

#include <gtest/gtest.h>

namespace eds::ingest {
namespace {

TEST(PseudonymizerTest, SameIdentifierSamePseudonymWhateverItsSpelling) {
  const storage::SecretKey key = storage::SecretKey::Random();
  Pseudonymizer p(key.Clone());
  const std::string a =
      p.Pseudonym({"urn:oid:1.2.250.1.213.1.4.8", "1 85 12 75 123 456 78", "INS-NIR"});
  const std::string b = p.Pseudonym({" 1.2.250.1.213.1.4.8", "185127512345678", ""});
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(p.Pseudonym({"HTTPS://Example.org/ids/", "42", ""}),
            p.Pseudonym({"https://example.org/ids", "42", ""}));
  // Another system, another value or another node secret: another pseudonym.
  EXPECT_NE(p.Pseudonym({"1.2.3", "42", ""}), p.Pseudonym({"1.2.4", "42", ""}));
  EXPECT_NE(p.Pseudonym({"1.2.3", "42", ""}), p.Pseudonym({"1.2.3", "43", ""}));
  Pseudonymizer other(storage::SecretKey::Random());
  EXPECT_NE(other.Pseudonym({"1.2.3", "42", ""}), p.Pseudonym({"1.2.3", "42", ""}));
  // Hospital numbers keep their case: they are opaque to us.
  EXPECT_NE(p.Pseudonym({"HOSP", "ab1", ""}), p.Pseudonym({"HOSP", "AB1", ""}));
}

TEST(PseudonymizerTest, PrimaryIdentifierIsInsThenHospitalNumber) {
  std::vector<Identifier> ids = {{"http://hl7.org/fhir/sid/us-ssn", "999-12-3456", "SS"},
                                 {"HOSP", "0045781236", "PI"},
                                 {"urn:oid:1.2.250.1.213.1.4.8", "185127512345678", ""}};
  EXPECT_EQ(Pseudonymizer::PrimaryIndex(ids), 2u);
  ids.pop_back();
  EXPECT_EQ(Pseudonymizer::PrimaryIndex(ids), 1u);
  ids.pop_back();
  EXPECT_EQ(Pseudonymizer::PrimaryIndex(ids), 0u);
  EXPECT_EQ(Pseudonymizer::PrimaryIndex({{"", "1", "MR"}, {"X", "", "MR"}}), std::nullopt);
}

TEST(PseudonymizerTest, AliasTextIsTheNormalisedIdentifier) {
  EXPECT_EQ(Pseudonymizer::AliasOf({"urn:oid:1.2.250.1.213.1.4.8", " 2 85 ", ""}),
            "id:1.2.250.1.213.1.4.8|285");
}

}  // namespace
}  // namespace eds::ingest
