import RigorJSON
import RigorRunner

/// A piece of HTML that is already safe to put into a page: built only from literal markup and
/// `HTML.text` of everything else. Pages are assembled from these, never from raw strings, so
/// a value an agent wrote can reach the page only through the escaping below (agent output is
/// hostile input: `</script><img onerror=…>` must stay text).
public struct HTML: Sendable, ExpressibleByStringLiteral {
    public private(set) var markup: String

    /// Literal markup written in this module (never input).
    public init(stringLiteral value: String) { markup = value }
    init(unsafeMarkup: String) { markup = unsafeMarkup }
    public init() { markup = "" }

    /// Text, escaped for an element's content and for a quoted attribute value alike.
    public static func text(_ s: String) -> HTML { HTML(unsafeMarkup: HTMLText.escaped(s)) }

    /// A JSON value as pretty text, escaped.
    static func json(_ v: JSON?) -> HTML {
        guard let v else { return "—" }
        if case .string(let s) = v { return text(s) }
        let bytes = (try? v.prettyBytes()) ?? Array("?".utf8)
        var s = String(decoding: bytes, as: UTF8.self)
        if s.hasSuffix("\n") { s.removeLast() }
        return text(s)
    }

    /// A JSON value on one line (canonical), escaped and cut at `limit` characters.
    static func compact(_ v: JSON?, limit: Int = 160) -> HTML {
        guard let v else { return "—" }
        if case .null = v { return "null" }
        var s: String
        if case .string(let t) = v { s = t } else { s = (try? v.canonicalString()) ?? "?" }
        if s.count > limit { s = String(s.prefix(limit - 1)) + "…" }
        return text(s)
    }

    public static func + (a: HTML, b: HTML) -> HTML { HTML(unsafeMarkup: a.markup + b.markup) }
    public static func += (a: inout HTML, b: HTML) { a.markup += b.markup }

    static func join(_ parts: [HTML], _ separator: HTML = "") -> HTML {
        HTML(unsafeMarkup: parts.map(\.markup).joined(separator: separator.markup))
    }

    /// An `<a>` to a path built by `Link` (so the query is encoded) with escaped text.
    static func link(_ href: Link, _ label: HTML, cls: String? = nil) -> HTML {
        HTML(unsafeMarkup: "<a href=\"\(HTMLText.escaped(href.string))\"\(cls.map { " class=\"\($0)\"" } ?? "")>") + label + "</a>"
    }

    /// `<tag class=…>content</tag>` for literal tag and class names.
    static func element(_ tag: StaticString, cls: StaticString? = nil, _ content: HTML) -> HTML {
        HTML(unsafeMarkup: "<\(tag)\(cls.map { " class=\"\($0)\"" } ?? "")>") + content + HTML(unsafeMarkup: "</\(tag)>")
    }
}

/// A same-site URL: a path from literal segments and escaped ids, and a query whose names and
/// values are percent-encoded.
struct Link: Sendable {
    private(set) var string: String

    init(_ path: String, _ query: [(String, String)] = []) {
        string = path
        let pairs = query.filter { !$0.1.isEmpty }
        if !pairs.isEmpty { string += "?" + pairs.map { Self.encode($0.0) + "=" + Self.encode($0.1) }.joined(separator: "&") }
    }

    /// A path segment or query component: everything but unreserved characters is %-encoded.
    static func encode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: "@"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
            }
        }
        return out
    }

    static func run(_ id: String) -> Link { Link("/runs/" + encode(id)) }
}

extension JSON {
    subscript(path: String...) -> JSON? {
        var v: JSON? = self
        for p in path { v = v?[p] }
        return v
    }
}
