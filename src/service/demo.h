// `scopeflow demo`: the seed example working end to end, with nothing to install or configure.
//
//   DatabaseReader (sql source over SQLite seeded with sample orders; PostgreSQL with --postgres)
//     -> FileProcessor (each order written to a temp file, published atomically)
//     -> ApiUploader   (http_post: batches POSTed over kept-alive, pooled sessions to the demo's
//                       own ingest endpoint on loopback)
//     -> Notification  (a line per order in a per-worker log)
//   dead letter: a file sink.
//
// --simulate-failures[=SEED] injects, seeded and reproducible: database disconnects (a lease of
// the database fails as a lost connection would; the source retries), write errors in the
// FileProcessor, HTTP 503s and timeouts from the ingest endpoint (the uploader retries with
// backoff), and exceptions in the Notification stage (dead-lettered).
//
// It ends with a report: rows, events read, published files, uploaded (unique and duplicate),
// notifications, dead-lettered, retries, and leaks: ledger entries, file descriptors, temp files
// left, child processes. Exit status: 0 when every row is accounted for (through every stage,
// or dead-lettered) and nothing leaked; kExitLeaked or kExitFailure otherwise.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace scopeflow::service {

struct DemoOptions {
    std::uint64_t rows = 5000;
    std::optional<std::string> simulate_failures;  // the seed
    bool monitor_resources = false;
    std::string directory;  // work directory; empty: a new one under $TMPDIR, removed at the end
    bool keep = false;      // keep the work directory
    std::size_t workers = 2;
    // PostgreSQL instead of SQLite: host:port/dbname/user, password from this env variable.
    std::string postgres;  // "host:port/dbname/user"
    std::string postgres_password_env = "PGPASSWORD";
};

int run_demo(const DemoOptions& options);

}  // namespace scopeflow::service
