import RigorSpec

/// One entry of the ledger.
///
/// The hashed entry is the JCS of `{"seq", "kind", "payload", "prev_hash"}`; `entryHash` is the
/// lowercase hex SHA-256 of those bytes and `prevHash` is the previous entry's `entryHash` (64
/// zeros for seq 1). Changing, removing or reordering any entry therefore breaks the chain at
/// that entry. spec/store.md gives the recipe and a standalone verifier.
public struct LedgerEntry: Sendable, Equatable {
    public var seq: Int
    /// What was recorded: "run", "baseline", "bundle_seal", ...
    public var kind: String
    public var payload: JSON
    public var prevHash: String
    public var entryHash: String

    /// The hashed part of the entry.
    var hashedJSON: JSON {
        ["seq": .int(seq), "kind": .string(kind), "payload": payload, "prev_hash": .string(prevHash)]
    }

    /// The entry as one line of `exportLedger` (JCS, with its `entry_hash`).
    public var json: JSON {
        ["seq": .int(seq), "kind": .string(kind), "payload": payload, "prev_hash": .string(prevHash),
         "entry_hash": .string(entryHash)]
    }
}

/// The `prev_hash` of the first entry.
let genesisHash = String(repeating: "0", count: 64)

/// Ledger operations on a connection, inside the caller's transaction.
package enum Ledger {
    /// Appends an entry after the current head. The caller holds a write transaction, so no
    /// other writer can append between reading the head and inserting.
    static func append(kind: String, payload: JSON, _ c: Connection) throws(StoreError) -> LedgerEntry {
        let head = try c.first("SELECT seq, entry_hash FROM ledger ORDER BY seq DESC LIMIT 1") { row in
            (seq: row.int(0) ?? 0, hash: String(decoding: hashText(row, 1), as: UTF8.self))
        }
        let (entry, payloadBytes) = try makeEntry(kind: kind, payload: payload, after: head)
        try c.run(
            "INSERT INTO ledger (seq, kind, payload, prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?)",
            [.integer(Int64(entry.seq)), .text(kind), .text(String(decoding: payloadBytes, as: UTF8.self)),
             hashValue(Array(entry.prevHash.utf8)), hashValue(Array(entry.entryHash.utf8))])
        return entry
    }

    /// The entry that follows `head` (nil: the first one), and its payload's JCS bytes as the
    /// row stores them. Refuses a kind that is not lowercase letters, digits and `_`, and a
    /// payload that is not an object. Every store appends through here, so every store's chain
    /// is computed the same way.
    package static func makeEntry(kind: String, payload: JSON, after head: (seq: Int, hash: String)?) throws(StoreError) -> (LedgerEntry, [UInt8]) {
        guard !kind.isEmpty, kind.utf8.allSatisfy({ (0x61...0x7a).contains($0) || $0 == 0x5f || (0x30...0x39).contains($0) }) else {
            throw .invalidLedgerEntry("kind '\(kind)' must be lowercase letters, digits and '_'")
        }
        guard case .object = payload else {
            throw .invalidLedgerEntry("the payload must be a JSON object, this is a \(payload.typeName)")
        }
        var entry = LedgerEntry(
            seq: (head?.seq ?? 0) + 1, kind: kind, payload: payload, prevHash: head?.hash ?? genesisHash, entryHash: "")
        do throws(CanonicalJSONError) {
            let payloadBytes = try payload.canonicalBytes(style: .jcs)
            entry.entryHash = Digest.sha256Hex(try entry.hashedJSON.canonicalBytes(style: .jcs))
            return (entry, payloadBytes)
        } catch {
            throw .invalidLedgerEntry(error.description)
        }
    }

    /// How a hash column stores a hash: 64 lowercase hex digits as their 32 bytes (a BLOB),
    /// anything else (a damaged row carried over by a migration) as the text it is.
    static func hashValue(_ text: [UInt8]) -> SQLValue {
        ColumnEncoding.digest(hex: String(decoding: text, as: UTF8.self)).map(SQLValue.blob) ?? .textBytes(text)
    }

    /// A hash column as the text it stands for: a BLOB as lowercase hex, TEXT as its bytes.
    static func hashText(_ row: Row, _ column: Int32) -> [UInt8] {
        row.isBlob(column) ? Array(ColumnEncoding.hex(row.bytes(column)).utf8) : row.bytes(column)
    }

    /// A ledger row exactly as stored, unvalidated: the bytes of each text column, and the hashes
    /// as the hex text they stand for.
    package struct RawRow: Sendable {
        package let seq: Int
        package let kind: [UInt8]
        package let payload: [UInt8]
        package let prevHash: [UInt8]
        package let entryHash: [UInt8]

        package init(seq: Int, kind: [UInt8], payload: [UInt8], prevHash: [UInt8], entryHash: [UInt8]) {
            self.seq = seq
            self.kind = kind
            self.payload = payload
            self.prevHash = prevHash
            self.entryHash = entryHash
        }

        /// The entry the row claims to be, if its columns read as one: valid UTF-8, and a payload
        /// that parses to an object and is stored in its canonical form (so that two spellings of
        /// one payload cannot both verify).
        func entry() -> LedgerEntry? {
            guard let kind = Self.utf8(kind), let prevHash = Self.utf8(prevHash), let entryHash = Self.utf8(entryHash),
                  let payload = try? JSON.parse(payload), case .object = payload,
                  (try? payload.canonicalBytes(style: .jcs)) == self.payload
            else { return nil }
            return LedgerEntry(seq: seq, kind: kind, payload: payload, prevHash: prevHash, entryHash: entryHash)
        }

        /// The text, if the bytes are valid UTF-8 (decoding repairs invalid bytes, so it round-trips
        /// exactly when they were valid).
        static func utf8(_ bytes: [UInt8]) -> String? {
            let text = String(decoding: bytes, as: UTF8.self)
            return Array(text.utf8) == bytes ? text : nil
        }

        /// The hash the entry should carry, recomputed from its content.
        func recomputedHash() -> [UInt8]? {
            guard let entry = entry(), let bytes = try? entry.hashedJSON.canonicalBytes(style: .jcs) else { return nil }
            return Array(Digest.sha256Hex(bytes).utf8)
        }
    }

    static func rawRows(_ c: Connection) throws(StoreError) -> [RawRow] {
        try c.query("SELECT seq, kind, payload, prev_hash, entry_hash FROM ledger ORDER BY seq") { row in
            RawRow(seq: row.int(0) ?? 0, kind: row.bytes(1), payload: row.bytes(2), prevHash: hashText(row, 3),
                   entryHash: hashText(row, 4))
        }
    }
}
