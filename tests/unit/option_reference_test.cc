// docs/configuration.md's option reference is generated from the schemas the types declare:
// this test fails when the committed text differs from what the code declares.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include <scopeflow/core/resources.h>

#include "service/catalog.h"

namespace scopeflow::service {
namespace {

TEST(OptionReferenceTest, ConfigurationMdHoldsTheGeneratedReference) {
    const Catalog catalog = standard_catalog(std::make_shared<Resources>());
    const std::string generated = options_reference(catalog);
    const std::filesystem::path doc =
        std::filesystem::path(SCOPEFLOW_SOURCE_DIR) / "docs" / "configuration.md";
    std::ostringstream read;
    read << std::ifstream(doc).rdbuf();
    std::string text = read.str();
    const auto begin = text.find(kReferenceBegin);
    const auto end = text.find(kReferenceEnd);
    ASSERT_NE(begin, std::string::npos) << doc << " lacks the line: " << kReferenceBegin;
    ASSERT_NE(end, std::string::npos) << doc << " lacks the line: " << kReferenceEnd;
    const std::size_t length = end + kReferenceEnd.size() + 1 - begin;  // with the newline
    const std::string committed = text.substr(begin, length);
    if (committed != generated && std::getenv("SCOPEFLOW_UPDATE_DOCS") != nullptr) {
        text.replace(begin, length, generated);
        std::ofstream(doc, std::ios::binary | std::ios::trunc) << text;
        GTEST_SKIP() << "rewrote the option reference in " << doc;
    }
    EXPECT_EQ(committed, generated)
        << doc << ": the option reference differs from the options the code declares; "
        << "regenerate it with: SCOPEFLOW_UPDATE_DOCS=1 build/tests/option_reference_test";
}

}  // namespace
}  // namespace scopeflow::service
