import Foundation
import RigorSpec

/// The project's signing key: `<state dir>/keys/rigor-ed25519.key`, an Ed25519 private key (its
/// 32-byte seed as 64 hex digits; the file `rigor keys generate` writes by default), made on
/// first use from the system's random source, with its public half beside it (`.pub`).
///
/// Created like the world key (`WorldKeyFile`): whole or not at all, never through a symlink,
/// mode 0600 from the first byte. The public half is what `rigor verify --intentproof` checks
/// against by default and what `rigor keys show` prints for others.
public enum IntentProofKeyFile {
    public static let fileName = "keys/rigor-ed25519.key"

    /// The signer from `keyFile` when given (64 hex digits or base64 of the 32-byte seed), else
    /// the state directory's key, made when `create` and missing.
    public static func signer(keyFile: String?, stateDirectory: String, create: Bool = true) throws(RunnerError) -> IntentProofSigner {
        if let keyFile {
            guard let text = try readSmall(keyFile, what: "an IntentProof private key") else {
                throw .usage("key file '\(keyFile)' does not exist; give a file holding an Ed25519 private key (64 hex digits or base64)")
            }
            do { return try IntentProofSigner(text: text) } catch { throw .usage("key file '\(keyFile)': \(error.description)") }
        }
        let path = "\(stateDirectory)/\(fileName)"
        if let text = try readSmall(path, what: "the IntentProof key") {
            do { return try IntentProofSigner(text: text) } catch {
                throw .io("'\(path)' does not hold an IntentProof key (\(error.description)); restore it from a backup, or remove it to make a new one (files signed with the old key then verify only with its public key)")
            }
        }
        guard create else {
            throw .usage("there is no IntentProof key at '\(path)' yet; export a run first (rigor export intentproof RUN --out FILE) or pass --pubkey")
        }
        return try make(path, in: stateDirectory)
    }

    /// A small text file, or nil when it does not exist. Refuses links and anything but a plain file.
    static func readSmall(_ path: String, what: String) throws(RunnerError) -> String? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            if errno == ELOOP { throw .io("'\(path)' is a symbolic link; \(what) must be a plain file") }
            throw .io("cannot read \(what) '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw .io("'\(path)' is not a regular file; \(what) must be a plain file") }
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
        guard n > 0, n < 512 else { throw .usage("'\(path)' does not hold \(what) (it is empty or too long)") }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }

    private static func make(_ path: String, in stateDirectory: String) throws(RunnerError) -> IntentProofSigner {
        let directory = (path as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) } catch {
            throw .io("cannot create the state directory '\(directory)': \(error.localizedDescription)")
        }
        var seed = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for i in seed.indices { seed[i] = generator.next() }
        let signer: IntentProofSigner
        do { signer = try IntentProofSigner(seed: seed) } catch { throw .internal(error.description) }
        let temporary = "\(directory)/.rigor-ed25519.key.\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io("cannot create the IntentProof key in '\(directory)': \(String(cString: strerror(errno)))") }
        let bytes = Array((Digest.hex(seed) + "\n").utf8)
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        defer { unlink(temporary) }
        guard written == bytes.count else { throw .io("cannot write the IntentProof key in '\(directory)'") }
        if link(temporary, path) != 0 {
            // Another process made it first: use theirs.
            guard errno == EEXIST, let theirs = try readSmall(path, what: "the IntentProof key") else {
                throw .io("cannot create the IntentProof key '\(path)': \(String(cString: strerror(errno)))")
            }
            do { return try IntentProofSigner(text: theirs) } catch { throw .io("'\(path)': \(error.description)") }
        }
        let pub = (path as NSString).deletingPathExtension + ".pub"
        try? ArtifactFile.writeAtomically(Array((Digest.hex(signer.publicKey.raw) + "\n").utf8), to: pub)
        return signer
    }
}
