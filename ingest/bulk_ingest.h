// BulkIngest: FHIR Bulk Data NDJSON (one resource per line) into the store, one chunk of whole
// lines at a time. Each line is validated like a FHIR create/update; the valid ones are
// pseudonymised, their facts extracted, and stored in one durable write together with the
// import's progress, so an interrupted import resumes exactly after the last stored chunk.
// A resource already stored with the same content counts as a duplicate and is not rewritten;
// a bad line is rejected with its line number and reason and does not stop the others.
// Thread-safe; `store` and `pseudonymizer` must outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/result.h"
#include "ingest/fhir/reader.h"
#include "ingest/pseudonymizer.h"
#include "storage/store.h"

namespace eds::ingest {

// Where an import of one source (a file, named by a content-derived id) stands: what the next
// chunk starts at, and the running totals.
struct ImportProgress {
  std::string source_id;  // chosen by the client (e.g. a hash of the file's head and size)
  uint64_t offset = 0;    // bytes of the (decompressed) stream already stored
  uint64_t line = 1;      // 1-based number of the next line
  uint64_t stored = 0;
  uint64_t duplicates = 0;
  uint64_t rejected = 0;
};

struct RejectedLine {
  uint64_t line = 0;
  std::string reason;
  std::string expression;  // FHIRPath of the element at fault, when known
};

struct ChunkResult {
  uint64_t stored = 0;
  uint64_t duplicates = 0;
  std::vector<RejectedLine> rejected;
  ImportProgress progress;  // after this chunk (durable)
};

// A chunk's lines read and validated, not yet filed. Reading needs nothing from the store, so a
// caller may read the next chunk while the one before it is being stored.
struct ReadChunk {
  struct Line {
    uint64_t number = 0;
    std::optional<Result<fhir::ParsedResource>> resource;
    std::vector<fhir::Issue> issues;
  };
  std::vector<Line> lines;  // the non-empty ones
  uint64_t bytes = 0;       // size of the chunk as received
  uint64_t first_line = 1;  // number of the chunk's first line
  uint64_t end_line = 1;    // number of the line after the chunk
};

// What a chunk files that the next one, filed while this one commits, must not take from the
// store: the resources ("Type/id") and the aliases it adds.
struct ChunkNames {
  std::unordered_set<std::string> ids;
  PendingAliases aliases;
};

// A chunk filed and sealed, waiting for its commit.
struct PreparedChunk {
  ChunkResult result;
  storage::Store::PreparedWrite write;
  ChunkNames names;
};

class BulkIngest {
 public:
  BulkIngest(storage::Store& store, const Pseudonymizer& pseudonymizer);

  // The last durable progress of `source_id`, or nullopt when it never started.
  Result<std::optional<ImportProgress>> Progress(const std::string& source_id);

  // `chunk` holds whole lines (the last may lack its '\n'); it continues `before` (its offset
  // and line number say where the chunk starts; a caller resuming checks them against
  // Progress() first). Empty lines are skipped. Durable on return. Errors: kInvalidArgument
  // without a source id; kUnavailable/kInternal when the store cannot write (nothing of the
  // chunk is stored).
  Result<ChunkResult> IngestChunk(std::string_view chunk, const ImportProgress& before,
                                  const std::string& actor);

  // IngestChunk in two steps: Read (any thread, no store access) then Ingest, in chunk order.
  // Ingest fails with kInvalidArgument when `chunk` does not start at `before.line`.
  static ReadChunk Read(std::string_view chunk, uint64_t first_line);
  Result<ChunkResult> Ingest(ReadChunk chunk, const ImportProgress& before,
                             const std::string& actor);

  // Ingest in two steps, so that a chunk is filed and sealed while the one before it commits:
  // Prepare (given the chunk still committing, if any), then Commit, in chunk order. A chunk
  // that Shares a resource with the one committing must wait for that commit to be prepared:
  // its duplicate check asks the store before the store's own claim on the ids would make it
  // wait (storage::Store::Prepare), so it would miss what the committing chunk files.
  Result<PreparedChunk> Prepare(ReadChunk chunk, const ImportProgress& before,
                                const std::string& actor, const ChunkNames* committing);
  static bool Shares(const ChunkNames& committing, const ReadChunk& next);
  Result<ChunkResult> Commit(PreparedChunk chunk);

 private:
  storage::Store& store_;
  const Pseudonymizer& pseudonymizer_;
};

}  // namespace eds::ingest
