#include "service/scope_tree.h"

#include <utility>

#include <scopeflow/event/event_json.h>

namespace scopeflow::service {

// A scope, or (scope == false) a leaf: a resource or piece released or held at its parent.
struct ScopeTree::Node {
    std::string name;
    std::string path;
    bool scope = true;
    std::vector<std::pair<std::string, std::uint64_t>> live;  // kind -> entries, first-seen order
    std::vector<std::unique_ptr<Node>> items;                 // scopes and leaves, first-seen order

    Node& child(std::string_view child_name, bool child_scope) {
        if (child_scope) {
            for (auto& n : items) {
                if (n->scope && n->name == child_name) {
                    return *n;
                }
            }
        }
        auto n = std::make_unique<Node>();
        n->name = std::string(child_name);
        n->path = path.empty() ? n->name : path + "/" + n->name;
        n->scope = child_scope;
        items.push_back(std::move(n));
        return *items.back();
    }

    void text(std::string& out) const {
        out += name;
        if (items.empty()) {
            return;
        }
        out += " { ";
        for (std::size_t i = 0; i < items.size(); ++i) {
            out += i == 0 ? "" : ", ";
            items[i]->text(out);
        }
        out += " }";
    }

    void json(std::string& out) const {
        out += "{\"scope\":";
        append_json(Value(std::string_view(name)), out);
        out += ",\"path\":";
        append_json(Value(std::string_view(path)), out);
        out += ",\"live\":{";
        for (std::size_t i = 0; i < live.size(); ++i) {
            out += i == 0 ? "" : ",";
            append_json(Value(std::string_view(live[i].first)), out);
            out += ":" + std::to_string(live[i].second);
        }
        out += "},\"children\":[";
        bool first = true;
        for (const auto& n : items) {
            if (!n->scope) {
                continue;
            }
            out += first ? "" : ",";
            first = false;
            n->json(out);
        }
        out += "]}";
    }
};

ScopeTree::ScopeTree()
    : roots_(std::make_unique<Node>()) {}
ScopeTree::~ScopeTree() = default;
ScopeTree::ScopeTree(ScopeTree&&) noexcept = default;
ScopeTree& ScopeTree::operator=(ScopeTree&&) noexcept = default;

ScopeTree::Node& ScopeTree::at(std::string_view path) {
    if (path.empty()) {
        return roots_->child("(no scope)", true);
    }
    Node* node = roots_.get();
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t slash = path.find('/', start);
        const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
        node = &node->child(path.substr(start, end - start), true);
        start = end + 1;
    }
    return *node;
}

void ScopeTree::add(std::string_view path, std::string_view leaf) {
    at(path).child(leaf, false);
}

void ScopeTree::count(std::string_view path, std::string_view kind, std::uint64_t live) {
    Node& node = at(path);
    for (auto& [k, n] : node.live) {
        if (k == kind) {
            n += live;
            return;
        }
    }
    node.live.emplace_back(std::string(kind), live);
}

bool ScopeTree::empty() const noexcept {
    return roots_->items.empty();
}

std::string ScopeTree::text() const {
    std::string out;
    for (std::size_t i = 0; i < roots_->items.size(); ++i) {
        out += i == 0 ? "" : "; ";
        roots_->items[i]->text(out);
    }
    return out;
}

std::string ScopeTree::json() const {
    std::string out = "[";
    for (std::size_t i = 0; i < roots_->items.size(); ++i) {
        out += i == 0 ? "" : ",";
        roots_->items[i]->json(out);
    }
    return out + "]";
}

}  // namespace scopeflow::service
