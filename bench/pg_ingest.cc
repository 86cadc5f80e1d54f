// pg_ingest: the PostgreSQL side of the ingest benchmark (bench/run_ingest_benchmark.sh), with
// libpq. Run by hand, never by ctest. Both modes (re)create the table
//   resources(id bigserial, type text, resource jsonb)
// and load the first --rows lines of an NDJSON file into it:
//   pg_ingest copy --conninfo STR --ndjson FILE --rows N
//       one COPY ... FROM STDIN (text format) on one connection, committed at its end.
//   pg_ingest insert --conninfo STR --ndjson FILE --rows N [--connections 8]
//       single-row INSERTs (prepared, autocommit: one transaction each, the client waits for
//       its commit) from every connection, each on its own contiguous slice of the lines.
// Timing starts once every connection is open and ends when the last row is committed. Then
// CHECKPOINT, and one JSON line: rows, seconds, rows_per_s, failures, the peak RSS (VmHWM) of
// the loading backend(s) read from /proc while they are still connected (the largest one for
// insert; shared buffers they touched count), pg_total_relation_size of the table (heap, TOAST
// and indexes) and the WAL written meanwhile (pg_wal_lsn_diff). Exit status 1 on any error.
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/ingest_util.h"
#include "common/status_macros.h"

namespace eds::bench {
namespace {

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;

struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultCloser>;

Result<Conn> Connect(const std::string& conninfo) {
  Conn c(PQconnectdb(conninfo.c_str()));
  if (c == nullptr || PQstatus(c.get()) != CONNECTION_OK) {
    return UnavailableError("cannot connect to PostgreSQL: " +
                            std::string(c ? PQerrorMessage(c.get()) : "out of memory"));
  }
  // The table is recreated on a fresh cluster: its "does not exist, skipping" notice is noise.
  PQsetNoticeProcessor(
      c.get(), [](void*, const char*) {}, nullptr);
  return c;
}

// Runs `sql`; the first row's first column, or "" for a statement without rows.
Result<std::string> Exec(PGconn* c, const std::string& sql) {
  PgResult r(PQexec(c, sql.c_str()));
  const ExecStatusType s = PQresultStatus(r.get());
  if (s == PGRES_TUPLES_OK)
    return std::string(PQntuples(r.get()) > 0 ? PQgetvalue(r.get(), 0, 0) : "");
  if (s == PGRES_COMMAND_OK) return std::string();
  return UnavailableError(sql + ": " + PQerrorMessage(c));
}

Result<uint64_t> ExecNumber(PGconn* c, const std::string& sql) {
  EDS_ASSIGN_OR_RETURN(std::string v, Exec(c, sql));
  return static_cast<uint64_t>(std::strtoull(v.c_str(), nullptr, 10));
}

struct Options {
  std::string conninfo;
  std::string ndjson;
  uint64_t rows = 0;
  uint64_t connections = 1;
};

struct Totals {
  uint64_t rows = 0;
  uint64_t failures = 0;
  double seconds = 0;
  uint64_t peak_rss_kib = 0;
};

Status CreateTable(PGconn* c) {
  EDS_RETURN_IF_ERROR(Exec(c, "DROP TABLE IF EXISTS resources").status());
  return Exec(c, "CREATE TABLE resources(id bigserial, type text, resource jsonb)").status();
}

// One COPY of every line; backslashes doubled for the text format (compact JSON holds no raw
// tab or newline).
Result<Totals> Copy(const Options& o, const std::vector<uint64_t>& offsets) {
  EDS_ASSIGN_OR_RETURN(Conn c, Connect(o.conninfo));
  EDS_ASSIGN_OR_RETURN(uint64_t pid, ExecNumber(c.get(), "SELECT pg_backend_pid()"));
  EDS_ASSIGN_OR_RETURN(LineReader reader, LineReader::Open(o.ndjson, 0));
  const uint64_t lines = offsets.size() - 1;
  Totals t;
  const Clock::time_point t0 = Clock::now();
  {
    PgResult r(PQexec(c.get(), "COPY resources(type, resource) FROM STDIN"));
    if (PQresultStatus(r.get()) != PGRES_COPY_IN) {
      return UnavailableError(std::string("COPY: ") + PQerrorMessage(c.get()));
    }
  }
  std::string line;
  std::string buf;
  for (uint64_t i = 0; i < lines && reader.Next(line); ++i) {
    buf += ResourceTypeOf(line);
    buf += '\t';
    for (char ch : line) {
      if (ch == '\\') buf += '\\';
      buf += ch;
    }
    buf += '\n';
    if (buf.size() >= (1u << 20)) {
      if (PQputCopyData(c.get(), buf.data(), static_cast<int>(buf.size())) != 1) {
        return UnavailableError(std::string("COPY data: ") + PQerrorMessage(c.get()));
      }
      buf.clear();
    }
  }
  if ((!buf.empty() && PQputCopyData(c.get(), buf.data(), static_cast<int>(buf.size())) != 1) ||
      PQputCopyEnd(c.get(), nullptr) != 1) {
    return UnavailableError(std::string("COPY end: ") + PQerrorMessage(c.get()));
  }
  PgResult r(PQgetResult(c.get()));
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
    return UnavailableError(std::string("COPY: ") + PQerrorMessage(c.get()));
  }
  t.rows = std::strtoull(PQcmdTuples(r.get()), nullptr, 10);
  t.seconds = Seconds(t0, Clock::now());
  t.peak_rss_kib = PeakRssKib(static_cast<long>(pid));
  while (PgResult more{PQgetResult(c.get())}) {
  }
  return t;
}

Result<Totals> Insert(const Options& o, const std::vector<uint64_t>& offsets) {
  const uint64_t lines = offsets.size() - 1;
  std::vector<Conn> conns;
  std::vector<uint64_t> pids;
  for (uint64_t i = 0; i < o.connections; ++i) {
    EDS_ASSIGN_OR_RETURN(Conn c, Connect(o.conninfo));
    EDS_ASSIGN_OR_RETURN(uint64_t pid, ExecNumber(c.get(), "SELECT pg_backend_pid()"));
    PgResult r(PQprepare(c.get(), "insert_resource",
                         "INSERT INTO resources(type, resource) VALUES ($1, $2)", 2, nullptr));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      return UnavailableError(std::string("PREPARE: ") + PQerrorMessage(c.get()));
    }
    conns.push_back(std::move(c));
    pids.push_back(pid);
  }
  std::atomic<uint64_t> rows{0};
  std::atomic<uint64_t> failures{0};
  std::vector<std::string> first_error(o.connections);
  const auto slices = SplitLines(lines, o.connections);
  std::latch ready(static_cast<std::ptrdiff_t>(o.connections) + 1);
  std::latch go(1);
  std::vector<std::thread> threads;
  for (uint64_t k = 0; k < o.connections; ++k) {
    threads.emplace_back([&, k] {
      PGconn* c = conns[k].get();
      Result<LineReader> reader = LineReader::Open(o.ndjson, offsets[slices[k].first]);
      ready.count_down();
      go.wait();
      if (!reader.ok()) {
        first_error[k] = reader.status().ToString();
        failures += slices[k].second - slices[k].first;
        return;
      }
      std::string line;
      for (uint64_t i = slices[k].first; i < slices[k].second && reader->Next(line); ++i) {
        const std::string type = ResourceTypeOf(line);
        const char* values[2] = {type.c_str(), line.c_str()};
        PgResult r(PQexecPrepared(c, "insert_resource", 2, values, nullptr, nullptr, 0));
        if (PQresultStatus(r.get()) == PGRES_COMMAND_OK) {
          ++rows;
        } else {
          if (first_error[k].empty()) first_error[k] = PQerrorMessage(c);
          ++failures;
        }
      }
    });
  }
  ready.arrive_and_wait();
  const Clock::time_point t0 = Clock::now();
  go.count_down();
  for (auto& t : threads) t.join();
  Totals t;
  t.seconds = Seconds(t0, Clock::now());
  t.rows = rows.load();
  t.failures = failures.load();
  for (uint64_t pid : pids)
    t.peak_rss_kib = std::max(t.peak_rss_kib, PeakRssKib(static_cast<long>(pid)));
  for (const std::string& e : first_error) {
    if (!e.empty()) std::fprintf(stderr, "pg_ingest: first INSERT error: %s\n", e.c_str());
  }
  return t;
}

Status Run(const std::string& mode, Flags& flags) {
  Options o;
  EDS_ASSIGN_OR_RETURN(o.conninfo, flags.String("conninfo"));
  EDS_ASSIGN_OR_RETURN(o.ndjson, flags.String("ndjson"));
  EDS_ASSIGN_OR_RETURN(o.rows, flags.Number("rows"));
  if (mode == "insert") {
    EDS_ASSIGN_OR_RETURN(o.connections, flags.Number("connections", 8));
  }
  EDS_RETURN_IF_ERROR(flags.CheckAllUsed());
  EDS_ASSIGN_OR_RETURN(std::vector<uint64_t> offsets, IndexLines(o.ndjson, o.rows));
  if (offsets.size() - 1 < o.rows) {
    return OutOfRangeError(o.ndjson + " holds only " + std::to_string(offsets.size() - 1) +
                           " lines");
  }

  EDS_ASSIGN_OR_RETURN(Conn control, Connect(o.conninfo));
  EDS_RETURN_IF_ERROR(CreateTable(control.get()));
  EDS_ASSIGN_OR_RETURN(std::string wal0, Exec(control.get(), "SELECT pg_current_wal_lsn()"));
  Totals t;
  if (mode == "copy") {
    EDS_ASSIGN_OR_RETURN(t, Copy(o, offsets));
  } else {
    EDS_ASSIGN_OR_RETURN(t, Insert(o, offsets));
  }
  EDS_RETURN_IF_ERROR(Exec(control.get(), "CHECKPOINT").status());
  EDS_ASSIGN_OR_RETURN(uint64_t total,
                       ExecNumber(control.get(), "SELECT pg_total_relation_size('resources')"));
  EDS_ASSIGN_OR_RETURN(uint64_t heap,
                       ExecNumber(control.get(), "SELECT pg_relation_size('resources')"));
  EDS_ASSIGN_OR_RETURN(uint64_t wal,
                       ExecNumber(control.get(), "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '" +
                                                     wal0 + "')::bigint"));
  EDS_ASSIGN_OR_RETURN(uint64_t count, ExecNumber(control.get(), "SELECT count(*) FROM resources"));

  nlohmann::json j;
  j["mode"] = mode;
  j["connections"] = o.connections;
  j["rows"] = t.rows;
  j["rows_in_table"] = count;
  j["failures"] = t.failures;
  j["seconds"] = t.seconds;
  j["rows_per_s"] = t.seconds > 0 ? static_cast<double>(t.rows) / t.seconds : 0;
  j["peak_rss_mib"] = static_cast<double>(t.peak_rss_kib) / 1024.0;
  j["table_total_bytes"] = total;
  j["table_heap_bytes"] = heap;
  j["wal_bytes"] = wal;
  std::printf("%s\n", j.dump().c_str());
  return t.failures == 0 && count == o.rows
             ? OkStatus()
             : DataLossError(std::to_string(t.failures) + " rows failed, " + std::to_string(count) +
                             " in the table");
}

}  // namespace
}  // namespace eds::bench

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  eds::Result<eds::bench::Flags> flags = eds::bench::Flags::Parse(argc, argv, 2);
  eds::Status status = flags.status();
  if (status.ok() && (mode == "copy" || mode == "insert")) {
    status = eds::bench::Run(mode, *flags);
  } else if (status.ok()) {
    status = eds::InvalidArgumentError("usage: pg_ingest copy|insert --flag value ...");
  }
  if (!status.ok()) {
    std::fprintf(stderr, "pg_ingest: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
