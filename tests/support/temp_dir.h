// TempDir: a fresh directory for one test, unique under $TMPDIR (mkdtemp), removed with all it
// holds when the TempDir is destroyed. Plus the two file helpers tests use with it.
//
//   testing::TempDir dir;                          // $TMPDIR/scopeflow-<test name>-XXXXXX
//   write_file(dir / "in.jsonl", "{\"n\":1}\n");
//   EXPECT_EQ(read_file(dir / "out.jsonl"), ...);
#pragma once

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include <gtest/gtest.h>
#include <stdlib.h>  // mkdtemp

namespace scopeflow::testing {

class TempDir {
public:
    // `tag` names the directory ("scopeflow-<tag>-XXXXXX"); empty: the running test's name.
    explicit TempDir(std::string_view tag = {}) {
        std::string name(tag);
        if (name.empty()) {
            const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
            name = info != nullptr ? info->name() : "test";
        }
        for (char& c : name) {
            c = c == '/' ? '_' : c;  // parameterized tests are named "Name/0"
        }
        std::string tmpl =
            (std::filesystem::temp_directory_path() / ("scopeflow-" + name + "-XXXXXX")).string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
        }
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const { return path_; }
    [[nodiscard]] std::filesystem::path operator/(std::string_view name) const {
        return path_ / name;
    }

private:
    std::filesystem::path path_;
};

// The whole content of `p` ("" when it cannot be read).
inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Replaces the content of `p` with `text`.
inline void write_file(const std::filesystem::path& p, std::string_view text) {
    std::ofstream(p, std::ios::binary) << text;
}

}  // namespace scopeflow::testing
