import RigorSpec

/// What a store's zstd dictionaries are trained on and used for.
enum DictionaryPurpose: String, CaseIterable, Sendable {
    /// Stable parts (the `blobs` table).
    case stable
    /// Runs' volatile parts (`runs.volatile`).
    case volatile

    /// The store trains a purpose's dictionary once it holds this many items of it.
    static let trainingThreshold = 32
    /// At most this many items, evenly spread over the store, are training samples...
    static let maximumSamples = 256
    /// ...holding at most this many bytes.
    static let maximumSampleBytes = 4 << 20
    /// Items recompressed with a new dictionary in the transaction that adds it (the rest: `gc`).
    static let recompressedWhenTrained = 1024
    /// A store smaller than this is VACUUMed after a training rewrote some of its rows.
    static let vacuumAfterTrainingBelow = 8 << 20

    /// Largest dictionary to train. Measured on 1,100 artifacts of `rigor batch --pairings all
    /// --seeds 0..99` (spec/store.md, section 3).
    var capacity: Int {
        switch self {
        case .stable: return 32 * 1024
        case .volatile: return 4 * 1024
        }
    }

    var table: (name: String, key: String) {
        switch self {
        case .stable: return ("blobs", "id")
        case .volatile: return ("runs", "ledger_seq")
        }
    }
}

/// The dictionaries of a store as read at one moment: every usable one by id, and the newest
/// usable one of each purpose, which is what new data is compressed with.
struct DictionarySet: Sendable {
    var byID: [Int: ZstdDictionary] = [:]
    /// Dictionaries whose rows do not load, with the reason.
    var broken: [Int: String] = [:]
    var current: [DictionaryPurpose: ZstdDictionary] = [:]
    /// Purposes that have had a training (even one that produced no dictionary).
    var trained: Set<DictionaryPurpose> = []
    var maximumID = 0

    /// The dictionary a frame names (0: none); throws if the store does not have it.
    func lookup(_ id: Int) throws(CodecError) -> ZstdDictionary? {
        if id == 0 { return nil }
        if let dictionary = byID[id] { return dictionary }
        throw CodecError(reason: broken[id] ?? "dictionary \(id) is not in the store")
    }

    /// A run's stored volatile part, decompressed with the dictionary its frame names.
    func decodeVolatile(_ frame: [UInt8]) throws(CodecError) -> [UInt8] {
        try Zstd.decompress(frame, dictionary: try lookup(Zstd.frameDictionaryID(frame)))
    }

    /// A blob's bytes, decompressed with the dictionary its codec names (unchecked against its address).
    func decode(_ blob: StoredBlob) throws(CodecError) -> [UInt8] {
        let dictionary = try lookup(try Zstd.dictionaryID(codec: blob.codec) ?? 0)
        return try Zstd.decompress(blob.data, expectedSize: blob.size, dictionary: dictionary)
    }
}

/// An item (blob or volatile part) read for recompression.
private struct StoredItem {
    let id: Int64
    /// The row's other identifying column as read (blob: sha256, run: run_id), for the update's check.
    let identity: SQLValue
    let data: [UInt8]
    let dictionary: Int
    let content: [UInt8]
}

extension RunStore {
    /// The store's dictionaries, loading those not in this `RunStore`'s cache. Needs the lock
    /// (`withConnection`). Only committed dictionaries are ever cached: no transaction that adds a
    /// dictionary reads through here before it commits.
    func dictionaries(_ c: Connection) throws(StoreError) -> DictionarySet {
        let rows = try c.query("SELECT id, purpose, length(data) FROM dictionaries ORDER BY id") {
            (id: $0.int(0) ?? 0, purpose: $0.text(1) ?? "", size: $0.int(2) ?? 0)
        }
        var set = DictionarySet()
        for row in rows {
            set.maximumID = max(set.maximumID, row.id)
            guard let purpose = DictionaryPurpose(rawValue: row.purpose) else { continue }
            set.trained.insert(purpose)
            guard row.size > 0 else { continue }  // a training that produced nothing
            if let cached = dictionaryCache[row.id] {
                set.byID[row.id] = cached
            } else {
                let data = try c.first("SELECT data FROM dictionaries WHERE id = ?", [.integer(Int64(row.id))]) { $0.bytes(0) } ?? []
                do throws(CodecError) {
                    let dictionary = try ZstdDictionary(id: row.id, data: data)
                    dictionaryCache[row.id] = dictionary
                    set.byID[row.id] = dictionary
                } catch {
                    set.broken[row.id] = "dictionary \(row.id) cannot be loaded (\(error.reason))"
                }
            }
            // The newest row of a purpose decides; if it does not load, new data goes without one.
            set.current[purpose] = set.byID[row.id]
        }
        return set
    }

    /// After a recording: trains the first dictionary of each purpose once the store holds
    /// `trainingThreshold` items of it. Best effort: the runs are recorded already, and a failure
    /// here (another writer holding the lock too long, say) only means a later recording trains.
    ///
    /// The recompressed rows shrink in place, leaving their pages partly empty, and rows are
    /// appended at the end of their tables: a store that is still small (below
    /// `vacuumAfterTrainingBelow`) is VACUUMed right away (a few milliseconds), a larger one (a
    /// store migrated from version 1) waits for `gc`.
    /// Returns how many items the trainings rewrote.
    @discardableResult
    func trainIfDue(_ c: Connection, _ set: DictionarySet, vacuum: Bool = true) -> Int {
        var rewritten = 0
        for purpose in DictionaryPurpose.allCases where !set.trained.contains(purpose) {
            let items = (try? c.first("SELECT count(*) FROM \(purpose.table.name)") { $0.int(0) ?? 0 }) ?? nil
            guard let items, items >= DictionaryPurpose.trainingThreshold else { continue }
            rewritten += (try? train(purpose, c)) ?? 0
        }
        guard rewritten > 0, vacuum else { return rewritten }
        let size = (try? c.first("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()") { $0.int(0) ?? 0 }) ?? nil
        if let size, size < DictionaryPurpose.vacuumAfterTrainingBelow {
            try? c.execute("VACUUM")
        }
        return rewritten
    }

    /// Trains a dictionary for `purpose` from a spread of the stored items and recompresses the
    /// first `recompressedWhenTrained` items with it. The samples are read in one snapshot and the
    /// dictionary is trained outside any transaction; the write transaction then checks that no
    /// other writer added a dictionary meanwhile (else it gives up, keeping theirs), so a store
    /// gets one dictionary per purpose however many processes record into it.
    /// Returns how many items it rewrote.
    private func train(_ purpose: DictionaryPurpose, _ c: Connection) throws(StoreError) -> Int {
        let snapshot = try c.readTransaction { () throws(StoreError) -> (set: DictionarySet, samples: [[UInt8]], items: [StoredItem])? in
            let set = try dictionaries(c)
            guard !set.trained.contains(purpose) else { return nil }
            let table = purpose.table
            let ids = try c.query("SELECT \(table.key) FROM \(table.name) ORDER BY \(table.key)") { Int64($0.int(0) ?? 0) }
            guard ids.count >= DictionaryPurpose.trainingThreshold else { return nil }
            let step = max(1, ids.count / DictionaryPurpose.maximumSamples)
            var samples: [[UInt8]] = [], sampleBytes = 0
            for index in stride(from: 0, to: ids.count, by: step) where samples.count < DictionaryPurpose.maximumSamples {
                guard let item = try read(purpose, id: ids[index], c, set) else { continue }
                guard sampleBytes + item.content.count <= DictionaryPurpose.maximumSampleBytes else { break }
                samples.append(item.content)
                sampleBytes += item.content.count
            }
            var items: [StoredItem] = []
            for id in ids.prefix(DictionaryPurpose.recompressedWhenTrained) {
                if let item = try read(purpose, id: id, c, set, onlyWithoutDictionary: true) { items.append(item) }
            }
            return (set, samples, items)
        }
        guard let snapshot else { return 0 }
        // Frames name their dictionary, so ids are never reused; zstd reserves those below 32768.
        let id = max(snapshot.set.maximumID, 32767) + 1
        var dictionary: ZstdDictionary?
        if let data = Zstd.trainDictionary(
            samples: snapshot.samples, capacity: purpose.capacity, id: id, level: Zstd.dictionaryLevel) {
            dictionary = try? ZstdDictionary(id: id, data: data)
        }
        let updates = dictionary.map { recompressed(snapshot.items, with: $0) } ?? []
        let rewritten = try c.immediateTransaction { () throws(StoreError) -> Int? in
            let now = try c.first("SELECT coalesce(max(id), 0), count(*) FILTER (WHERE purpose = ?) FROM dictionaries",
                                  [.text(purpose.rawValue)]) { (maximum: $0.int(0) ?? 0, count: $0.int(1) ?? 0) }
            guard now?.maximum == snapshot.set.maximumID, now?.count == 0 else { return nil }
            try c.run("INSERT INTO dictionaries (id, purpose, data) VALUES (?, ?, ?)",
                      [.integer(Int64(id)), .text(purpose.rawValue), .blob(dictionary?.data ?? [])])
            var rewritten = 0
            for (item, data) in updates {
                try update(purpose, item, data: data, c)
                rewritten += c.changes
            }
            return rewritten
        }
        if rewritten != nil, let dictionary { dictionaryCache[id] = dictionary }
        return rewritten ?? 0
    }

    /// Recompresses, with the current dictionaries, every stored item that has none (written
    /// before the dictionary existed, by schema version 1, or by a writer that raced its
    /// training). Returns how many items it rewrote.
    func recompressWithoutDictionary(_ c: Connection) throws(StoreError) -> Int {
        var rewritten = 0
        for purpose in DictionaryPurpose.allCases {
            var after: Int64 = -1
            while true {
                let batch = try c.readTransaction { () throws(StoreError) -> (items: [StoredItem], last: Int64?, set: DictionarySet) in
                    let set = try dictionaries(c)
                    guard set.current[purpose] != nil else { return ([], nil, set) }
                    let table = purpose.table
                    let filter = purpose == .stable ? " AND codec = '\(Zstd.codecName)'" : ""
                    let ids = try c.query(
                        "SELECT \(table.key) FROM \(table.name) WHERE \(table.key) > ?\(filter) ORDER BY \(table.key) LIMIT 512",
                        [.integer(after)]) { Int64($0.int(0) ?? 0) }
                    var items: [StoredItem] = []
                    for id in ids {
                        if let item = try read(purpose, id: id, c, set, onlyWithoutDictionary: true) { items.append(item) }
                    }
                    return (items, ids.last, set)
                }
                guard let last = batch.last, let dictionary = batch.set.current[purpose] else { break }
                after = last
                let updates = recompressed(batch.items, with: dictionary)
                if updates.isEmpty { continue }
                try c.immediateTransaction { () throws(StoreError) in
                    for (item, data) in updates {
                        try update(purpose, item, data: data, c)
                        rewritten += c.changes
                    }
                }
            }
        }
        return rewritten
    }

    /// The item's row and content; nil if it is gone or does not decode (damage stays where it
    /// is, for `verifyBlobs` to report).
    private func read(
        _ purpose: DictionaryPurpose, id: Int64, _ c: Connection, _ set: DictionarySet, onlyWithoutDictionary: Bool = false
    ) throws(StoreError) -> StoredItem? {
        switch purpose {
        case .stable:
            let row = try c.first("SELECT sha256, codec, size, data FROM blobs WHERE id = ?", [.integer(id)]) { row in
                (sha256: row.bytes(0), isBlob: row.isBlob(0), blob: StoredBlob(codec: row.text(1) ?? "", size: row.int(2) ?? -1, data: row.bytes(3)))
            }
            guard let row, row.isBlob, !onlyWithoutDictionary || row.blob.codec == Zstd.codecName,
                  let content = try? set.decode(row.blob),
                  Digest.sha256Hex(content) == ColumnEncoding.hex(row.sha256) else { return nil }
            let dictionary = ((try? Zstd.dictionaryID(codec: row.blob.codec)) ?? nil) ?? 0
            return StoredItem(id: id, identity: .blob(row.sha256), data: row.blob.data, dictionary: dictionary, content: content)
        case .volatile:
            let row = try c.first("SELECT volatile FROM runs WHERE ledger_seq = ?", [.integer(id)]) { $0.bytes(0) }
            guard let row, !onlyWithoutDictionary || Zstd.frameDictionaryID(row) == 0,
                  let content = try? set.decodeVolatile(row) else { return nil }
            return StoredItem(id: id, identity: .blob(row), data: row, dictionary: Zstd.frameDictionaryID(row), content: content)
        }
    }

    /// New frames for the items that get smaller with `dictionary`.
    private func recompressed(_ items: [StoredItem], with dictionary: ZstdDictionary) -> [(StoredItem, [UInt8])] {
        items.compactMap { item in
            guard let data = try? Zstd.compress(item.content, dictionary: dictionary), data.count < item.data.count,
                  (try? Zstd.decompress(data, expectedSize: item.content.count, dictionary: dictionary)) == item.content
            else { return nil }
            return (item, data)
        }
    }

    /// Rewrites one item's frame, if the row still holds what was read.
    private func update(_ purpose: DictionaryPurpose, _ item: StoredItem, data: [UInt8], _ c: Connection) throws(StoreError) {
        switch purpose {
        case .stable:
            let codec = Zstd.codec(dictionary: Zstd.frameDictionaryID(data))
            try c.run("UPDATE blobs SET codec = ?, data = ? WHERE id = ? AND sha256 = ? AND data = ?",
                      [.text(codec), .blob(data), .integer(item.id), item.identity, .blob(item.data)])
        case .volatile:
            try c.run("UPDATE runs SET volatile = ? WHERE ledger_seq = ? AND volatile = ?",
                      [.blob(data), .integer(item.id), .blob(item.data)])
        }
    }
}
