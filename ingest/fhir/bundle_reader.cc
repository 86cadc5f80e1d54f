// ReadBundle (declared in reader.h): batch and transaction Bundles.
#include <string>
#include <unordered_set>
#include <utility>

#include "ingest/fhir/internal/issue_sink.h"
#include "ingest/fhir/internal/primitives.h"
#include "ingest/fhir/internal/read_common.h"
#include "ingest/fhir/internal/validator.h"
#include "ingest/fhir/reader.h"

namespace eds::ingest::fhir {
namespace {

using internal::IssueSink;
using internal::PathNode;
using internal::RenderChild;
using internal::RenderPath;
using simdjson::SUCCESS;
using simdjson::dom::element;
using simdjson::dom::object;

constexpr std::string_view kWhat = "FHIR Bundle";
constexpr std::string_view kBundleTypes[] = {
    "document", "message",   "transaction", "transaction-response", "batch", "batch-response",
    "history",  "searchset", "collection"};

bool ParseMethod(std::string_view s, HttpMethod* method) {
  static constexpr std::pair<std::string_view, HttpMethod> kMethods[] = {
      {"GET", HttpMethod::kGet}, {"HEAD", HttpMethod::kHead},     {"POST", HttpMethod::kPost},
      {"PUT", HttpMethod::kPut}, {"DELETE", HttpMethod::kDelete}, {"PATCH", HttpMethod::kPatch}};
  for (const auto& [name, m] : kMethods) {
    if (name == s) {
      *method = m;
      return true;
    }
  }
  return false;
}

// Byte spans of each Bundle.entry[i].resource in the padded input. The DOM does not keep source
// positions, but simdjson's On Demand API does, so the stored text can be the bytes that were
// sent (decimal precision such as "1.50" survives). False if the walk fails; the caller then
// serialises from the DOM instead.
bool ResourceSpans(internal::ThreadParsers* p, std::vector<std::string_view>* spans) {
  simdjson::ondemand::document doc;
  const simdjson::padded_string_view input(p->padded.data(), p->length, p->padded.size());
  if (p->ondemand.iterate(input).get(doc) != SUCCESS) return false;
  simdjson::ondemand::object root;
  if (doc.get_object().get(root) != SUCCESS) return false;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key) != SUCCESS) return false;
    if (key != "entry") continue;
    simdjson::ondemand::array entries;
    if (field.value().get_array().get(entries) != SUCCESS) return false;
    size_t i = 0;
    for (auto item : entries) {
      simdjson::ondemand::object entry;
      if (item.get_object().get(entry) != SUCCESS) return false;
      bool found = false;  // The DOM's lookup also takes the first "resource".
      for (auto entry_field : entry) {
        std::string_view entry_key;
        if (entry_field.unescaped_key().get(entry_key) != SUCCESS) return false;
        if (found || entry_key != "resource") continue;
        simdjson::ondemand::object resource;
        std::string_view raw;
        if (entry_field.value().get_object().get(resource) != SUCCESS ||
            resource.raw_json().get(raw) != SUCCESS) {
          return false;
        }
        if (i < spans->size()) (*spans)[i] = raw;
        found = true;
      }
      ++i;
    }
    return true;  // Only the first "entry" member counts, as in the DOM.
  }
  return true;
}

void OptionalString(object obj, std::string_view key, const PathNode& path, IssueSink* sink,
                    std::string* out) {
  element v;
  if (obj[key].get(v) != SUCCESS) return;
  std::string_view s;
  if (v.get_string().get(s) != SUCCESS) {
    sink->Error("structure", RenderChild(path, key), "must be a JSON string");
  } else {
    *out = std::string(s);
  }
}

// Reads entry.request; returns true when the method is one this node carries out.
bool ReadRequest(object entry, const PathNode& entry_path, IssueSink* sink, BundleEntry* out) {
  const PathNode request{&entry_path, "request", -1};
  element value;
  object r;
  if (entry["request"].get(value) != SUCCESS) {
    sink->Error("required", RenderPath(request),
                "batch and transaction entries need a request (bdl-3)");
    return false;
  }
  if (value.get_object().get(r) != SUCCESS) {
    sink->Error("structure", RenderPath(request), "must be a JSON object");
    return false;
  }
  bool supported = false;
  std::string_view method;
  if (r["method"].get(value) != SUCCESS) {
    sink->Error("required", RenderChild(request, "method"), "request.method is required");
  } else if (value.get_string().get(method) != SUCCESS) {
    sink->Error("structure", RenderChild(request, "method"), "must be a JSON string");
  } else if (!ParseMethod(method, &out->method)) {
    sink->Error("value", RenderChild(request, "method"),
                "is not a FHIR HTTP verb (GET | HEAD | POST | PUT | DELETE | PATCH)");
  } else if (out->method != HttpMethod::kPost && out->method != HttpMethod::kPut) {
    sink->Error("not-supported", RenderChild(request, "method"),
                "only POST and PUT entries are supported");
  } else {
    supported = true;
  }
  std::string_view url;
  if (r["url"].get(value) != SUCCESS) {
    sink->Error("required", RenderChild(request, "url"), "request.url is required");
  } else if (value.get_string().get(url) != SUCCESS) {
    sink->Error("structure", RenderChild(request, "url"), "must be a JSON string");
  } else if (url.empty()) {
    sink->Error("value", RenderChild(request, "url"), "must not be empty");
  } else {
    out->url = std::string(url);
  }
  OptionalString(r, "ifNoneExist", request, sink, &out->if_none_exist);
  OptionalString(r, "ifMatch", request, sink, &out->if_match);
  return supported;
}

// request.url must address the entry's resource: POST "Type", PUT "Type/id" (id equal to
// Resource.id) or "Type?criteria". Absolute URLs are left to the server.
void CheckRequestUrl(const BundleEntry& e, std::string_view type, const PathNode& entry_path,
                     const PathNode& resource_path, IssueSink* sink) {
  std::string_view url = e.url;
  if (url.empty() || url.find("://") != std::string_view::npos) return;
  const std::string expression = RenderChild(entry_path, "request.url");
  if (url.front() == '/') url.remove_prefix(1);
  const size_t query = url.find('?');
  const std::string_view path = url.substr(0, query);
  if (path.find('$') != std::string_view::npos) {
    sink->Error("not-supported", expression, "operations ($name) are not supported");
    return;
  }
  const std::string_view url_type = path.substr(0, path.find('/'));
  if (url_type != type) {
    sink->Error("value", expression, "does not start with the resource type " + std::string(type));
    return;
  }
  const std::string_view rest = path.substr(url_type.size());
  if (e.method == HttpMethod::kPost) {
    if (!rest.empty()) {
      sink->Error("not-supported", expression, "a POST entry must name only the resource type");
    }
    return;
  }
  if (rest.empty()) {
    if (query == std::string_view::npos) {
      sink->Error("value", expression, "a PUT entry needs Type/id or Type?criteria");
    }
    return;
  }
  const std::string_view id = rest.substr(1);
  if (!internal::IsFhirId(id)) {
    sink->Error("not-supported", expression, "a PUT entry must address Type/id");
  } else if (e.resource.id.empty()) {
    sink->Error("required", RenderChild(resource_path, "id"),
                "a PUT Type/id entry needs the same id in the resource");
  } else if (e.resource.id != id) {
    sink->Error("value", RenderChild(resource_path, "id"), "does not match the id in request.url");
  }
}

void ResolveReferences(const std::vector<FoundReference>& references,
                       const std::unordered_set<std::string_view>& full_urls,
                       const PathNode& resource_path, IssueSink* sink) {
  for (const FoundReference& ref : references) {
    if (ref.reference.rfind("urn:uuid:", 0) != 0 || full_urls.count(ref.reference) > 0) continue;
    sink->Error("not-found", RenderChild(resource_path, ref.path),
                "urn:uuid reference does not match the fullUrl of any entry");
  }
}

void ReadEntry(element value, const PathNode& entry_path,
               const std::unordered_set<std::string_view>& full_urls, std::string_view span,
               IssueSink* sink, BundleEntry* out) {
  object e;
  if (value.get_object().get(e) != SUCCESS) {
    sink->Error("structure", RenderPath(entry_path), "must be a JSON object");
    return;
  }
  OptionalString(e, "fullUrl", entry_path, sink, &out->full_url);
  const bool supported = ReadRequest(e, entry_path, sink, out);
  const PathNode resource_path{&entry_path, "resource", -1};
  element resource_value;
  if (e["resource"].get(resource_value) != SUCCESS) {
    if (supported) {
      sink->Error("required", RenderPath(resource_path), "a POST or PUT entry needs a resource");
    }
    return;
  }
  object resource;
  if (resource_value.get_object().get(resource) != SUCCESS) {
    sink->Error("structure", RenderPath(resource_path), "must be a JSON object");
    return;
  }
  std::string_view type;
  if (!internal::CheckResourceType(resource, resource_path, sink, &type)) return;
  internal::ProcessResource(resource, type, resource_path, sink, &out->resource);
  if (supported) CheckRequestUrl(*out, type, entry_path, resource_path, sink);
  // A Bundle stored as a resource has its own fullUrls; its references are not ours to resolve.
  if (type != "Bundle") ResolveReferences(out->resource.references, full_urls, resource_path, sink);
  if (sink->error_count() == 0) {
    out->resource.json = span.empty() ? simdjson::minify(resource) : internal::Minify(span);
  }
}

// Bundle.id and Bundle.type; false when the Bundle cannot be read as batch or transaction.
bool ReadHeader(object bundle, const PathNode& path, IssueSink* sink, ParsedBundle* out) {
  element value;
  std::string_view s;
  if (bundle["id"].get(value) == SUCCESS) {
    if (value.get_string().get(s) == SUCCESS && internal::IsFhirId(s)) {
      out->id = std::string(s);
    } else {
      sink->Error("value", RenderChild(path, "id"), "is not an id ([A-Za-z0-9-.]{1,64})");
    }
  }
  if (bundle["type"].get(value) != SUCCESS) {
    sink->Error("required", RenderChild(path, "type"), "Bundle.type is required");
    return false;
  }
  if (value.get_string().get(s) != SUCCESS) {
    sink->Error("structure", RenderChild(path, "type"), "must be a JSON string");
    return false;
  }
  if (s == "batch" || s == "transaction") {
    out->type = s == "batch" ? BundleType::kBatch : BundleType::kTransaction;
    return true;
  }
  for (std::string_view known : kBundleTypes) {
    if (known == s) {
      sink->Error("not-supported", RenderChild(path, "type"),
                  "only batch and transaction Bundles are accepted, not " + std::string(s));
      return false;
    }
  }
  sink->Error("value", RenderChild(path, "type"), "is not a Bundle type");
  return false;
}

// Indexes the entries' fullUrls (bdl-7: unique) and returns the number of entries.
size_t CollectFullUrls(simdjson::dom::array entries, const PathNode& bundle_path, IssueSink* sink,
                       std::unordered_set<std::string_view>* full_urls) {
  const PathNode entry_list{&bundle_path, "entry", -1};
  int64_t i = 0;
  for (element e : entries) {
    std::string_view full_url;
    if (e["fullUrl"].get_string().get(full_url) == SUCCESS && !full_url.empty() &&
        !full_urls->insert(full_url).second) {
      const PathNode entry_path{&entry_list, {}, i};
      sink->Error("invariant", RenderChild(entry_path, "fullUrl"),
                  "fullUrl is not unique in the Bundle (bdl-7)");
    }
    ++i;
  }
  return static_cast<size_t>(i);
}

// Reads every entry; each gets its own issues so that a batch can answer per entry. Counts the
// entries' errors in *errors and keeps the first in *first_error.
void ReadEntries(simdjson::dom::array entries, const PathNode& bundle_path,
                 const std::unordered_set<std::string_view>& full_urls,
                 const std::vector<std::string_view>& spans, std::vector<Issue>* issues,
                 ParsedBundle* out, size_t* errors, std::string* first_error) {
  const PathNode entry_list{&bundle_path, "entry", -1};
  out->entries.reserve(spans.size());
  int64_t i = 0;
  for (element e : entries) {
    const PathNode entry_path{&entry_list, {}, i++};
    BundleEntry entry;
    entry.index = out->entries.size();
    std::vector<Issue> entry_issues;
    IssueSink entry_sink(&entry_issues);
    const std::string_view span = entry.index < spans.size() ? spans[entry.index] : "";
    ReadEntry(e, entry_path, full_urls, span, &entry_sink, &entry);
    if (issues != nullptr) issues->insert(issues->end(), entry_issues.begin(), entry_issues.end());
    if (entry_sink.error_count() > 0) {
      if (*errors == 0) *first_error = entry_sink.first_error();
      *errors += entry_sink.error_count();
      entry.status = internal::RejectedStatus("Bundle entry", entry_sink.error_count(),
                                              entry_sink.first_error());
    }
    entry.issues = std::move(entry_issues);
    out->entries.push_back(std::move(entry));
  }
}

}  // namespace

Result<ParsedBundle> ReadBundle(std::string_view json, std::vector<Issue>* issues) {
  IssueSink sink(issues);
  internal::ThreadParsers& parsers = internal::LocalParsers();
  element root;
  object bundle;
  std::string_view type;
  const PathNode unknown{nullptr, "Resource", -1};
  if (!internal::Parse(json, &parsers, &sink, &root)) {
    return internal::RejectedStatus(kWhat, sink.error_count(), sink.first_error());
  }
  if (root.get_object().get(bundle) != SUCCESS) {
    sink.Error("structure", "", "a FHIR resource must be a JSON object");
  } else if (internal::CheckResourceType(bundle, unknown, &sink, &type) && type != "Bundle") {
    sink.Error("not-supported", "Resource.resourceType",
               "a Bundle of type batch or transaction is expected, not " + std::string(type));
  }
  if (sink.error_count() > 0) {
    return internal::RejectedStatus(kWhat, sink.error_count(), sink.first_error());
  }
  const PathNode bundle_path{nullptr, "Bundle", -1};
  ParsedBundle out;
  simdjson::dom::array entries;
  element entries_value;
  bool readable = ReadHeader(bundle, bundle_path, &sink, &out);
  const bool has_entries = readable && bundle["entry"].get(entries_value) == SUCCESS;
  if (has_entries && entries_value.get_array().get(entries) != SUCCESS) {
    sink.Error("structure", "Bundle.entry", "must be a JSON array");
    readable = false;
  }
  if (!readable) return internal::RejectedStatus(kWhat, sink.error_count(), sink.first_error());
  size_t entry_errors = 0;
  std::string first_entry_error;
  if (has_entries) {  // A batch or transaction without entries is valid.
    std::unordered_set<std::string_view> full_urls;
    const size_t count = CollectFullUrls(entries, bundle_path, &sink, &full_urls);
    std::vector<std::string_view> spans(count);
    if (count > 0 && !ResourceSpans(&parsers, &spans)) spans.assign(count, {});
    ReadEntries(entries, bundle_path, full_urls, spans, issues, &out, &entry_errors,
                &first_entry_error);
  }
  const size_t errors =
      sink.error_count() + (out.type == BundleType::kTransaction ? entry_errors : 0);
  if (errors > 0) {
    return internal::RejectedStatus(
        kWhat, errors, sink.error_count() > 0 ? sink.first_error() : first_entry_error);
  }
  return out;
}

}  // namespace eds::ingest::fhir
