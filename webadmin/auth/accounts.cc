#include "webadmin/auth/accounts.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/status_macros.h"

namespace eds::webadmin {
namespace {

constexpr std::string_view kRecordId = "webadmin/accounts";

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
  });
}

bool ValidLanguage(std::string_view l) { return l == "fr" || l == "en"; }

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kReviewer:
      return "reviewer";
    case Role::kViewer:
      return "viewer";
  }
  return "viewer";
}

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "admin") return Role::kAdmin;
  if (name == "reviewer") return Role::kReviewer;
  if (name == "viewer") return Role::kViewer;
  return std::nullopt;
}

Result<std::unique_ptr<AccountBook>> AccountBook::Load(storage::Store& store, PasswordCost cost) {
  std::unique_ptr<AccountBook> book(new AccountBook(store, cost));
  EDS_ASSIGN_OR_RETURN(book->dummy_hash_, HashPassword("not a real account password", cost));
  EDS_ASSIGN_OR_RETURN(bool exists, store.Exists("", kRecordId));
  if (!exists) return book;
  EDS_ASSIGN_OR_RETURN(std::string text,
                       store.Read("", kRecordId, {"system", "account.load", "", ""}));
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_array()) return DataLossError("the account record is not a JSON array");
  MutexLock lock(book->mu_);
  for (const auto& e : doc) {
    Entry entry;
    entry.account.name = e.value("name", "");
    entry.account.role = ParseRole(e.value("role", "")).value_or(Role::kViewer);
    entry.account.language = e.value("language", "fr");
    entry.account.created = e.value("created", "");
    entry.hash = e.value("hash", "");
    book->entries_.push_back(std::move(entry));
  }
  return book;
}

bool AccountBook::Empty() const {
  MutexLock lock(mu_);
  return entries_.empty();
}

std::vector<Account> AccountBook::List() const {
  MutexLock lock(mu_);
  std::vector<Account> out;
  for (const auto& e : entries_) out.push_back(e.account);
  return out;
}

std::optional<Account> AccountBook::Find(std::string_view name) const {
  MutexLock lock(mu_);
  for (const auto& e : entries_) {
    if (e.account.name == name) return e.account;
  }
  return std::nullopt;
}

Result<Account> AccountBook::Verify(std::string_view name, std::string_view password) const {
  std::optional<Entry> found;
  {
    MutexLock lock(mu_);
    for (const auto& e : entries_) {
      if (e.account.name == name) found = e;
    }
  }
  // Hashing happens outside the lock: Argon2id takes a while on purpose.
  if (!found) {
    VerifyPassword(dummy_hash_, password);
    return UnauthenticatedError("wrong account name or password");
  }
  if (!VerifyPassword(found->hash, password)) {
    return UnauthenticatedError("wrong account name or password");
  }
  return found->account;
}

Status AccountBook::Create(const Account& account, std::string_view password,
                           const std::string& actor) {
  if (!ValidName(account.name)) {
    return InvalidArgumentError("account names use 1 to 64 letters, digits, '.', '-' or '_'");
  }
  if (!ValidLanguage(account.language)) return InvalidArgumentError("language must be fr or en");
  EDS_RETURN_IF_ERROR(CheckPasswordPolicy(password, account.name));
  EDS_ASSIGN_OR_RETURN(std::string hash, HashPassword(password, cost_));
  MutexLock lock(mu_);
  for (const auto& e : entries_) {
    if (e.account.name == account.name) {
      return AlreadyExistsError("account '" + account.name + "' exists");
    }
  }
  std::vector<Entry> next = entries_;
  Entry entry{account, std::move(hash)};
  entry.account.created = FormatRfc3339(std::chrono::system_clock::now());
  next.push_back(std::move(entry));
  return Save(next, {actor, "account.create", account.name, std::string(RoleName(account.role))});
}

Status AccountBook::SetPassword(std::string_view name, std::string_view password,
                                const std::string& actor) {
  EDS_RETURN_IF_ERROR(CheckPasswordPolicy(password, name));
  EDS_ASSIGN_OR_RETURN(std::string hash, HashPassword(password, cost_));
  MutexLock lock(mu_);
  std::vector<Entry> next = entries_;
  for (auto& e : next) {
    if (e.account.name != name) continue;
    e.hash = std::move(hash);
    return Save(next, {actor, "account.password", std::string(name), ""});
  }
  return NotFoundError("no account '" + std::string(name) + "'");
}

Status AccountBook::SetRole(std::string_view name, Role role, const std::string& actor) {
  MutexLock lock(mu_);
  std::vector<Entry> next = entries_;
  for (auto& e : next) {
    if (e.account.name != name) continue;
    e.account.role = role;
    if (Admins(next) == 0) return FailedPreconditionError("the box needs at least one admin");
    return Save(next, {actor, "account.role", std::string(name), std::string(RoleName(role))});
  }
  return NotFoundError("no account '" + std::string(name) + "'");
}

Status AccountBook::SetLanguage(std::string_view name, std::string_view language,
                                const std::string& actor) {
  if (!ValidLanguage(language)) return InvalidArgumentError("language must be fr or en");
  MutexLock lock(mu_);
  std::vector<Entry> next = entries_;
  for (auto& e : next) {
    if (e.account.name != name) continue;
    e.account.language = std::string(language);
    return Save(next, {actor, "account.language", std::string(name), std::string(language)});
  }
  return NotFoundError("no account '" + std::string(name) + "'");
}

Status AccountBook::Remove(std::string_view name, const std::string& actor) {
  MutexLock lock(mu_);
  std::vector<Entry> next;
  for (const auto& e : entries_) {
    if (e.account.name != name) next.push_back(e);
  }
  if (next.size() == entries_.size()) {
    return NotFoundError("no account '" + std::string(name) + "'");
  }
  if (Admins(next) == 0) return FailedPreconditionError("the box needs at least one admin");
  return Save(next, {actor, "account.remove", std::string(name), ""});
}

size_t AccountBook::Admins(const std::vector<Entry>& entries) {
  return static_cast<size_t>(std::count_if(entries.begin(), entries.end(), [](const Entry& e) {
    return e.account.role == Role::kAdmin;
  }));
}

Status AccountBook::Save(const std::vector<Entry>& entries, const storage::AuditEvent& event) {
  nlohmann::json doc = nlohmann::json::array();
  for (const auto& e : entries) {
    doc.push_back({{"name", e.account.name},
                   {"role", RoleName(e.account.role)},
                   {"language", e.account.language},
                   {"created", e.account.created},
                   {"hash", e.hash}});
  }
  EDS_RETURN_IF_ERROR(store_.Write({{"", std::string(kRecordId), doc.dump()}}, event));
  entries_ = entries;
  return OkStatus();
}

}  // namespace eds::webadmin
