// File operations the library needs in several places, each written once.
//
// Replacing or publishing a file so that a crash leaves the old content or the new one, never a
// mix: write it under a temporary name, fsync it, rename it over the final name, fsync the
// directory.
//
//   scopeflow::write_file_atomically("data/input.offset", "4096\n");   // small files at once
//
//   scopeflow::UniqueFd part = scopeflow::UniqueFd::open("out/p-3.jsonl.tmp", O_WRONLY | O_CREAT);
//   part.write_all(lines, "write out/p-3.jsonl.tmp");
//   scopeflow::publish_file(part, "out/p-3.jsonl.tmp", "out/p-3.jsonl", /*durable=*/true);
//
// Errors are SystemError naming the step and the file; a failure before the rename leaves the
// final name as it was.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <scopeflow/core/unique_fd.h>

namespace scopeflow {

// Replaces `path` with `content` through "<path>.tmp" (removed again when the write fails).
void write_file_atomically(const std::string& path, std::string_view content);

// The last step of a file written under a temporary name: `file` (open on `from`) is fsynced
// when `durable`, closed, and `from` is renamed to `to`; when `durable` the directory of `to` is
// fsynced too, so the rename survives a power loss. The directory is opened before anything
// changes: out of descriptors, this throws with `file` still open and nothing renamed, so the
// caller may try again.
void publish_file(UniqueFd& file, const std::string& from, const std::string& to, bool durable);

// The same for a file the caller has already fsynced and closed (through another owner).
void rename_file(const std::string& from, const std::string& to, bool durable);

// The directory part of `path`: "out" for "out/a.jsonl", "." for "a.jsonl", "/" for "/a".
[[nodiscard]] std::string directory_of(const std::string& path);

// The names of the regular files in `directory`, sorted; SystemError when it cannot be read.
[[nodiscard]] std::vector<std::string> list_files(const std::string& directory);

}  // namespace scopeflow
