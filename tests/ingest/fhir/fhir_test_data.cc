#include "tests/ingest/fhir/fhir_test_data.h"

#include <zstd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "tests/testing/temp_dir.h"

namespace eds::ingest::fhir::testing {
namespace {

// Decompresses a file chunk by chunk; the archives use a 2^27 window (zstd --long=27), which
// needs the limit raised above libzstd's default.
class ZstdReader {
 public:
  explicit ZstdReader(const std::filesystem::path& path)
      : in_(path, std::ios::binary), ctx_(ZSTD_createDCtx(), ZSTD_freeDCtx) {
    ZSTD_DCtx_setParameter(ctx_.get(), ZSTD_d_windowLogMax, 27);
    in_buf_.resize(ZSTD_DStreamInSize());
    out_buf_.resize(ZSTD_DStreamOutSize());
    ok_ = in_.good();
  }

  // Everything that is left.
  std::string ReadAll() {
    while (Fill()) {
    }
    return pending_.substr(pending_pos_);
  }

  // Appends exactly `n` bytes to *out; false at the end of the data or on an error.
  bool Read(size_t n, std::string* out) {
    while (pending_.size() - pending_pos_ < n) {
      if (!Fill()) return false;
    }
    out->append(pending_, pending_pos_, n);
    pending_pos_ += n;
    return true;
  }

 private:
  bool Fill() {
    if (!ok_) return false;
    if (pending_pos_ > 0) {
      pending_.erase(0, pending_pos_);
      pending_pos_ = 0;
    }
    // A full output buffer means libzstd may hold more output: call again before reading.
    if (input_.pos == input_.size && !flushing_) {
      in_.read(in_buf_.data(), static_cast<std::streamsize>(in_buf_.size()));
      const auto got = static_cast<size_t>(in_.gcount());
      if (got == 0) return false;
      input_ = ZSTD_inBuffer{in_buf_.data(), got, 0};
    }
    ZSTD_outBuffer output{out_buf_.data(), out_buf_.size(), 0};
    const size_t rc = ZSTD_decompressStream(ctx_.get(), &output, &input_);
    if (ZSTD_isError(rc)) {
      std::fprintf(stderr, "zstd: %s\n", ZSTD_getErrorName(rc));
      ok_ = false;
      return false;
    }
    flushing_ = output.pos == output.size;
    pending_.append(out_buf_.data(), output.pos);
    return true;
  }

  std::ifstream in_;
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx_;
  std::string in_buf_;
  std::string out_buf_;
  ZSTD_inBuffer input_{nullptr, 0, 0};
  std::string pending_;
  size_t pending_pos_ = 0;
  bool ok_ = false;
  bool flushing_ = false;
};

size_t ParseOctal(const std::string& field) {
  size_t v = 0;
  for (char c : field) {
    if (c < '0' || c > '7') break;
    v = v * 8 + static_cast<size_t>(c - '0');
  }
  return v;
}

}  // namespace

std::string ReadZstdFile(const std::filesystem::path& path) {
  ZstdReader reader(path);
  return reader.ReadAll();
}

bool ForEachFileInTarZst(const std::filesystem::path& archive,
                         const std::function<void(const std::string&, const std::string&)>& fn) {
  ZstdReader reader(archive);
  std::string long_name;
  while (true) {
    std::string header;
    if (!reader.Read(512, &header)) return false;
    if (header.find_first_not_of('\0') == std::string::npos) return true;  // End blocks.
    const size_t size = ParseOctal(header.substr(124, 12));
    const char type = header[156];
    std::string content;
    if (!reader.Read(size, &content)) return false;
    std::string padding;
    if (size % 512 != 0 && !reader.Read(512 - size % 512, &padding)) return false;
    if (type == 'L') {  // GNU long name for the next header.
      long_name = content.c_str();
      continue;
    }
    std::string name = long_name.empty() ? header.substr(0, 100).c_str() : long_name;
    long_name.clear();
    if (type == '0' || type == '\0') fn(name, content);
  }
}

std::map<std::string, ManifestRow> ReadManifest(const std::filesystem::path& tsv) {
  std::map<std::string, ManifestRow> rows;
  std::istringstream in(eds::testing::ReadFileOrDie(tsv));
  std::string line;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::istringstream cols(line);
    std::string cell;
    while (std::getline(cols, cell, '\t')) cells.push_back(cell);
    if (header.empty()) {
      header = cells;
      continue;
    }
    if (cells.size() != header.size()) continue;
    ManifestRow row;
    for (size_t i = 1; i < cells.size(); ++i) {
      if (header[i] == "bytes") row.bytes = std::stoul(cells[i]);
      if (header[i] == "entries") row.entries = std::stoul(cells[i]);
      if (i >= 5) row.counts[header[i]] = std::stoul(cells[i]);
    }
    rows[cells[0]] = row;
  }
  return rows;
}

std::vector<std::string> NonEmptyLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.find_first_not_of(" \t\r") != std::string::npos)
      lines.push_back(line);
  }
  return lines;
}

}  // namespace eds::ingest::fhir::testing
