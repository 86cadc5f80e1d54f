#include "ingest/bulk_ingest.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "common/status_macros.h"
#include "ingest/fhir/reader.h"
#include "ingest/resource_filing.h"

namespace eds::ingest {
namespace {

constexpr std::string_view kProgressPrefix = "import-progress:";

nlohmann::json ToJson(const ImportProgress& p) {
  return {{"offset", p.offset},
          {"line", p.line},
          {"stored", p.stored},
          {"duplicates", p.duplicates},
          {"rejected", p.rejected}};
}

RejectedLine Rejection(uint64_t line, const std::vector<fhir::Issue>& issues) {
  for (const auto& i : issues) {
    if (i.severity == "error" || i.severity == "fatal") {
      return {line, i.diagnostics, i.expression.empty() ? "" : i.expression.front()};
    }
  }
  return {line, "not a valid FHIR R4 resource", ""};
}

}  // namespace

BulkIngest::BulkIngest(storage::Store& store, const Pseudonymizer& pseudonymizer)
    : store_(store), pseudonymizer_(pseudonymizer) {}

Result<std::optional<ImportProgress>> BulkIngest::Progress(const std::string& source_id) {
  auto text = store_.Read("", std::string(kProgressPrefix) + source_id,
                          {"system", "import.progress", source_id, ""});
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return std::optional<ImportProgress>();
    return text.status();
  }
  const auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return DataLossError("import progress is corrupt");
  ImportProgress p;
  p.source_id = source_id;
  p.offset = j.value("offset", uint64_t{0});
  p.line = j.value("line", uint64_t{1});
  p.stored = j.value("stored", uint64_t{0});
  p.duplicates = j.value("duplicates", uint64_t{0});
  p.rejected = j.value("rejected", uint64_t{0});
  return std::optional<ImportProgress>(p);
}

ReadChunk BulkIngest::Read(std::string_view chunk, uint64_t first_line) {
  ReadChunk read;
  read.bytes = chunk.size();
  read.first_line = first_line;
  // Split into lines, then read them on two threads: reading and validating is most of the work
  // and every line stands alone. Filing stays in line order (a Patient before its resources).
  std::vector<std::string_view> texts;
  uint64_t line = first_line;
  for (size_t pos = 0; pos < chunk.size(); ++line) {
    size_t end = chunk.find('\n', pos);
    if (end == std::string_view::npos) end = chunk.size();
    std::string_view text = chunk.substr(pos, end - pos);
    pos = end + 1;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.find_first_not_of(" \t") == std::string_view::npos) continue;
    read.lines.push_back({line, std::nullopt, {}});
    texts.push_back(text);
  }
  read.end_line = line;
  auto parse = [&read, &texts](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      read.lines[i].resource = fhir::ReadResource(texts[i], &read.lines[i].issues);
    }
  };
  constexpr size_t kParallelFrom = 256;  // below this a thread costs more than it saves
  if (texts.size() >= kParallelFrom) {
    const size_t half = texts.size() / 2;
    std::thread other(parse, half, texts.size());
    parse(0, half);
    other.join();
  } else {
    parse(0, texts.size());
  }
  return read;
}

Result<ChunkResult> BulkIngest::IngestChunk(std::string_view chunk, const ImportProgress& before,
                                            const std::string& actor) {
  return Ingest(Read(chunk, before.line), before, actor);
}

Result<ChunkResult> BulkIngest::Ingest(ReadChunk chunk, const ImportProgress& before,
                                       const std::string& actor) {
  EDS_ASSIGN_OR_RETURN(PreparedChunk prepared, Prepare(std::move(chunk), before, actor, nullptr));
  return Commit(std::move(prepared));
}

Result<PreparedChunk> BulkIngest::Prepare(ReadChunk chunk, const ImportProgress& before,
                                          const std::string& actor, const ChunkNames* committing) {
  if (before.source_id.empty()) return InvalidArgumentError("an import needs a source id");
  if (chunk.first_line != before.line) {
    return InvalidArgumentError("chunk read from line " + std::to_string(chunk.first_line) +
                                " does not continue line " + std::to_string(before.line));
  }
  PreparedChunk prepared;
  ChunkResult& result = prepared.result;
  FilingBatch batch(store_, pseudonymizer_);
  if (committing != nullptr) batch.set_pending_aliases(&committing->aliases);
  for (auto& l : chunk.lines) {
    auto& resource = *l.resource;
    if (!resource.ok()) {
      result.rejected.push_back(Rejection(l.number, l.issues));
      continue;
    }
    if (resource->id.empty()) {
      result.rejected.push_back(
          {l.number, "a bulk NDJSON resource needs an id", resource->resource_type + ".id"});
      continue;
    }
    if (resource->kind == fhir::ResourceKind::kPatient) {
      batch.AddPatient(*resource, resource->id, std::move(resource->json));
    } else {
      batch.Add(*resource, resource->id, resource->subject_reference, std::move(resource->json));
    }
  }
  // A resource stored before with the same content (an import run again) is a duplicate.
  EDS_ASSIGN_OR_RETURN(result.duplicates,
                       batch.DropHeld([](const storage::RecordWrite&) { return true; }));
  result.stored = batch.records().size();
  result.progress = before;
  result.progress.offset += chunk.bytes;
  result.progress.line = chunk.end_line;
  result.progress.stored += result.stored;
  result.progress.duplicates += result.duplicates;
  result.progress.rejected += result.rejected.size();
  for (const auto& r : batch.records()) prepared.names.ids.insert(r.logical_id);
  for (const auto& a : batch.aliases()) prepared.names.aliases[a.alias] = a.patient;
  // The progress rides in the chunk's write: it is durable exactly when the chunk is.
  batch.AddRaw("", std::string(kProgressPrefix) + before.source_id, ToJson(result.progress).dump());
  batch.records().back().alone = true;
  EDS_ASSIGN_OR_RETURN(
      prepared.write, store_.Prepare(batch.records(),
                                     {actor, "record.import",
                                      std::to_string(result.stored) + " records", before.source_id},
                                     batch.aliases()));
  return prepared;
}

bool BulkIngest::Shares(const ChunkNames& committing, const ReadChunk& next) {
  for (const auto& l : next.lines) {
    if (!l.resource || !l.resource->ok()) continue;
    const auto& r = **l.resource;
    if (committing.ids.count(r.resource_type + "/" + r.id) != 0) return true;
  }
  return false;
}

Result<ChunkResult> BulkIngest::Commit(PreparedChunk chunk) {
  EDS_RETURN_IF_ERROR(store_.Commit(std::move(chunk.write)));
  return std::move(chunk.result);
}

}  // namespace eds::ingest
