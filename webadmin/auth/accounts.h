// AccountBook: the people who may use the admin UI, each with one role (admin: system, feeds,
// users; reviewer: releases and objections; viewer: read-only) and a UI language. Passwords are
// kept as Argon2id hashes only. The book is one encrypted store record bound to no patient; every
// change is a durable write with its audit entry. Thread-safe; `store` must outlive the book.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/mutex.h"
#include "common/result.h"
#include "storage/store.h"
#include "webadmin/auth/password.h"

namespace eds::webadmin {

enum class Role { kAdmin, kReviewer, kViewer };
std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

struct Account {
  std::string name;
  Role role = Role::kViewer;
  std::string language = "fr";  // "fr" or "en"
  std::string created;          // RFC 3339
};

class AccountBook {
 public:
  static Result<std::unique_ptr<AccountBook>> Load(storage::Store& store, PasswordCost cost = {});

  bool Empty() const;
  std::vector<Account> List() const;
  std::optional<Account> Find(std::string_view name) const;
  // The account when `password` is right; kUnauthenticated otherwise (unknown name included,
  // after the same hashing work, so timing does not tell which).
  Result<Account> Verify(std::string_view name, std::string_view password) const;

  // Names: 1..64 of letters, digits, '.', '-', '_'. kAlreadyExists for a taken name;
  // kInvalidArgument for a bad name, language or a password the policy refuses.
  Status Create(const Account& account, std::string_view password, const std::string& actor);
  Status SetPassword(std::string_view name, std::string_view password, const std::string& actor);
  // kFailedPrecondition when it would leave no admin.
  Status SetRole(std::string_view name, Role role, const std::string& actor);
  Status SetLanguage(std::string_view name, std::string_view language, const std::string& actor);
  Status Remove(std::string_view name, const std::string& actor);

 private:
  struct Entry {
    Account account;
    std::string hash;
  };
  AccountBook(storage::Store& store, PasswordCost cost) : store_(store), cost_(cost) {}
  Status Save(const std::vector<Entry>& entries, const storage::AuditEvent& event)
      EDS_REQUIRES(mu_);
  static size_t Admins(const std::vector<Entry>& entries);

  storage::Store& store_;
  const PasswordCost cost_;
  std::string dummy_hash_;  // verified against for unknown names
  mutable Mutex mu_;
  std::vector<Entry> entries_ EDS_GUARDED_BY(mu_);
};

}  // namespace eds::webadmin
