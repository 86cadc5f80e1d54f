// Test helpers for the FHIR reader suite: zstd files (plain or long-window) read with libzstd,
// a streaming reader of the Synthea bundles tarball, and its MANIFEST.tsv.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace eds::ingest::fhir::testing {

// The whole decompressed content of a .zst file (what could be read, on an error).
std::string ReadZstdFile(const std::filesystem::path& path);

// Calls `fn(name, content)` for each regular file of a .tar.zst archive, streaming, so the
// archive is never held in memory or on disk as a whole. Returns false on a format error.
bool ForEachFileInTarZst(const std::filesystem::path& archive,
                         const std::function<void(const std::string&, const std::string&)>& fn);

// One row of generated-sample-data-r4/MANIFEST.tsv.
struct ManifestRow {
  size_t bytes = 0;
  size_t entries = 0;
  std::map<std::string, size_t> counts;  // Encounter, Observation, Condition.
};

// Rows by file name.
std::map<std::string, ManifestRow> ReadManifest(const std::filesystem::path& tsv);

// The lines of `text` that are not empty (NDJSON records).
std::vector<std::string> NonEmptyLines(const std::string& text);

}  // namespace eds::ingest::fhir::testing
